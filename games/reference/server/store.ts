/**
 * Every SQL statement of the game: load players, write one group-commit batch (set-based, one
 * statement per table through jsonb_to_recordset), look up stored results, and the admin reads.
 */
import type { FinalSnapshot } from '../rules/snapshot';
import { checksum, type GuildBank, type LedgerEntry, type PlayerState } from '../rules';
import { timedQuery, type Queryable } from './database';
import type { BackendMetrics } from './metrics';

export interface StoredPlayer {
  state: PlayerState;
  resumeToken: string;
}

/** One action-log row, exactly as the admin snapshot reports it. */
export type ActionLogRow = FinalSnapshot['actions'][number];

export interface LedgerRow extends LedgerEntry {
  player: string;
  seq: number | null;
}

export interface GiftRow {
  from: string;
  to: string;
  amount: number;
  senderSeq: number;
  recipientVersion: number;
}

/** Everything one group-commit transaction writes. */
export interface BatchWrite {
  created: StoredPlayer[];
  /** Existing players' new states, each guarded by the version the writer started from. */
  updated: Array<{ state: PlayerState; previousVersion: number }>;
  actions: ActionLogRow[];
  ledger: LedgerRow[];
  gifts: GiftRow[];
  /** Guild banks' new states: previousVersion null creates the bank, else guards the update like a player's. */
  banks?: Array<{ bank: GuildBank; previousVersion: number | null }>;
}

interface PlayerRow {
  id: string;
  gold: string;
  gems: number;
  level: number;
  xp: number;
  inventory: PlayerState['inventory'];
  version: number;
  last_seq: number;
  resume_token: string;
}

const PLAYER_COLUMNS = 'id, gold, gems, level, xp, inventory, version, last_seq, resume_token';

function toStoredPlayer(row: PlayerRow): StoredPlayer {
  return {
    state: { id: row.id, gold: Number(row.gold), gems: row.gems, level: row.level, xp: row.xp, inventory: row.inventory ?? {}, version: row.version, lastSeq: row.last_seq },
    resumeToken: row.resume_token,
  };
}

export async function loadPlayers(db: Queryable, metrics: BackendMetrics, ids: string[]): Promise<Map<string, StoredPlayer>> {
  const found = new Map<string, StoredPlayer>();
  if (ids.length === 0) return found;
  const result = await timedQuery<PlayerRow>(db, metrics, 'load-players', `SELECT ${PLAYER_COLUMNS} FROM players WHERE id = ANY($1::text[])`, [ids]);
  for (const row of result.rows) found.set(row.id, toStoredPlayer(row));
  return found;
}

export async function loadBanks(db: Queryable, metrics: BackendMetrics, ids: string[]): Promise<Map<string, GuildBank>> {
  const found = new Map<string, GuildBank>();
  if (ids.length === 0) return found;
  const result = await timedQuery<{ id: string; gold: string; version: number }>(db, metrics, 'load-banks', 'SELECT id, gold, version FROM guild_banks WHERE id = ANY($1::text[])', [ids]);
  for (const row of result.rows) found.set(row.id, { id: row.id, gold: Number(row.gold), version: row.version });
  return found;
}

function playerRecord(state: PlayerState, extra: Record<string, unknown>): Record<string, unknown> {
  return { id: state.id, gold: state.gold, gems: state.gems, level: state.level, xp: state.xp, inventory: state.inventory, version: state.version, last_seq: state.lastSeq, ...extra };
}

const byId = (a: Record<string, unknown>, b: Record<string, unknown>) => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0);

/**
 * Writes one batch as ONE statement (data-modifying CTEs): atomic on its own, one round trip.
 * Player updates are guarded by the version the writer started from; if any row moved, the
 * assertion aborts the whole statement (nothing is written) and the caller reloads and retries.
 * `onConflictIgnore`: the planted 'no-dedup' defect's log insert.
 */
export async function writeBatch(db: Queryable, metrics: BackendMetrics, batch: BatchWrite, options: { onConflictIgnore?: boolean } = {}): Promise<void> {
  const created = batch.created.map((p) => playerRecord(p.state, { resume_token: p.resumeToken })).sort(byId);
  const updated = batch.updated.map((u) => playerRecord(u.state, { previous_version: u.previousVersion })).sort(byId);
  const banks = batch.banks ?? [];
  const banksCreated = banks.filter((b) => b.previousVersion === null).map((b) => ({ ...b.bank }));
  const banksUpdated = banks.filter((b) => b.previousVersion !== null).map((b) => ({ ...b.bank, previous_version: b.previousVersion }));
  await timedQuery(
    db,
    metrics,
    'write-batch',
    `WITH created AS (
       INSERT INTO players (${PLAYER_COLUMNS})
       SELECT ${PLAYER_COLUMNS} FROM jsonb_to_recordset($1::jsonb)
         AS r(id text, gold bigint, gems integer, level integer, xp integer, inventory jsonb, version integer, last_seq integer, resume_token text)
       RETURNING 1
     ), updated AS (
       UPDATE players AS p
          SET gold = r.gold, gems = r.gems, level = r.level, xp = r.xp, inventory = r.inventory,
              version = r.version, last_seq = r.last_seq, updated_at = now()
         FROM jsonb_to_recordset($2::jsonb)
           AS r(id text, gold bigint, gems integer, level integer, xp integer, inventory jsonb, version integer, last_seq integer, previous_version integer)
        WHERE p.id = r.id AND p.version = r.previous_version
       RETURNING 1
     ), logged AS (
       INSERT INTO action_log (player, seq, kind, action, result, version, checksum)
       SELECT player, seq, action->>'kind', action, result, version, checksum FROM jsonb_to_recordset($3::jsonb)
         AS r(player text, seq integer, action jsonb, result jsonb, version integer, checksum text)
       ${options.onConflictIgnore ? 'ON CONFLICT (player, seq) DO NOTHING' : ''}
       RETURNING 1
     ), ledgered AS (
       INSERT INTO ledger (player, kind, reason, amount, seq)
       SELECT player, kind, reason, amount, seq FROM jsonb_to_recordset($4::jsonb)
         AS r(player text, kind text, reason text, amount bigint, seq integer)
       RETURNING 1
     ), gifted AS (
       INSERT INTO gifts (from_player, to_player, amount, sender_seq, recipient_version)
       SELECT "from", "to", amount, "senderSeq", "recipientVersion" FROM jsonb_to_recordset($5::jsonb)
         AS r("from" text, "to" text, amount bigint, "senderSeq" integer, "recipientVersion" integer)
       ${options.onConflictIgnore ? 'ON CONFLICT DO NOTHING' : ''}
       RETURNING 1
     ), banks_created AS (
       INSERT INTO guild_banks (id, gold, version)
       SELECT id, gold, version FROM jsonb_to_recordset($7::jsonb) AS r(id text, gold bigint, version integer)
       RETURNING 1
     ), banks_updated AS (
       UPDATE guild_banks AS b SET gold = r.gold, version = r.version, updated_at = now()
         FROM jsonb_to_recordset($8::jsonb) AS r(id text, gold bigint, version integer, previous_version integer)
        WHERE b.id = r.id AND b.version = r.previous_version
       RETURNING 1
     )
     SELECT lagstorm_assert((SELECT count(*) FROM updated) = $6::int AND (SELECT count(*) FROM banks_updated) = $9::int,
                            'stale player or bank state: expected to update ' || $6::int || ' players and ' || $9::int || ' banks at their known versions') AS ok`,
    [
      JSON.stringify(created),
      JSON.stringify(updated),
      JSON.stringify(batch.actions),
      JSON.stringify(batch.ledger),
      JSON.stringify(batch.gifts),
      updated.length,
      JSON.stringify(banksCreated),
      JSON.stringify(banksUpdated),
      banksUpdated.length,
    ],
  );
}

/** The stored original results of already-applied actions (for duplicate acks). */
export async function lookupActions(db: Queryable, metrics: BackendMetrics, keys: Array<{ player: string; seq: number }>): Promise<Map<string, ActionLogRow>> {
  const found = new Map<string, ActionLogRow>();
  if (keys.length === 0) return found;
  const result = await timedQuery<ActionLogRow>(
    db,
    metrics,
    'dedup-lookup',
    `SELECT a.player, a.seq, a.action, a.result, a.version, a.checksum
       FROM action_log a JOIN unnest($1::text[], $2::int[]) AS k(player, seq) ON a.player = k.player AND a.seq = k.seq`,
    [keys.map((k) => k.player), keys.map((k) => k.seq)],
  );
  for (const row of result.rows) found.set(actionKey(row.player, row.seq), row);
  return found;
}

export const actionKey = (player: string, seq: number): string => `${player}\u0000${seq}`;

export async function readPlayer(db: Queryable, metrics: BackendMetrics, id: string): Promise<{ state: PlayerState; checksum: string } | undefined> {
  const stored = (await loadPlayers(db, metrics, [id])).get(id);
  return stored && { state: stored.state, checksum: checksum(stored.state) };
}

export async function readActionLog(db: Queryable, metrics: BackendMetrics, player?: string): Promise<ActionLogRow[]> {
  const result = await timedQuery<ActionLogRow>(
    db,
    metrics,
    'admin-read',
    `SELECT player, seq, action, result, version, checksum FROM action_log ${player === undefined ? '' : 'WHERE player = $1'} ORDER BY player, seq`,
    player === undefined ? [] : [player],
  );
  return result.rows;
}

/** Reads the whole final state; the caller runs it inside one REPEATABLE READ transaction. */
export async function readSnapshot(db: Queryable, metrics: BackendMetrics): Promise<FinalSnapshot> {
  const players = await timedQuery<PlayerRow>(db, metrics, 'snapshot', `SELECT ${PLAYER_COLUMNS} FROM players ORDER BY id`);
  const actions = await readActionLog(db, metrics);
  const gifts = await timedQuery<{ from_player: string; to_player: string; amount: string; sender_seq: number; recipient_version: number }>(
    db,
    metrics,
    'snapshot',
    'SELECT from_player, to_player, amount, sender_seq, recipient_version FROM gifts ORDER BY id',
  );
  const ledger = await timedQuery<{ kind: 'source' | 'sink'; reason: string; total: string }>(
    db,
    metrics,
    'snapshot',
    'SELECT kind, reason, sum(amount) AS total FROM ledger GROUP BY kind, reason ORDER BY kind, reason',
  );
  const banks = await timedQuery<{ id: string; gold: string; version: number }>(db, metrics, 'snapshot', 'SELECT id, gold, version FROM guild_banks ORDER BY id');
  const total = await timedQuery<{ total: string | null }>(
    db,
    metrics,
    'snapshot',
    'SELECT (SELECT coalesce(sum(gold), 0) FROM players) + (SELECT coalesce(sum(gold), 0) FROM guild_banks) AS total',
  );
  const byReason: Record<string, number> = {};
  let sources = 0;
  let sinks = 0;
  for (const row of ledger.rows) {
    const amount = Number(row.total);
    byReason[row.reason] = (byReason[row.reason] ?? 0) + amount;
    if (row.kind === 'source') sources += amount;
    else sinks += amount;
  }
  return {
    takenAt: new Date().toISOString(),
    players: players.rows.map((row) => {
      const { state } = toStoredPlayer(row);
      return { state, checksum: checksum(state) };
    }),
    actions,
    gifts: gifts.rows.map((row) => ({ from: row.from_player, to: row.to_player, amount: Number(row.amount), senderSeq: row.sender_seq, recipientVersion: row.recipient_version })),
    banks: banks.rows.map((row) => ({ id: row.id, gold: Number(row.gold), version: row.version })),
    ledger: { sources, sinks, byReason },
    totalGold: Number(total.rows[0]?.total ?? 0),
  };
}
