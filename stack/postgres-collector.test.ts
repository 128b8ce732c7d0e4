import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startPostgres, type PostgresCluster } from './postgres';
import { checkpointQuery, startPostgresExporter, type PostgresExporter } from './postgres-collector';

/** Parses the Prometheus text format into name{labels} → value. */
function parseExposition(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

async function scrape(exporter: PostgresExporter): Promise<Map<string, number>> {
  const response = await fetch(exporter.url, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

describe('PostgreSQL collector (real PostgreSQL 15)', () => {
  let dir: string;
  let cluster: PostgresCluster | undefined;
  let exporter: PostgresExporter | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-pgcollector-'));
    cluster = await startPostgres({ baseDir: path.join(dir, 'pg'), logFile: path.join(dir, 'pg.log') });
  });
  afterAll(async () => {
    await exporter?.stop();
    if (cluster?.isRunning()) await cluster.stop('SIGINT', 30_000);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exports WAL, checkpoint, transaction, slot and pg_wal size metrics that move with writes', async () => {
    if (!cluster) throw new Error('cluster did not start');
    exporter = await startPostgresExporter({ superuserUrl: cluster.superuserUrl, queryTimeoutMs: 3000 });
    expect(exporter.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    const before = await scrape(exporter);
    expect(before.get('lagstorm_pg_up')).toBe(1);
    for (const name of ['lagstorm_pg_wal_records_total', 'lagstorm_pg_wal_fpi_total', 'lagstorm_pg_wal_buffers_full_total', 'lagstorm_pg_wal_write_time_seconds_total', 'lagstorm_pg_wal_sync_time_seconds_total', 'lagstorm_pg_checkpoints_timed_total', 'lagstorm_pg_checkpoints_requested_total', 'lagstorm_pg_xact_rollback_total', 'lagstorm_pg_deadlocks_total']) {
      expect(before.has(name)).toBe(true);
    }
    expect(before.get('lagstorm_pg_wal_dir_bytes')).toBeGreaterThanOrEqual(16 * 1024 * 1024); // at least one segment

    const client = new Client({ connectionString: cluster.superuserUrl });
    await client.connect();
    try {
      await client.query('CREATE TABLE collector_t (id int, pad text)');
      await client.query("INSERT INTO collector_t SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g");
      await client.query('CHECKPOINT');
      await client.query("SELECT pg_create_physical_replication_slot('lagstorm_test_slot', true)");
      await client.query("INSERT INTO collector_t SELECT g, repeat('y', 200) FROM generate_series(1, 5000) g");
    } finally {
      await client.end();
    }

    // Backends flush their WAL statistics at most once a second (and on exit): poll, bounded.
    let after = await scrape(exporter);
    for (let attempt = 0; attempt < 40 && (after.get('lagstorm_pg_wal_bytes_total') ?? 0) - (before.get('lagstorm_pg_wal_bytes_total') ?? 0) < 20_000 * 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = await scrape(exporter);
    }
    expect(after.get('lagstorm_pg_up')).toBe(1);
    const walGrowth = (after.get('lagstorm_pg_wal_bytes_total') ?? 0) - (before.get('lagstorm_pg_wal_bytes_total') ?? 0);
    expect(walGrowth).toBeGreaterThan(20_000 * 200); // the rows alone are 4 MB of WAL
    expect(after.get('lagstorm_pg_wal_records_total')).toBeGreaterThan(before.get('lagstorm_pg_wal_records_total') ?? 0);
    expect(after.get('lagstorm_pg_checkpoints_requested_total')).toBeGreaterThan(before.get('lagstorm_pg_checkpoints_requested_total') ?? 0);
    expect(after.get('lagstorm_pg_xact_commit_total')).toBeGreaterThan(before.get('lagstorm_pg_xact_commit_total') ?? 0);
    expect(after.get('lagstorm_pg_replication_slot_retained_bytes{slot="lagstorm_test_slot"}')).toBeGreaterThan(5000 * 200);
  });

  it('reports lagstorm_pg_up 0 quickly when the database is down, and recovers when it is back', async () => {
    if (!cluster || !exporter) throw new Error('previous test did not start the exporter');
    const up = await scrape(exporter);
    await cluster.stopWithMode('immediate');
    const startedAt = Date.now();
    const down = await scrape(exporter);
    expect(down.get('lagstorm_pg_up')).toBe(0);
    expect(Date.now() - startedAt).toBeLessThan(5000);
    // counters keep their last values rather than dropping to 0 (which Prometheus reads as a reset)
    expect(down.get('lagstorm_pg_wal_bytes_total')).toBe(up.get('lagstorm_pg_wal_bytes_total'));
    expect(exporter.collector.lastError).toBeTruthy();

    await cluster.start();
    const back = await scrape(exporter);
    expect(back.get('lagstorm_pg_up')).toBe(1);
    // Crash recovery discards cumulative statistics: the counter restarts low (rate() treats it as a reset).
    expect(back.get('lagstorm_pg_wal_bytes_total')).toBeLessThan(up.get('lagstorm_pg_wal_bytes_total') ?? 0);
    expect(exporter.collector.lastError).toBeUndefined();
  });

  it('times out a scrape when its server process hangs, then reconnects', async () => {
    if (!cluster || !exporter) throw new Error('previous test did not start the exporter');
    expect((await scrape(exporter)).get('lagstorm_pg_up')).toBe(1);
    const client = new Client({ connectionString: cluster.superuserUrl });
    await client.connect();
    const rows = (await client.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'lagstorm-collector'")).rows;
    await client.end();
    expect(rows).toHaveLength(1);
    const hungPid = rows[0].pid;
    process.kill(hungPid, 'SIGSTOP');
    try {
      const startedAt = Date.now();
      const hung = await scrape(exporter);
      expect(hung.get('lagstorm_pg_up')).toBe(0);
      expect(Date.now() - startedAt).toBeLessThan(3000 + 2000);
      expect(exporter.collector.lastError).toMatch(/timed out|timeout/i);
    } finally {
      process.kill(hungPid, 'SIGCONT');
    }
    expect((await scrape(exporter)).get('lagstorm_pg_up')).toBe(1);
  });

  it('picks the checkpoint view by server version', () => {
    expect(checkpointQuery(150004)).toContain('pg_stat_bgwriter');
    expect(checkpointQuery(160000)).toContain('checkpoints_req');
    expect(checkpointQuery(170002)).toContain('pg_stat_checkpointer');
    expect(checkpointQuery(170002)).toContain('num_requested');
  });
});
