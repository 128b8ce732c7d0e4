/**
 * WAL disk faults: pg_wal moved onto a loop volume of the fault's own, then filled until PostgreSQL
 * PANICs (wal-disk-full) or throttled with cgroup v1 blkio limits on the loop device
 * (slow-wal-disk, which measures commit latency before and during and reports whether it rose).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';
import { z } from 'zod';
import { HarnessError } from '../../core/exit-codes';
import type { Capability } from '../../stack/system-under-test';
import { defineFault, healOnce, recordDebris } from '../define-fault';
import type { Fault, FaultHandle, FaultTarget } from '../fault';
import { durationParam, median, nextSequence, requireRoot, round, safeName, sleep } from '../util';
import { connectSuperuser, withSuperuser } from './pg-admin';
import { dropReplicationSlot } from './pg-debris';
import { clearBlkioThrottle } from './volume-debris';
import { moveWalToLoopVolume, type WalVolume } from './wal-volume';

/** pg_wal on a loop volume of the fault's own: SQL, the WAL dir on this host, stop modes, a restart, loop devices. */
const WAL_VOLUME_NEEDS: Capability[] = ['database:sql', 'database:wal-dir', 'database:stop-modes', 'service:postgres:start', 'host:loop-volume'];

function logSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** First line containing PANIC written to the log after byte `offset`, if any. */
export function panicLineSince(file: string, offset: number): string | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const length = Math.max(0, fs.fstatSync(fd).size - offset);
      const buffer = Buffer.alloc(Math.min(length, 4 * 1024 * 1024));
      fs.readSync(fd, buffer, 0, buffer.length, offset);
      return buffer
        .toString('utf8')
        .split('\n')
        .find((line) => line.includes('PANIC'));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function moveWal(target: FaultTarget, sizeMb: number): Promise<WalVolume> {
  const { sut } = target;
  const service = sut.services[sut.database.service];
  if (!service) throw new HarnessError(`the system under test has no ${sut.database.service} service to restart`);
  return moveWalToLoopVolume({ database: sut.database, service, workDir: sut.workDir, sizeMb, debris: sut.debris, log: target.log });
}

export const walDiskFullFault = defineFault({
  type: 'wal-disk-full',
  family: 'wal',
  description: 'pg_wal on a small loop volume of `sizeMb`, pinned by a stuck slot and flooded with WAL until PostgreSQL PANICs (no space left).',
  params: z.strictObject({ sizeMb: z.number().int().min(48).max(1024).default(64), maxFillTime: durationParam.default(45_000) }),
  requiresRoot: true,
  requires: () => WAL_VOLUME_NEEDS,
  targetOf: () => 'postgres',
  proof: "PostgreSQL's PANIC line in its log (no space left on the pg_wal volume)",
  judge: ({ observations }) =>
    typeof observations.panic === 'string'
      ? { bit: true, effect: `PANIC${typeof observations.panicAfterMs === 'number' ? ` after ${observations.panicAfterMs} ms` : ''}: ${observations.panic}` }
      : { bit: false, effect: `no PANIC in the PostgreSQL log: the ${observations.sizeMb} MB volume did not fill${observations.fillerStoppedBy ? ` (filler stopped: ${observations.fillerStoppedBy})` : ''}` },
  locks: () => ['the pg_wal volume', 'the postgres process'], // it stops and starts PostgreSQL to move pg_wal
  async inject(target, p): Promise<FaultHandle> {
    requireRoot('wal-disk-full', 'loop devices and mounts');
    const url = target.sut.database.superuserUrl;
    // The PANIC line is the evidence; without a log on this host the fault still fills the volume.
    const logFile = target.sut.services[target.sut.database.service]?.logFile ?? '';
    const volume = await moveWal(target, p.sizeMb);
    const slot = `lagstorm_fill_${safeName(target.sut.runId, 20)}_${nextSequence()}`;
    const forgetSlot = recordDebris(target.sut.debris, { kind: 'pg-slot', superuserUrl: url, slot });
    const logOffset = logSize(logFile);
    const startedAt = Date.now();
    const observations: Record<string, number | string> = { device: volume.device, sizeMb: p.sizeMb };
    try {
      await withSuperuser(url, (client) => client.query('SELECT pg_create_physical_replication_slot($1, true)', [slot]));
    } catch (error) {
      await volume.restore('fast').catch(() => undefined);
      forgetSlot();
      throw error;
    }

    // The filler: ~4 MB of WAL per statement into a table, until the server dies or heal stops it.
    let stopped = false;
    const filler = (async () => {
      let client: Client | undefined;
      const deadline = startedAt + p.maxFillTime;
      const table = `lagstorm_fill_${nextSequence()}`;
      try {
        client = await connectSuperuser(url, 'lagstorm-wal-disk-full');
        await client.query(`CREATE TABLE ${table} (id bigint, pad text)`);
        while (!stopped && Date.now() < deadline) {
          await client.query(`INSERT INTO ${table} SELECT g, repeat(md5(g::text), 16) FROM generate_series(1, 7000) g`);
        }
      } catch (error) {
        observations.fillerStoppedBy = (error as Error).message.slice(0, 200);
      } finally {
        await client?.end().catch(() => undefined);
      }
      // Wait briefly for the PANIC line: the postmaster logs it as the writer dies.
      for (let i = 0; i < 40 && !stopped; i++) {
        const panic = panicLineSince(logFile, logOffset);
        if (panic) {
          observations.panicAfterMs = Date.now() - startedAt;
          observations.panic = panic.trim().slice(0, 300);
          target.log(`wal-disk-full: PostgreSQL PANICked after ${observations.panicAfterMs}ms`);
          return;
        }
        await sleep(100);
      }
    })();

    return {
      observations,
      heal: healOnce(async () => {
        stopped = true;
        await filler;
        if (!observations.panic) {
          const panic = panicLineSince(logFile, logOffset);
          if (panic) observations.panic = panic.trim().slice(0, 300);
        }
        const healStart = Date.now();
        await volume.restore('immediate'); // stop, WAL back, unmount, detach, start = crash recovery
        await withSuperuser(url, (client) => dropReplicationSlot(client, slot));
        forgetSlot();
        await withSuperuser(url, (client) => client.query("SELECT relname FROM pg_class WHERE relname LIKE 'lagstorm_fill_%' AND relkind = 'r'")).then(async (result) => {
          for (const row of result.rows as Array<{ relname: string }>) await withSuperuser(url, (client) => client.query(`DROP TABLE IF EXISTS ${client.escapeIdentifier(row.relname)}`));
        });
        observations.recoveryMs = Date.now() - healStart;
      }),
    };
  },
});

const BLKIO_ROOT = '/sys/fs/cgroup/blkio';

function throttleFiles(cgroupDir: string): { bps: string; iops: string } {
  return { bps: path.join(cgroupDir, 'blkio.throttle.write_bps_device'), iops: path.join(cgroupDir, 'blkio.throttle.write_iops_device') };
}

function throttleListed(file: string, device: string): boolean {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .some((line) => line.startsWith(`${device} `));
}

/** Median latency (ms) of single-row INSERT + COMMIT (autocommit), each one a WAL flush. */
export async function commitLatencyMs(url: string, table: string, commits: number): Promise<number> {
  return withSuperuser(url, async (client) => {
    await client.query(`CREATE TABLE IF NOT EXISTS ${table} (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())`);
    const samples: number[] = [];
    for (let i = 0; i < commits; i++) {
      const start = process.hrtime.bigint();
      await client.query(`INSERT INTO ${table} DEFAULT VALUES`);
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return median(samples);
  });
}

export const slowWalDiskFault = defineFault({
  type: 'slow-wal-disk',
  family: 'wal',
  description: 'pg_wal on a loop volume whose writes are throttled (cgroup v1 blkio on the loop device): every commit waits for a slow WAL flush.',
  params: z.strictObject({
    sizeMb: z.number().int().min(48).max(4096).default(128),
    writeBytesPerSecond: z.number().int().min(4096).default(1024 * 1024),
    writeIops: z.number().int().min(1).default(50),
    probeCommits: z.number().int().min(3).max(200).default(10),
  }),
  requiresRoot: true,
  requires: () => [...WAL_VOLUME_NEEDS, 'host:blkio'],
  targetOf: () => 'postgres',
  proof: 'commit latency measured before and during the throttle (median INSERT+COMMIT): at least 2x slower',
  judge: ({ observations }) =>
    observations.verified === 'yes'
      ? { bit: true, effect: `commits ${observations.commitMsBefore} ms → ${observations.commitMsDuring} ms (x${observations.slowdown})` }
      : { bit: false, effect: `commits did not slow: ${observations.commitMsBefore} ms → ${observations.commitMsDuring} ms` },
  locks: () => ['the pg_wal volume', 'the postgres process'], // it stops and starts PostgreSQL to move pg_wal
  async inject(target, p): Promise<FaultHandle> {
    requireRoot('slow-wal-disk', 'loop devices, mounts and blkio throttling');
    const files = throttleFiles(BLKIO_ROOT);
    if (!fs.existsSync(files.bps)) throw new HarnessError(`no cgroup v1 blkio throttling at ${BLKIO_ROOT} (needed by slow-wal-disk); this machine has no mechanism to slow the WAL disk`);
    const url = target.sut.database.superuserUrl;
    const volume = await moveWal(target, p.sizeMb);
    const probeTable = `lagstorm_commit_probe_${nextSequence()}`;
    const observations: Record<string, number | string> = { device: volume.device, majorMinor: volume.majorMinor };
    let forgetThrottle: (() => void) | undefined;
    const unthrottle = () => {
      clearBlkioThrottle(BLKIO_ROOT, volume.majorMinor);
      forgetThrottle?.();
    };
    try {
      observations.commitMsBefore = round(await commitLatencyMs(url, probeTable, p.probeCommits));
      // The root blkio group: PostgreSQL's flushes and the kernel's writeback both pass it (a child
      // group would miss writeback, which cgroup v1 charges to the root). The device is ours alone.
      forgetThrottle = recordDebris(target.sut.debris, { kind: 'blkio-throttle', cgroupDir: BLKIO_ROOT, device: volume.majorMinor });
      fs.writeFileSync(files.bps, `${volume.majorMinor} ${p.writeBytesPerSecond}`);
      fs.writeFileSync(files.iops, `${volume.majorMinor} ${p.writeIops}`);
      if (!throttleListed(files.bps, volume.majorMinor)) throw new HarnessError(`blkio throttle on ${volume.majorMinor} did not take`);
      observations.commitMsDuring = round(await commitLatencyMs(url, probeTable, p.probeCommits));
    } catch (error) {
      try {
        unthrottle();
      } finally {
        await volume.restore('fast').catch(() => undefined);
      }
      throw error;
    }
    const slowdown = Number(observations.commitMsDuring) / Math.max(0.001, Number(observations.commitMsBefore));
    observations.slowdown = round(slowdown);
    observations.verified = slowdown >= 2 ? 'yes' : 'no';
    if (slowdown < 2) target.log(`slow-wal-disk: commit latency did NOT rise (${observations.commitMsBefore}ms → ${observations.commitMsDuring}ms); the throttle is not slowing the WAL here`);
    else target.log(`slow-wal-disk: commit latency ${observations.commitMsBefore}ms → ${observations.commitMsDuring}ms`);
    return {
      observations,
      heal: healOnce(async () => {
        unthrottle();
        await volume.restore('fast');
        await withSuperuser(url, (client) => client.query(`DROP TABLE IF EXISTS ${probeTable}`));
      }),
    };
  },
});

export const walVolumeFaults: Fault[] = [walDiskFullFault, slowWalDiskFault] as unknown as Fault[];

