import fs from 'node:fs';
import path from 'node:path';
import { withSuperuser } from './pg-admin';
import { defaultRegistry } from '../registry';
import { startTestStack, type TestStack } from '../testing/test-stack';
import { isMounted } from './wal-volume';

async function inject(t: TestStack, type: string, params: Record<string, unknown>) {
  return defaultRegistry.get(type).inject(t.target, defaultRegistry.parse(type, params), new AbortController().signal);
}

const throttled = (device: string) => fs.readFileSync('/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device', 'utf8').includes(`${device} `);

describe('WAL disk faults (loop volumes; root)', () => {
  let t: TestStack;
  let url: string;
  let walLink: string;
  let walDir: string;

  beforeAll(async () => {
    t = await startTestStack({ postgres: true });
    url = t.stack.postgres.superuserUrl;
    walLink = path.join(t.stack.postgres.dataDir, 'pg_wal');
    walDir = fs.realpathSync(walLink);
    await withSuperuser(url, (c) => c.query('CREATE TABLE kept (v int); INSERT INTO kept VALUES (1)'));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('slow-wal-disk really raises single-row commit latency, and heals completely', async () => {
    const handle = await inject(t, 'slow-wal-disk', { writeBytesPerSecond: 512 * 1024, writeIops: 20, probeCommits: 6 });
    const obs = handle.observations as Record<string, number | string>;
    const device = String(obs.majorMinor);
    expect(throttled(device)).toBe(true);
    expect(fs.realpathSync(walLink)).not.toBe(walDir);
    await handle.heal();
    console.log(`slow-wal-disk commit latency: ${obs.commitMsBefore} ms → ${obs.commitMsDuring} ms (x${obs.slowdown})`);
    expect(obs.verified).toBe('yes');
    expect(Number(obs.commitMsDuring)).toBeGreaterThan(2 * Number(obs.commitMsBefore));
    expect(throttled(device)).toBe(false);
    expect(fs.realpathSync(walLink)).toBe(walDir);
    expect(t.debris.list()).toEqual([]);
    expect((await withSuperuser(url, (c) => c.query('SELECT v FROM kept'))).rows).toEqual([{ v: 1 }]);
  });

  it('wal-disk-full fills a 64 MB WAL volume until PostgreSQL PANICs, then heals with crash recovery', async () => {
    const handle = await inject(t, 'wal-disk-full', { sizeMb: 64, maxFillTime: 40_000 });
    const obs = handle.observations as Record<string, number | string>;
    const mountPoint = path.dirname(fs.realpathSync(walLink));
    expect(await isMounted(mountPoint)).toBe(true);
    expect(t.debris.list().map((d) => d.item.kind).sort()).toEqual(['dir', 'loop-device', 'mount', 'pg-slot']);
    for (let i = 0; i < 450 && obs.panic === undefined; i++) await new Promise((r) => setTimeout(r, 100));
    await handle.heal();
    console.log(`wal-disk-full: PANIC after ${obs.panicAfterMs} ms: ${obs.panic}; recovery ${obs.recoveryMs} ms`);
    expect(String(obs.panic)).toMatch(/PANIC/);
    expect(await isMounted(mountPoint)).toBe(false);
    expect(fs.realpathSync(walLink)).toBe(walDir);
    expect(t.stack.postgres.isRunning()).toBe(true);
    expect(t.debris.list()).toEqual([]);
    expect((await withSuperuser(url, (c) => c.query('SELECT v FROM kept'))).rows).toEqual([{ v: 1 }]);
    expect((await withSuperuser(url, (c) => c.query('SELECT count(*)::int AS n FROM pg_replication_slots'))).rows[0].n).toBe(0);
  });
});
