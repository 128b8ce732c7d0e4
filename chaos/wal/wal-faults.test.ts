import { Client } from 'pg';
import { withSuperuser } from './pg-admin';
import { defaultRegistry } from '../registry';
import { startTestStack, type TestStack } from '../testing/test-stack';

async function inject(t: TestStack, type: string, params: Record<string, unknown>) {
  return defaultRegistry.get(type).inject(t.target, defaultRegistry.parse(type, params), new AbortController().signal);
}

/** ~mb MB of WAL: inserts of wide rows. */
async function writeWal(url: string, mb: number): Promise<void> {
  await withSuperuser(url, async (client) => {
    await client.query('CREATE TABLE IF NOT EXISTS wal_load (id int, pad text)');
    for (let i = 0; i < mb / 4; i++) await client.query("INSERT INTO wal_load SELECT g, repeat('w', 400) FROM generate_series(1, 8000) g");
  });
}

/** The registered fault's verdict on what its handle measured. */
const judge = (type: string, observations: Record<string, number | string>) => defaultRegistry.get(type).judge({ params: defaultRegistry.parse(type, {}), observations });

const setting = (url: string, name: string) => withSuperuser(url, async (c: Client) => (await c.query('SELECT setting, source FROM pg_settings WHERE name = $1', [name])).rows[0]);

describe('WAL-pressure and PostgreSQL process faults (real PostgreSQL 15)', () => {
  let t: TestStack;
  let url: string;

  beforeAll(async () => {
    t = await startTestStack({ postgres: true });
    url = t.stack.postgres.superuserUrl;
  });
  afterAll(async () => {
    await t?.stop();
  });
  afterEach(() => {
    expect(t.debris.list()).toEqual([]);
  });

  it('checkpoint-storm makes WAL writes trigger requested checkpoints, and resets the settings', async () => {
    const before = await setting(url, 'max_wal_size');
    const handle = await inject(t, 'checkpoint-storm', {});
    expect((await setting(url, 'max_wal_size')).setting).toBe('32');
    expect(t.debris.list().map((d) => d.item.kind)).toEqual(['pg-setting', 'pg-setting']);
    await writeWal(url, 48);
    await new Promise((r) => setTimeout(r, 300));
    await handle.heal();
    expect(Number(handle.observations?.checkpointsRequested)).toBeGreaterThanOrEqual(1);
    expect(Number(handle.observations?.checkpointsPerMinute)).toBeGreaterThan(1);
    expect(judge('checkpoint-storm', handle.observations!).bit).toBe(true);
    expect(await setting(url, 'max_wal_size')).toEqual(before);
    expect((await setting(url, 'checkpoint_timeout')).setting).toBe('300');
  });

  it('stuck-slot retains the WAL written since, and the slot is dropped on heal', async () => {
    const handle = await inject(t, 'stuck-slot', { capMb: 256 });
    expect((await setting(url, 'max_slot_wal_keep_size')).setting).toBe('256');
    await writeWal(url, 20);
    await handle.heal();
    expect(Number(handle.observations?.retainedBytes)).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(judge('stuck-slot', handle.observations!)).toMatchObject({ bit: true, effect: expect.stringMatching(/^the slot pinned \d+\.\d MB of WAL/) });
    expect(await withSuperuser(url, async (c) => (await c.query('SELECT count(*)::int AS n FROM pg_replication_slots')).rows[0].n)).toBe(0);
    expect((await setting(url, 'max_slot_wal_keep_size')).setting).toBe('-1');
  });

});

describe('failing-archiver on a PostgreSQL whose archive_command is fixed on the command line', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ postgres: true, postgresCommandLine: { archive_command: '/bin/true' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('refuses clearly, changing nothing', async () => {
    await expect(inject(t, 'failing-archiver', {})).rejects.toThrow(/archive_command is given on the server command line/);
    expect((await setting(t.stack.postgres.superuserUrl, 'archive_command')).setting).toBe('/bin/true');
  });
});

describe('failing-archiver (settings in postgresql.conf, as the stack starts PostgreSQL)', () => {
  let t: TestStack;
  let url: string;

  beforeAll(async () => {
    t = await startTestStack({ postgres: true });
    url = t.stack.postgres.superuserUrl;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('makes archiving fail (failed_count rises, .ready files pile up) and archiving resumes after heal', async () => {
    const handle = await inject(t, 'failing-archiver', {});
    expect((await setting(url, 'archive_command')).setting).toBe('/bin/false');
    for (let i = 0; i < 3; i++) await withSuperuser(url, (c) => c.query("CREATE TABLE IF NOT EXISTS arch (v int); INSERT INTO arch VALUES (1); SELECT pg_switch_wal()"));
    const failed = async () => Number((await withSuperuser(url, (c) => c.query('SELECT failed_count FROM pg_stat_archiver'))).rows[0].failed_count);
    for (let i = 0; i < 60 && (await failed()) < 1; i++) await new Promise((r) => setTimeout(r, 100));
    await handle.heal();
    expect(Number(handle.observations?.failedCount)).toBeGreaterThanOrEqual(1);
    expect(Number(handle.observations?.readyFiles)).toBeGreaterThanOrEqual(1);
    expect(judge('failing-archiver', handle.observations!)).toMatchObject({ bit: true, effect: expect.stringMatching(/^\d+ archive attempts failed; \d+ segments waiting/) });
    expect((await setting(url, 'archive_command')).setting).toBe('/bin/true');
    // Archiving works again: the pile drains (the archiver wakes on the next switch).
    await withSuperuser(url, (c) => c.query('SELECT pg_switch_wal()'));
    const ready = async () => Number((await withSuperuser(url, (c) => c.query("SELECT count(*) AS n FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'"))).rows[0].n);
    for (let i = 0; i < 100 && (await ready()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await ready()).toBe(0);
    expect(t.debris.list()).toEqual([]);
  });

  // Same stack, after the test above drained the archive pile: nothing is waiting when this one starts.
  it('with no WAL segment completed while it held, nothing failed: it is judged "did not bite"', async () => {
    const handle = await inject(t, 'failing-archiver', {});
    await withSuperuser(url, (c) => c.query('CREATE TABLE IF NOT EXISTS quiet (v int); INSERT INTO quiet VALUES (1)')); // a little WAL, no segment switch
    await new Promise((r) => setTimeout(r, 1500));
    await handle.heal();
    expect(handle.observations).toMatchObject({ failedCount: 0, readyFiles: 0 });
    expect(judge('failing-archiver', handle.observations!)).toEqual({ bit: false, effect: 'no archive attempt failed: no WAL segment was completed while it held (0 segments waiting)' });
    expect(t.debris.list()).toEqual([]);
  });
});

describe('WAL-pressure faults, continued', () => {
  let t: TestStack;
  let url: string;

  beforeAll(async () => {
    t = await startTestStack({ postgres: true });
    url = t.stack.postgres.superuserUrl;
  });
  afterAll(async () => {
    await t?.stop();
  });
  afterEach(() => {
    expect(t.debris.list()).toEqual([]);
  });

  it('wal-flood writes WAL at roughly the asked rate, with full-page images, and drops its table', async () => {
    const handle = await inject(t, 'wal-flood', { rateMbPerSecond: 6, tableMb: 8 });
    await new Promise((r) => setTimeout(r, 2000));
    await handle.heal();
    const rate = Number(handle.observations?.walMbPerSecond);
    expect(rate).toBeGreaterThan(3);
    expect(rate).toBeLessThan(12);
    expect(Number(handle.observations?.fullPageImages)).toBeGreaterThan(100);
    expect(judge('wal-flood', handle.observations!).bit).toBe(true);
    const table = String(handle.observations?.table);
    expect(await withSuperuser(url, async (c) => (await c.query('SELECT to_regclass($1) AS t', [table])).rows[0].t)).toBeNull();
  });

  it('postgres-crash stops it at once, restarts after downtime with committed data intact', async () => {
    await withSuperuser(url, (c) => c.query('CREATE TABLE IF NOT EXISTS durable (v int); INSERT INTO durable VALUES (7)'));
    const handle = await inject(t, 'postgres-crash', { downtime: 300 });
    expect(t.stack.postgres.isRunning()).toBe(false);
    for (let i = 0; i < 200 && handle.observations?.downtimeMs === undefined; i++) await new Promise((r) => setTimeout(r, 50));
    await handle.heal();
    expect(t.stack.postgres.isRunning()).toBe(true);
    expect(Number(handle.observations?.downtimeMs)).toBeGreaterThanOrEqual(300);
    expect((await withSuperuser(url, (c) => c.query('SELECT v FROM durable'))).rows).toEqual([{ v: 7 }]);
    expect(judge('postgres-crash', handle.observations!)).toMatchObject({ bit: true, effect: expect.stringMatching(/^postgres down \d+ ms \(pid \d+ → pid \d+\)$/) });
  });

  it('postgres-restart is back when inject returns and measures the downtime', async () => {
    const pid = t.stack.postgres.pid;
    const handle = await inject(t, 'postgres-restart', {});
    expect(t.stack.postgres.pid).not.toBe(pid);
    expect(Number(handle.observations?.downtimeMs)).toBeGreaterThan(0);
    await handle.heal();
  });
});
