/**
 * PostgreSQL objects the WAL faults leave while active: ALTER SYSTEM settings (`pg-setting`) and
 * replication slots (`pg-slot`). One function each for the heal and for `lagstorm cleanup`.
 */
import { Client } from 'pg';
import { HarnessError } from '../../core/exit-codes';
import type { DebrisUndoer, DebrisUndoers, UndoCallOptions, UndoResult } from '../../stack/undo-debris';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** ALTER SYSTEM RESET each setting, then one pg_reload_conf(). */
export async function resetSystemSettings(client: Client, names: Iterable<string>): Promise<void> {
  for (const name of names) await client.query(`ALTER SYSTEM RESET ${client.escapeIdentifier(name)}`);
  await client.query('SELECT pg_reload_conf()');
}

/** Drops a replication slot (ending a backend that holds it) and reads back that it is gone; 'absent' if there was none. */
export async function dropReplicationSlot(client: Client, slot: string): Promise<'dropped' | 'absent'> {
  const found = await client.query<{ active_pid: number | null }>('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  if (found.rows.length === 0) return 'absent';
  if (found.rows[0].active_pid) await client.query('SELECT pg_terminate_backend($1)', [found.rows[0].active_pid]);
  await client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  const left = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  if (left.rows.length > 0) throw new HarnessError(`replication slot ${slot} still exists after dropping it`);
  return 'dropped';
}

/** A short connection for cleanup; a server that is not reachable has nothing left to undo. */
async function withCleanupClient(url: string, options: UndoCallOptions, action: (client: Client) => Promise<UndoResult>): Promise<UndoResult> {
  const timeoutMs = options.callTimeoutMs ?? 3000;
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs, query_timeout: timeoutMs });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    return { outcome: 'absent', detail: `PostgreSQL not reachable (${(error as Error).message}); nothing to undo there` };
  }
  try {
    return await action(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const undoPgSetting: DebrisUndoer<{ kind: 'pg-setting'; superuserUrl: string; setting: string }> = (item, options) =>
  withCleanupClient(item.superuserUrl, options, async (client) => {
    if (!IDENTIFIER.test(item.setting)) return { outcome: 'failed', detail: `refusing odd setting name ${JSON.stringify(item.setting)}` };
    await resetSystemSettings(client, [item.setting]);
    return { outcome: 'undone', detail: 'ALTER SYSTEM RESET + reload' };
  });

export const undoPgSlot: DebrisUndoer<{ kind: 'pg-slot'; superuserUrl: string; slot: string }> = (item, options) =>
  withCleanupClient(item.superuserUrl, options, async (client) =>
    (await dropReplicationSlot(client, item.slot)) === 'dropped' ? { outcome: 'undone', detail: 'slot dropped' } : { outcome: 'absent', detail: 'no such slot' },
  );

export const pgDebrisUndoers = { 'pg-setting': undoPgSetting, 'pg-slot': undoPgSlot } satisfies DebrisUndoers;
