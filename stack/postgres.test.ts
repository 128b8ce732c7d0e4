import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { isListening } from './ports';
import { startPostgres, type PostgresCluster } from './postgres';

describe('startPostgres', () => {
  let dir: string;
  let cluster: PostgresCluster | undefined;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-pg-test-'));
  });
  afterAll(async () => {
    await cluster?.stop('SIGINT');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts a durable cluster, survives a crash (immediate stop) and restarts with committed data', async () => {
    cluster = await startPostgres({ baseDir: path.join(dir, 'pg'), logFile: path.join(dir, 'pg.log') });
    const client = new Client({ connectionString: cluster.superuserUrl });
    await client.connect();
    const settings = await client.query("SELECT name, setting FROM pg_settings WHERE name IN ('fsync','synchronous_commit','track_wal_io_timing') ORDER BY name");
    expect(settings.rows).toEqual([
      { name: 'fsync', setting: 'on' },
      { name: 'synchronous_commit', setting: 'on' },
      { name: 'track_wal_io_timing', setting: 'on' },
    ]);
    await client.query('CREATE TABLE t (v int); INSERT INTO t VALUES (42)');
    await client.end();

    const firstPid = cluster.pid;
    await cluster.stopWithMode('immediate');
    expect(cluster.isRunning()).toBe(false);
    expect(await isListening(cluster.port)).toBe(false);

    await cluster.start();
    expect(cluster.pid).not.toBe(firstPid);
    const again = new Client({ connectionString: cluster.superuserUrl });
    await again.connect();
    expect((await again.query('SELECT v FROM t')).rows).toEqual([{ v: 42 }]);
    await again.end();
  });
});

describe('ManagedProcess', () => {
  it('reports a binary that cannot be spawned, and stop() then returns at once', async () => {
    const { ManagedProcess } = await import('./managed-process');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-mp-test-'));
    try {
      const part = new ManagedProcess({ name: 'ghost', command: path.join(dir, 'no-such-binary'), args: [], logFile: path.join(dir, 'ghost.log'), healthCheck: async () => true });
      await expect(part.start()).rejects.toThrow(/ghost could not be started \(spawn .*ENOENT\); is it installed\? run `lagstorm doctor`/);
      await part.stop('SIGKILL', 1000);
      await part.waitForExit();
      expect(part.isRunning()).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
