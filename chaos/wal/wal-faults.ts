/**
 * WAL-pressure family on the run's PostgreSQL (superuserUrl): checkpoint storm, WAL flood, stuck
 * replication slot, failing archiver. Settings go through ALTER SYSTEM + reload and are reset on
 * heal; each fault's measured effect lands in its observations.
 */
import type { Client } from 'pg';
import { z } from 'zod';
import type { Capability } from '../../stack/system-under-test';
import { defineFault, healOnce, recordDebris } from '../define-fault';
import type { Fault, FaultHandle } from '../fault';
import { nextSequence, round, safeName, sleep } from '../util';
import { connectSuperuser, currentWalLsn, SystemSettings, walBytesSince, withSuperuser } from './pg-admin';
import { dropReplicationSlot } from './pg-debris';

const formatMb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Every fault here works through superuser SQL alone. */
const sqlOnly = (): Capability[] => ['database:sql'];

const sizeSetting = z.string().regex(/^\d+(kB|MB|GB)$/, 'write a PostgreSQL size such as "32MB"');
const timeSetting = z.string().regex(/^\d+(ms|s|min|h)$/, 'write a PostgreSQL time such as "30s"');

interface CheckpointCounters {
  timed: number;
  requested: number;
}

async function checkpointCounters(client: Client): Promise<CheckpointCounters> {
  const { rows } = await client.query<{ timed: string; requested: string }>('SELECT checkpoints_timed::bigint AS timed, checkpoints_req::bigint AS requested FROM pg_stat_bgwriter');
  return { timed: Number(rows[0].timed), requested: Number(rows[0].requested) };
}

export const checkpointStormFault = defineFault({
  type: 'checkpoint-storm',
  family: 'wal',
  description: 'Tiny max_wal_size and checkpoint_timeout: checkpoints back to back, more full-page images, more WAL.',
  params: z.strictObject({ maxWalSize: sizeSetting.default('32MB'), checkpointTimeout: timeSetting.default('30s') }),
  requires: sqlOnly,
  targetOf: () => 'postgres',
  proof: 'checkpoints forced while it held (pg_stat_bgwriter checkpoints_req + checkpoints_timed)',
  judge: ({ observations }) => {
    const { checkpointsRequested: requested, checkpointsTimed: timed } = observations;
    if (typeof requested !== 'number' || typeof timed !== 'number') return { bit: false, effect: 'not measured: pg_stat_bgwriter could not be read at heal' };
    if (requested + timed === 0) return { bit: false, effect: 'no checkpoint happened while it held (too little WAL written to reach max_wal_size)' };
    return { bit: true, effect: `${requested} requested + ${timed} timed checkpoints (${observations.checkpointsPerMinute}/min)` };
  },
  locks: () => ['postgres setting max_wal_size', 'postgres setting checkpoint_timeout'],
  async inject(target, p) {
    const url = target.sut.database.superuserUrl;
    const before = await withSuperuser(url, checkpointCounters);
    const startedAt = Date.now();
    const settings = new SystemSettings(url, target.sut.debris);
    await settings.set({ max_wal_size: p.maxWalSize, checkpoint_timeout: p.checkpointTimeout });
    const observations: Record<string, number | string> = {};
    const measure = async () => {
      const after = await withSuperuser(url, checkpointCounters);
      const minutes = (Date.now() - startedAt) / 60_000;
      observations.checkpointsRequested = after.requested - before.requested;
      observations.checkpointsTimed = after.timed - before.timed;
      observations.checkpointsPerMinute = round((observations.checkpointsRequested + observations.checkpointsTimed) / minutes);
    };
    return {
      observations,
      heal: healOnce(async () => {
        await measure().catch((error: Error) => target.log(`checkpoint-storm: could not read pg_stat_bgwriter: ${error.message}`));
        await settings.resetAll();
      }),
    };
  },
});

export interface WalFloodOptions {
  rateMbPerSecond: number;
  tableMb: number;
}

/**
 * A noisy writer: single-row updates spread over a table of `tableMb`, so after every checkpoint
 * nearly each update writes a full-page image (8 kB of WAL for a few bytes changed). Paced to
 * `rateMbPerSecond` by the WAL position; stops on stop().
 */
export class WalFlood {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private client: Client | undefined;
  readonly table = `lagstorm_wal_flood_${nextSequence()}`;
  private rows = 0;
  private startLsn = '';
  private startedAt = 0;
  bytesWritten = 0;
  lastError: string | undefined;

  constructor(
    private readonly url: string,
    private readonly options: WalFloodOptions,
  ) {}

  async start(signal?: AbortSignal): Promise<void> {
    this.client = await connectSuperuser(this.url, 'lagstorm-wal-flood');
    const client = this.client;
    // ~ 8 rows of 900 bytes per 8 kB page: a page per few rows, so random updates touch many pages.
    this.rows = Math.max(1000, Math.round((this.options.tableMb * 1024 * 1024) / 1000));
    await client.query(`CREATE TABLE ${this.table} (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0, pad text NOT NULL) WITH (fillfactor = 100)`);
    await client.query(`INSERT INTO ${this.table} (id, pad) SELECT g, repeat('x', 900) FROM generate_series(1, $1) g`, [this.rows]);
    // A checkpoint now makes the next change of every page write a full-page image: the amplification.
    await client.query('CHECKPOINT');
    if (signal?.aborted) throw new Error('aborted');
    this.startLsn = await currentWalLsn(client);
    this.startedAt = Date.now();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const client = this.client as Client;
    const bytesPerMs = (this.options.rateMbPerSecond * 1024 * 1024) / 1000;
    let batch = 50;
    while (!this.stopped) {
      try {
        this.bytesWritten = await walBytesSince(client, this.startLsn);
        const due = bytesPerMs * (Date.now() - this.startedAt) - this.bytesWritten;
        if (due <= 0) {
          await sleep(Math.min(100, Math.ceil(-due / bytesPerMs) + 1));
          continue;
        }
        const before = this.bytesWritten;
        await client.query(`UPDATE ${this.table} SET n = n + 1 WHERE id IN (SELECT 1 + (random() * ($1::int - 1))::int FROM generate_series(1, $2::int))`, [this.rows, batch]);
        const produced = (await walBytesSince(client, this.startLsn)) - before;
        const perRow = Math.max(100, produced / batch);
        batch = Math.max(10, Math.min(5000, Math.round(Math.min(due, bytesPerMs * 100) / perRow)));
      } catch (error) {
        this.lastError = (error as Error).message;
        if (this.stopped) break;
        await sleep(200); // the server may be restarting; keep pacing without spinning
        if (!this.client) break;
      }
    }
  }

  /** Stops the writer and drops its table (best effort on a dead server); idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      this.bytesWritten = await walBytesSince(client, this.startLsn).catch(() => this.bytesWritten);
      await client.query(`DROP TABLE IF EXISTS ${this.table}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  get elapsedMs(): number {
    return this.startedAt ? Date.now() - this.startedAt : 0;
  }
}

async function walStats(client: Client): Promise<{ bytes: number; fpi: number }> {
  const { rows } = await client.query<{ bytes: string; fpi: string }>('SELECT wal_bytes::bigint AS bytes, wal_fpi::bigint AS fpi FROM pg_stat_wal');
  return { bytes: Number(rows[0].bytes), fpi: Number(rows[0].fpi) };
}

export const walFloodFault = defineFault({
  type: 'wal-flood',
  family: 'wal',
  description: 'A noisy writer producing WAL at `rateMbPerSecond` with full-page-write amplification (updates spread over a `tableMb` table).',
  params: z.strictObject({ rateMbPerSecond: z.number().positive().max(200).default(8), tableMb: z.number().int().min(1).max(1024).default(32) }),
  requires: sqlOnly,
  targetOf: () => 'postgres',
  proof: 'WAL written while it ran (pg_stat_wal wal_bytes, full-page images)',
  judge: ({ observations }) => {
    const bytes = observations.walBytes;
    if (typeof bytes !== 'number') return { bit: false, effect: `not measured: pg_stat_wal could not be read at heal${observations.lastWriterError ? ` (writer: ${observations.lastWriterError})` : ''}` };
    if (bytes <= 0) return { bit: false, effect: 'no WAL was written while it ran' };
    return { bit: true, effect: `${formatMb(bytes)} of WAL at ${observations.walMbPerSecond} MB/s, ${observations.fullPageImages} full-page images` };
  },
  async inject(target, p, signal): Promise<FaultHandle> {
    const url = target.sut.database.superuserUrl;
    const flood = new WalFlood(url, p);
    try {
      await flood.start(signal);
    } catch (error) {
      await flood.stop().catch(() => undefined);
      throw error;
    }
    const before = await withSuperuser(url, walStats);
    const startedAt = Date.now();
    const observations: Record<string, number | string> = { table: flood.table };
    return {
      observations,
      heal: healOnce(async () => {
        const after = await withSuperuser(url, walStats).catch(() => undefined);
        const seconds = (Date.now() - startedAt) / 1000;
        await flood.stop();
        if (after) {
          observations.walBytes = after.bytes - before.bytes;
          observations.walMbPerSecond = round((after.bytes - before.bytes) / 1024 / 1024 / seconds);
          observations.fullPageImages = after.fpi - before.fpi;
        }
        if (flood.lastError) observations.lastWriterError = flood.lastError;
      }),
    };
  },
});

export const stuckSlotFault = defineFault({
  type: 'stuck-slot',
  family: 'wal',
  description: 'A physical replication slot nobody reads (reserved at once): PostgreSQL keeps all WAL since, up to `capMb` (max_slot_wal_keep_size).',
  params: z.strictObject({ capMb: z.number().int().min(16).default(1024) }),
  requires: sqlOnly,
  targetOf: () => 'postgres',
  proof: 'WAL the slot retained (pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) at heal)',
  judge: ({ observations }) => {
    const retained = observations.retainedBytes;
    if (typeof retained !== 'number') return { bit: false, effect: 'not measured: the slot could not be read at heal' };
    if (retained <= 0) return { bit: false, effect: 'the slot retained no WAL (nothing was written while it held)' };
    return { bit: true, effect: `the slot pinned ${formatMb(retained)} of WAL (wal_status ${observations.walStatus})` };
  },
  locks: () => ['postgres setting max_slot_wal_keep_size'],
  async inject(target, p): Promise<FaultHandle> {
    const url = target.sut.database.superuserUrl;
    const slot = `lagstorm_stuck_${safeName(target.sut.runId, 20)}_${nextSequence()}`;
    const settings = new SystemSettings(url, target.sut.debris);
    const forgetSlot = recordDebris(target.sut.debris, { kind: 'pg-slot', superuserUrl: url, slot });
    const drop = async () => {
      await withSuperuser(url, (client) => dropReplicationSlot(client, slot));
      forgetSlot();
    };
    try {
      await settings.set({ max_slot_wal_keep_size: `${p.capMb}MB` });
      await withSuperuser(url, (client) => client.query('SELECT pg_create_physical_replication_slot($1, true)', [slot]));
    } catch (error) {
      await drop().catch(() => undefined);
      await settings.resetAll().catch(() => undefined);
      throw error;
    }
    const observations: Record<string, number | string> = { slot };
    return {
      observations,
      heal: healOnce(async () => {
        const state = await withSuperuser(url, (client) =>
          client.query<{ retained: string | null; wal_status: string | null }>(
            'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained, wal_status FROM pg_replication_slots WHERE slot_name = $1',
            [slot],
          ),
        ).catch(() => undefined);
        if (state?.rows[0]) {
          observations.retainedBytes = Number(state.rows[0].retained ?? 0);
          observations.walStatus = state.rows[0].wal_status ?? 'unknown';
        }
        await drop();
        await settings.resetAll();
      }),
    };
  },
});

/** Where the archiver stands: failures, and WAL segments waiting to be archived. */
async function archiverState(client: Client): Promise<{ failed: number; ready: number; walFiles: number }> {
  const { rows } = await client.query<{ failed: string; ready: string; wal_files: string }>(
    `SELECT (SELECT failed_count FROM pg_stat_archiver)::bigint AS failed,
            (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready')::bigint AS ready,
            (SELECT count(*) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$')::bigint AS wal_files`,
  );
  return { failed: Number(rows[0].failed), ready: Number(rows[0].ready), walFiles: Number(rows[0].wal_files) };
}

export const failingArchiverFault = defineFault({
  type: 'failing-archiver',
  family: 'wal',
  description: "archive_command '/bin/false': every archive attempt fails, the archiver retries forever and WAL piles up in pg_wal.",
  params: z.strictObject({}),
  requires: sqlOnly,
  targetOf: () => 'postgres',
  proof: 'archive attempts that failed while it held (pg_stat_archiver.failed_count)',
  judge: ({ observations }) => {
    const failed = observations.failedCount;
    if (typeof failed !== 'number') return { bit: false, effect: 'not measured: pg_stat_archiver could not be read at heal' };
    if (failed <= 0) return { bit: false, effect: `no archive attempt failed: no WAL segment was completed while it held (${observations.readyFiles} segments waiting)` };
    return { bit: true, effect: `${failed} archive attempts failed; ${observations.readyFiles} segments waiting, ${observations.walFilesPiledUp} more in pg_wal` };
  },
  locks: () => ['postgres setting archive_command'],
  async inject(target): Promise<FaultHandle> {
    const url = target.sut.database.superuserUrl;
    const before = await withSuperuser(url, archiverState);
    const settings = new SystemSettings(url, target.sut.debris);
    // Needs archive_command in a config file: one given with -c cannot be overridden by ALTER SYSTEM
    // (SystemSettings.set says so clearly rather than pretending).
    await settings.set({ archive_command: '/bin/false' });
    target.log('failing-archiver: archive_command is now /bin/false');
    const observations: Record<string, number | string> = {};
    return {
      observations,
      heal: healOnce(async () => {
        const after = await withSuperuser(url, archiverState).catch(() => undefined);
        if (after) {
          observations.failedCount = after.failed - before.failed;
          observations.readyFiles = after.ready;
          observations.walFilesPiledUp = after.walFiles - before.walFiles;
        }
        await settings.resetAll();
      }),
    };
  },
});

export const walFaults: Fault[] = [checkpointStormFault, walFloodFault, stuckSlotFault, failingArchiverFault] as unknown as Fault[];

