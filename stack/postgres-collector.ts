/**
 * PostgreSQL WAL, checkpoint and transaction statistics as Prometheus metrics: a prom-client
 * custom collector (metrics with collect()) that reads the server once per scrape, with a
 * timeout, and reports lagstorm_pg_up 0 instead of throwing when the database is down.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';

/** One read of the server's statistics views. */
export interface PostgresStats {
  serverVersionNum: number;
  wal: { records: number; fpi: number; bytes: number; buffersFull: number; writeTimeSeconds?: number; syncTimeSeconds?: number };
  checkpoints: { timed: number; requested: number };
  database: { commits: number; rollbacks: number; deadlocks: number };
  walDirBytes: number;
  slots: Array<{ slot: string; retainedBytes: number }>;
}

/** The checkpoint counters moved from pg_stat_bgwriter to pg_stat_checkpointer in PostgreSQL 17. */
export function checkpointQuery(serverVersionNum: number): string {
  return serverVersionNum >= 170000
    ? 'SELECT num_timed::float8 AS timed, num_requested::float8 AS requested FROM pg_stat_checkpointer'
    : 'SELECT checkpoints_timed::float8 AS timed, checkpoints_req::float8 AS requested FROM pg_stat_bgwriter';
}

function num(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

/** Reads every statistic on an open client; statement_timeout bounds each query server-side. */
export async function readPostgresStats(client: Client): Promise<PostgresStats> {
  const version = num((await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v);
  // to_jsonb keeps this working across versions that add or drop pg_stat_wal columns (18 moved the timings).
  const walRow = (await client.query<{ row: Record<string, unknown> }>('SELECT to_jsonb(w) AS row FROM pg_stat_wal w')).rows[0]?.row ?? {};
  const checkpoints = (await client.query<{ timed: number; requested: number }>(checkpointQuery(version))).rows[0];
  const database = (
    await client.query<{ commits: number; rollbacks: number; deadlocks: number }>(
      'SELECT coalesce(sum(xact_commit), 0)::float8 AS commits, coalesce(sum(xact_rollback), 0)::float8 AS rollbacks, coalesce(sum(deadlocks), 0)::float8 AS deadlocks FROM pg_stat_database',
    )
  ).rows[0];
  const walDir = (await client.query<{ bytes: number }>('SELECT coalesce(sum(size), 0)::float8 AS bytes FROM pg_ls_waldir()')).rows[0];
  const slots = (
    await client.query<{ slot: string; retained: number | null }>(
      `SELECT slot_name AS slot,
              CASE WHEN restart_lsn IS NULL THEN 0
                   ELSE pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END, restart_lsn)::float8 END AS retained
         FROM pg_replication_slots`,
    )
  ).rows;
  const ms = (key: string): number | undefined => (key in walRow ? num(walRow[key]) / 1000 : undefined);
  return {
    serverVersionNum: version,
    wal: {
      records: num(walRow.wal_records),
      fpi: num(walRow.wal_fpi),
      bytes: num(walRow.wal_bytes),
      buffersFull: num(walRow.wal_buffers_full),
      writeTimeSeconds: ms('wal_write_time'),
      syncTimeSeconds: ms('wal_sync_time'),
    },
    checkpoints: { timed: num(checkpoints?.timed), requested: num(checkpoints?.requested) },
    database: { commits: num(database?.commits), rollbacks: num(database?.rollbacks), deadlocks: num(database?.deadlocks) },
    walDirBytes: num(walDir?.bytes),
    slots: slots.map((row) => ({ slot: row.slot, retainedBytes: num(row.retained) })),
  };
}

export interface PostgresCollectorOptions {
  /** Superuser (or pg_monitor) URL straight to PostgreSQL, not through Toxiproxy. */
  superuserUrl: string;
  /** Bound on one whole scrape (connect + queries); default 2000 ms. */
  queryTimeoutMs?: number;
  registry?: Registry;
}

export interface PostgresCollector {
  readonly registry: Registry;
  /** The last error (undefined after a good scrape). */
  readonly lastError: string | undefined;
  close(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Registers the lagstorm_pg_* metrics (METRICS.md) on a registry; each scrape reads the server once. */
export function createPostgresCollector(options: PostgresCollectorOptions): PostgresCollector {
  const registry = options.registry ?? new Registry();
  const timeoutMs = options.queryTimeoutMs ?? 2000;
  let client: Client | undefined;
  let lastError: string | undefined;
  let closed = false;
  // registry.metrics() starts every metric's collect() in the same tick: they share the read in flight.
  let inFlight: Promise<PostgresStats | undefined> | undefined;

  const dropClient = (): void => {
    const old = client;
    client = undefined;
    // A broken connection may never answer end(); don't wait for it.
    old?.end().catch(() => undefined);
  };

  const connect = async (): Promise<Client> => {
    if (client) return client;
    const fresh = new Client({
      connectionString: options.superuserUrl,
      connectionTimeoutMillis: timeoutMs,
      statement_timeout: timeoutMs,
      query_timeout: timeoutMs,
      application_name: 'lagstorm-collector',
    });
    // A server crash emits 'error' on an idle client; without a listener it would kill the process.
    fresh.on('error', () => {
      if (client === fresh) client = undefined;
    });
    await fresh.connect();
    client = fresh;
    return fresh;
  };

  const read = async (): Promise<PostgresStats | undefined> => {
    if (closed) return undefined;
    try {
      const stats = await withTimeout(
        (async () => readPostgresStats(await connect()))(),
        timeoutMs,
        'PostgreSQL statistics scrape',
      );
      lastError = undefined;
      return stats;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
      dropClient();
      return undefined;
    }
  };

  const snapshot = (): Promise<PostgresStats | undefined> => {
    if (!inFlight) {
      inFlight = read().finally(() => {
        inFlight = undefined;
      });
    }
    return inFlight;
  };

  /** A counter mirroring a server counter: reset + inc to the server's value; untouched while down. */
  const mirroredCounter = (name: string, help: string, pick: (stats: PostgresStats) => number | undefined): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      async collect() {
        const stats = await snapshot();
        const value = stats ? pick(stats) : undefined;
        if (value === undefined) return;
        this.reset();
        this.inc(Math.max(0, value));
      },
    });
  };

  new Gauge({
    name: 'lagstorm_pg_up',
    help: '1 when the last scrape read PostgreSQL statistics, 0 when the database was unreachable or too slow',
    registers: [registry],
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });
  mirroredCounter('lagstorm_pg_wal_records_total', 'WAL records generated (pg_stat_wal.wal_records)', (s) => s.wal.records);
  mirroredCounter('lagstorm_pg_wal_fpi_total', 'WAL full-page images (pg_stat_wal.wal_fpi)', (s) => s.wal.fpi);
  mirroredCounter('lagstorm_pg_wal_bytes_total', 'WAL bytes generated (pg_stat_wal.wal_bytes)', (s) => s.wal.bytes);
  mirroredCounter('lagstorm_pg_wal_buffers_full_total', 'WAL writes because WAL buffers were full (pg_stat_wal.wal_buffers_full)', (s) => s.wal.buffersFull);
  mirroredCounter('lagstorm_pg_wal_write_time_seconds_total', 'Time writing WAL (pg_stat_wal.wal_write_time; needs track_wal_io_timing)', (s) => s.wal.writeTimeSeconds);
  mirroredCounter('lagstorm_pg_wal_sync_time_seconds_total', 'Time syncing WAL (pg_stat_wal.wal_sync_time; needs track_wal_io_timing)', (s) => s.wal.syncTimeSeconds);
  mirroredCounter('lagstorm_pg_checkpoints_timed_total', 'Scheduled checkpoints (pg_stat_bgwriter up to 16, pg_stat_checkpointer from 17)', (s) => s.checkpoints.timed);
  mirroredCounter('lagstorm_pg_checkpoints_requested_total', 'Requested checkpoints (pg_stat_bgwriter up to 16, pg_stat_checkpointer from 17)', (s) => s.checkpoints.requested);
  mirroredCounter('lagstorm_pg_xact_commit_total', 'Committed transactions, all databases (pg_stat_database)', (s) => s.database.commits);
  mirroredCounter('lagstorm_pg_xact_rollback_total', 'Rolled back transactions, all databases (pg_stat_database)', (s) => s.database.rollbacks);
  mirroredCounter('lagstorm_pg_deadlocks_total', 'Deadlocks, all databases (pg_stat_database)', (s) => s.database.deadlocks);
  new Gauge({
    name: 'lagstorm_pg_wal_dir_bytes',
    help: 'Total size of the files in pg_wal (pg_ls_waldir())',
    registers: [registry],
    async collect() {
      const stats = await snapshot();
      if (stats) this.set(stats.walDirBytes);
    },
  });
  new Gauge({
    name: 'lagstorm_pg_replication_slot_retained_bytes',
    help: 'WAL a replication slot keeps from being removed (current LSN - restart_lsn)',
    labelNames: ['slot'],
    registers: [registry],
    async collect() {
      const stats = await snapshot();
      if (!stats) return;
      this.reset(); // dropped slots disappear
      for (const slot of stats.slots) this.set({ slot: slot.slot }, slot.retainedBytes);
    },
  });

  return {
    registry,
    get lastError() {
      return lastError;
    },
    async close() {
      closed = true;
      const old = client;
      client = undefined;
      if (old) await withTimeout(old.end(), 2000, 'closing the collector connection').catch(() => undefined);
    },
  };
}

export interface PostgresExporter {
  /** http://127.0.0.1:<port>/metrics */
  readonly url: string;
  readonly port: number;
  /** host:port, for a Prometheus scrape target. */
  readonly target: string;
  readonly collector: PostgresCollector;
  stop(): Promise<void>;
}

/** Serves the collector on a loopback port (0 = any free port) at /metrics. */
export async function startPostgresExporter(options: { superuserUrl: string; port?: number; queryTimeoutMs?: number }): Promise<PostgresExporter> {
  const collector = createPostgresCollector({ superuserUrl: options.superuserUrl, queryTimeoutMs: options.queryTimeoutMs });
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('lagstorm PostgreSQL collector: GET /metrics\n');
      return;
    }
    collector.registry
      .metrics()
      .then((text) => response.writeHead(200, { 'content-type': collector.registry.contentType }).end(text))
      .catch((error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`collector failed: ${String(error)}\n`));
  });
  // Bound idle keep-alive sockets so stop() is quick.
  server.keepAliveTimeout = 2000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    port,
    target: `127.0.0.1:${port}`,
    collector,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await collector.close();
    },
  };
}
