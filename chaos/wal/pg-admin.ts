/**
 * PostgreSQL plumbing for the WAL faults: superuser connections with timeouts, and server settings
 * changed with ALTER SYSTEM + pg_reload_conf(), each recorded as debris first and verified by
 * reading pg_settings back (the value must come from postgresql.auto.conf, and be gone after reset).
 */
import { Client } from 'pg';
import { HarnessError } from '../../core/exit-codes';
import type { DebrisRecorder } from '../../stack/debris';
import { recordDebris } from '../define-fault';
import { waitFor } from '../util';
import { resetSystemSettings } from './pg-debris';

export async function connectSuperuser(url: string, applicationName = 'lagstorm-chaos'): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000, query_timeout: 60_000, application_name: applicationName });
  client.on('error', () => undefined); // a crashed server must not crash the harness; the next query reports it
  await client.connect();
  return client;
}

/** Runs fn with a short-lived superuser connection. */
export async function withSuperuser<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectSuperuser(url);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface SettingRow {
  setting: string;
  source: string;
  sourcefile: string | null;
}

async function readSetting(client: Client, name: string): Promise<SettingRow> {
  const { rows } = await client.query<SettingRow>('SELECT setting, source, sourcefile FROM pg_settings WHERE name = $1', [name]);
  if (rows.length > 0) return rows[0];
  // A custom setting (extension.name) exists only once something defines it: unset = empty.
  if (name.includes('.')) return { setting: '', source: 'default', sourcefile: null };
  throw new HarnessError(`PostgreSQL has no setting "${name}"`);
}

const fromAutoConf = (row: SettingRow) => row.source === 'configuration file' && (row.sourcefile ?? '').endsWith('postgresql.auto.conf');

/** Where the setting comes from; 'command line' settings cannot be changed by ALTER SYSTEM. */
export async function settingSource(url: string, name: string): Promise<string> {
  return withSuperuser(url, async (client) => (await readSetting(client, name)).source);
}

export class SystemSettings {
  private readonly applied = new Map<string, { forget: () => void; before: string }>();

  constructor(
    private readonly url: string,
    private readonly debris: DebrisRecorder,
  ) {}

  private libraries: string[] = [];

  /**
   * ALTER SYSTEM SET each, reload, and verify each is live; undoes all of them if any fails.
   * `load`: libraries to LOAD first, so ALTER SYSTEM knows their custom settings.
   */
  async set(settings: Record<string, string>, load: string[] = []): Promise<void> {
    this.libraries = load;
    try {
      await withSuperuser(this.url, async (client) => {
        for (const library of load) await client.query(`LOAD ${client.escapeLiteral(library)}`);
        for (const [name, value] of Object.entries(settings)) {
          const before = await readSetting(client, name);
          if (before.source === 'command line') {
            throw new HarnessError(`PostgreSQL setting ${name} is given on the server command line (-c), which ALTER SYSTEM cannot override; start PostgreSQL with it in postgresql.conf instead`);
          }
          const forget = recordDebris(this.debris, { kind: 'pg-setting', superuserUrl: this.url, setting: name });
          this.applied.set(name, { forget, before: before.setting });
          await client.query(`ALTER SYSTEM SET ${client.escapeIdentifier(name)} = ${client.escapeLiteral(value)}`);
        }
        await client.query('SELECT pg_reload_conf()');
        for (const name of Object.keys(settings)) {
          await waitFor(`${name} to come from postgresql.auto.conf after pg_reload_conf()`, async () => {
            const errors = await client.query<{ error: string }>("SELECT error FROM pg_file_settings WHERE name = $1 AND error IS NOT NULL", [name]);
            if (errors.rows.length > 0) throw new HarnessError(`PostgreSQL rejected ${name}: ${errors.rows[0].error}`);
            return fromAutoConf(await readSetting(client, name)) ? true : undefined;
          }, 5000);
        }
      });
    } catch (error) {
      await this.resetAll().catch(() => undefined);
      throw error;
    }
  }

  /** ALTER SYSTEM RESET every setting this object changed, reload, verify; idempotent. */
  async resetAll(): Promise<void> {
    if (this.applied.size === 0) return;
    await withSuperuser(this.url, async (client) => {
      for (const library of this.libraries) await client.query(`LOAD ${client.escapeLiteral(library)}`);
      await resetSystemSettings(client, this.applied.keys());
      for (const [name, { forget, before }] of this.applied) {
        await waitFor(`${name} to be back at ${before}`, async () => {
          const row = await readSetting(client, name);
          return !fromAutoConf(row) && row.setting === before ? true : undefined;
        }, 5000);
        forget();
        this.applied.delete(name);
      }
    });
  }
}

export async function currentWalLsn(client: Client): Promise<string> {
  return (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
}

export async function walBytesSince(client: Client, lsn: string): Promise<number> {
  return Number((await client.query<{ bytes: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint AS bytes', [lsn])).rows[0].bytes);
}
