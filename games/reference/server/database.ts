/**
 * The PostgreSQL side: a small pool, timed queries (game_db_query_duration_seconds{op}) and
 * idempotent, ordered migrations guarded by an advisory lock (two backends may start at once).
 */
import { Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import type { Logger } from './log';
import type { BackendMetrics } from './metrics';

export type Queryable = Pick<PoolClient, 'query'>;

export function createPool(databaseUrl: string, queryTimeoutMs: number, log: Logger): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: 6,
    connectionTimeoutMillis: Math.min(queryTimeoutMs, 3000),
    idleTimeoutMillis: 30_000,
    query_timeout: queryTimeoutMs,
    keepAlive: true,
    application_name: 'lagstorm-backend',
    // Server-side bound too, so a query the client gave up on does not hold locks forever.
    options: `-c statement_timeout=${queryTimeoutMs}`,
  });
  // An idle client losing its connection (database restart, link cut) must not crash the process.
  pool.on('error', (error) => log('warn', 'idle database connection failed', { error: error.message }));
  return pool;
}

const guarded = new WeakSet<PoolClient>();

/**
 * Checks a client out of the pool. A connection that dies while checked out (between queries)
 * emits 'error' on the client, which would crash the process without a listener.
 */
export async function checkout(pool: Pool, log: Logger): Promise<PoolClient> {
  const client = await pool.connect();
  if (!guarded.has(client)) {
    guarded.add(client);
    client.on('error', (error) => log('warn', 'database connection failed while in use', { error: error.message }));
  }
  return client;
}

export async function timedQuery<R extends QueryResultRow = QueryResultRow>(
  db: Queryable,
  metrics: BackendMetrics,
  op: string,
  text: string,
  values?: unknown[],
): Promise<QueryResult<R>> {
  const end = metrics.dbQueryDuration.startTimer({ op });
  try {
    return await db.query<R>(text, values);
  } finally {
    end();
  }
}

interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append-only: never edit a released migration, add a new one. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'players, action log, ledger, gifts',
    sql: `
      CREATE TABLE IF NOT EXISTS players (
        id           text PRIMARY KEY,
        gold         bigint  NOT NULL CHECK (gold >= 0),
        gems         integer NOT NULL,
        level        integer NOT NULL,
        xp           integer NOT NULL,
        inventory    jsonb   NOT NULL DEFAULT '{}'::jsonb,
        version      integer NOT NULL,
        last_seq     integer NOT NULL,
        resume_token text    NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS action_log (
        player     text    NOT NULL REFERENCES players (id),
        seq        integer NOT NULL,
        kind       text    NOT NULL,
        action     jsonb   NOT NULL,
        result     jsonb   NOT NULL,
        version    integer NOT NULL,
        checksum   text    NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (player, seq)
      );
      CREATE TABLE IF NOT EXISTS ledger (
        id         bigserial PRIMARY KEY,
        player     text   NOT NULL,
        kind       text   NOT NULL CHECK (kind IN ('source', 'sink')),
        reason     text   NOT NULL,
        amount     bigint NOT NULL CHECK (amount >= 0),
        seq        integer,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS gifts (
        id                bigserial PRIMARY KEY,
        from_player       text    NOT NULL,
        to_player         text    NOT NULL REFERENCES players (id),
        amount            bigint  NOT NULL CHECK (amount > 0),
        sender_seq        integer NOT NULL,
        recipient_version integer NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT now(),
        UNIQUE (from_player, sender_seq)
      );`,
  },
  {
    version: 2,
    name: 'assertion helper for single-statement batch writes',
    sql: `
      CREATE OR REPLACE FUNCTION lagstorm_assert(ok boolean, message text) RETURNS boolean
      LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT ok THEN RAISE EXCEPTION USING ERRCODE = 'serialization_failure', MESSAGE = message; END IF;
        RETURN true;
      END $$;`,
  },
  {
    version: 3,
    name: 'guild banks',
    sql: `
      CREATE TABLE IF NOT EXISTS guild_banks (
        id         text    PRIMARY KEY,
        gold       bigint  NOT NULL CHECK (gold >= 0),
        version    integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );`,
  },
];

export async function migrate(pool: Pool, metrics: BackendMetrics, log: Logger): Promise<void> {
  const client = await checkout(pool, log);
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('lagstorm-backend-migrations'))");
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((row) => row.version));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await timedQuery(client, metrics, 'migrate', migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      log('info', 'migration applied', { version: migration.version, name: migration.name });
    }
    await client.query('COMMIT');
    client.release();
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(error as Error);
    throw error;
  }
}
