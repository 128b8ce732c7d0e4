/**
 * Where the Colyseus example keeps its players: PostgreSQL. One transaction per action, keyed by
 * (player, seq) in the `applied` table, so a resend of an applied action answers the stored result
 * instead of applying it again. The planted defects live here too (defects.ts names them).
 */
import type { Pool, PoolClient } from 'pg';
import { applyAction, peerOf, STARTING_GEMS, STARTING_GOLD, type Action, type ActionResult, type FinalState, type Holding } from '../rules';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS players (
  id text PRIMARY KEY,
  gold bigint NOT NULL,
  gems bigint NOT NULL,
  last_seq integer NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS applied (
  player text NOT NULL,
  seq integer NOT NULL,
  result jsonb,
  PRIMARY KEY (player, seq)
);`;

/** What the room needs from storage. */
export interface GameStore {
  /** The player's last applied seq and holdings (the hello reply); creates a new player. */
  hello(player: string): Promise<{ lastSeq: number } & Holding>;
  /** Applies an action once per (player, seq); answers the stored result for a resend. */
  apply(player: string, seq: number, action: Action): Promise<{ result: ActionResult; duplicate: boolean }>;
  /** The player left the room. */
  leave(player: string): Promise<void>;
  /** Every player's holdings and every applied key, in one snapshot. */
  snapshot(): Promise<FinalState>;
}

const ENSURE_PLAYER = 'INSERT INTO players (id, gold, gems) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING';

async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, isolation = 'READ COMMITTED'): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // A link cut between two statements is reported as an 'error' event on the checked-out client;
  // unheard it would crash the process. The next statement fails and the transaction rolls back.
  const onError = (): void => void (broken = true);
  client.on('error', onError);
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
    const value = await work(client);
    await client.query('COMMIT');
    return value;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => (broken = true));
    throw error;
  } finally {
    client.off('error', onError);
    // A client whose link died must not go back to the pool.
    client.release(broken ? true : undefined);
  }
}

async function snapshotOf(pool: Pool): Promise<FinalState> {
  return inTransaction(
    pool,
    async (client) => {
      const players = await client.query<{ id: string; gold: string; gems: string; last_seq: number }>('SELECT id, gold, gems, last_seq FROM players ORDER BY id');
      const applied = await client.query<{ player: string; seq: number }>('SELECT player, seq FROM applied ORDER BY player, seq');
      return {
        players: players.rows.map((row) => ({ id: row.id, gold: Number(row.gold), gems: Number(row.gems), lastSeq: row.last_seq })),
        applied: applied.rows,
      };
    },
    'REPEATABLE READ READ ONLY',
  );
}

export interface PostgresStoreOptions {
  /** Planted defect: a transfer's second leg (the peer's) is its own transaction, `gapMs` later, never retried. */
  nonatomicTransfer?: { gapMs: number };
  sleep?: (ms: number) => Promise<void>;
}

/** The correct store (and, with `nonatomicTransfer`, the defective one). */
export class PostgresStore implements GameStore {
  constructor(
    private readonly pool: Pool,
    private readonly options: PostgresStoreOptions = {},
  ) {}

  async hello(player: string): Promise<{ lastSeq: number } & Holding> {
    await this.pool.query(ENSURE_PLAYER, [player, STARTING_GOLD, STARTING_GEMS]);
    const { rows } = await this.pool.query<{ gold: string; gems: string; last_seq: number }>('SELECT gold, gems, last_seq FROM players WHERE id = $1', [player]);
    if (!rows[0]) return { lastSeq: 0, gold: STARTING_GOLD, gems: STARTING_GEMS };
    return { lastSeq: rows[0].last_seq, gold: Number(rows[0].gold), gems: Number(rows[0].gems) };
  }

  async apply(player: string, seq: number, action: Action): Promise<{ result: ActionResult; duplicate: boolean }> {
    const peer = peerOf(action);
    const split = this.options.nonatomicTransfer && peer !== undefined;
    let peerLeg: Holding | undefined;
    const outcome = await inTransaction(this.pool, async (client) => {
      // Concurrent attempts of one key queue here; the loser sees the winner's row after its COMMIT.
      const fresh = await client.query('INSERT INTO applied (player, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING', [player, seq]);
      if (fresh.rowCount === 0) {
        const { rows } = await client.query<{ result: ActionResult }>('SELECT result FROM applied WHERE player = $1 AND seq = $2', [player, seq]);
        return { result: rows[0].result, duplicate: true };
      }
      const ids = [...new Set([player, ...(peer !== undefined ? [peer] : [])])].sort();
      for (const id of ids) await client.query(ENSURE_PLAYER, [id, STARTING_GOLD, STARTING_GEMS]);
      // Rows locked in id order: two transfers between the same players cannot deadlock. The
      // split (defective) transfer locks only the actor's row and reads the peer's as it stands.
      const locked = await client.query<{ id: string; gold: string; gems: string }>('SELECT id, gold, gems FROM players WHERE id = ANY($1) ORDER BY id FOR UPDATE', [split ? [player] : ids]);
      const rows = split ? [...locked.rows, ...(await client.query<{ id: string; gold: string; gems: string }>('SELECT id, gold, gems FROM players WHERE id = $1', [peer])).rows] : locked.rows;
      const holdings = new Map(rows.map((row) => [row.id, { gold: Number(row.gold), gems: Number(row.gems) }]));
      const { result, deltas } = applyAction(player, seq, action, holdings);
      for (const [id, delta] of deltas) {
        if (split && id !== player) {
          peerLeg = delta;
          continue;
        }
        await client.query('UPDATE players SET gold = gold + $2, gems = gems + $3 WHERE id = $1', [id, delta.gold, delta.gems]);
      }
      await client.query('UPDATE players SET last_seq = GREATEST(last_seq, $2) WHERE id = $1', [player, seq]);
      await client.query('UPDATE applied SET result = $3 WHERE player = $1 AND seq = $2', [player, seq, JSON.stringify(result)]);
      return { result, duplicate: false };
    });
    if (peerLeg && peer !== undefined) {
      // Planted defect 'nonatomic-transfer': the peer's leg commits on its own, after a gap, once.
      // The first leg and the applied key are already durable, so a resend answers "applied".
      await (this.options.sleep ?? defaultSleep)(this.options.nonatomicTransfer!.gapMs);
      await this.pool.query('UPDATE players SET gold = gold + $2, gems = gems + $3 WHERE id = $1', [peer, peerLeg.gold, peerLeg.gems]);
    }
    return outcome;
  }

  async leave(): Promise<void> {}

  snapshot(): Promise<FinalState> {
    return snapshotOf(this.pool);
  }
}

interface CachedPlayer extends Holding {
  lastSeq: number;
  /** Applied keys and their results; `saved` once written. */
  applied: Map<number, { result: ActionResult; saved: boolean }>;
}

/**
 * Planted defect 'save-on-leave': the room keeps each player in memory from the first touch and
 * writes it back only when the player leaves. Every action is acknowledged from memory; a crash
 * loses everything since the players' last leave.
 */
export class SaveOnLeaveStore implements GameStore {
  private readonly cache = new Map<string, CachedPlayer>();
  private readonly loading = new Map<string, Promise<CachedPlayer>>();
  private readonly flushes = new Set<Promise<void>>();

  constructor(private readonly pool: Pool) {}

  private load(player: string): Promise<CachedPlayer> {
    const cached = this.cache.get(player);
    if (cached) return Promise.resolve(cached);
    let pending = this.loading.get(player);
    if (!pending) {
      pending = (async () => {
        await this.pool.query(ENSURE_PLAYER, [player, STARTING_GOLD, STARTING_GEMS]);
        const row = (await this.pool.query<{ gold: string; gems: string; last_seq: number }>('SELECT gold, gems, last_seq FROM players WHERE id = $1', [player])).rows[0];
        const applied = await this.pool.query<{ seq: number; result: ActionResult }>('SELECT seq, result FROM applied WHERE player = $1', [player]);
        const loaded: CachedPlayer = { gold: Number(row.gold), gems: Number(row.gems), lastSeq: row.last_seq, applied: new Map(applied.rows.map((r) => [r.seq, { result: r.result, saved: true }])) };
        this.cache.set(player, loaded);
        return loaded;
      })().finally(() => this.loading.delete(player));
      this.loading.set(player, pending);
    }
    return pending;
  }

  async hello(player: string): Promise<{ lastSeq: number } & Holding> {
    const { lastSeq, gold, gems } = await this.load(player);
    return { lastSeq, gold, gems };
  }

  async apply(player: string, seq: number, action: Action): Promise<{ result: ActionResult; duplicate: boolean }> {
    const me = await this.load(player);
    const peer = peerOf(action);
    const other = peer !== undefined ? await this.load(peer) : undefined;
    const seen = me.applied.get(seq);
    if (seen) return { result: seen.result, duplicate: true };
    const holdings = new Map<string, Holding>([[player, me]]);
    if (peer !== undefined && other) holdings.set(peer, other);
    const { result, deltas } = applyAction(player, seq, action, holdings);
    for (const [id, delta] of deltas) {
      const target = id === player ? me : other!;
      target.gold += delta.gold;
      target.gems += delta.gems;
    }
    me.lastSeq = Math.max(me.lastSeq, seq);
    me.applied.set(seq, { result, saved: false });
    return { result, duplicate: false };
  }

  leave(player: string): Promise<void> {
    const flush = this.flush(player).finally(() => this.flushes.delete(flush));
    this.flushes.add(flush);
    return flush;
  }

  private async flush(player: string): Promise<void> {
    const state = this.cache.get(player);
    if (!state) return;
    const unsaved = [...state.applied].filter(([, entry]) => !entry.saved);
    await inTransaction(this.pool, async (client) => {
      await client.query('UPDATE players SET gold = $2, gems = $3, last_seq = $4 WHERE id = $1', [player, state.gold, state.gems, state.lastSeq]);
      for (const [seq, entry] of unsaved) await client.query('INSERT INTO applied (player, seq, result) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [player, seq, JSON.stringify(entry.result)]);
    });
    for (const [, entry] of unsaved) entry.saved = true;
  }

  async snapshot(): Promise<FinalState> {
    await Promise.allSettled([...this.flushes]);
    return snapshotOf(this.pool);
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
