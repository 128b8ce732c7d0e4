/**
 * Moves a running cluster's pg_wal onto a fresh ext4 loop volume of its own (and back): the base of
 * wal-disk-full (a small volume that fills) and slow-wal-disk (a throttled one). Every step is
 * recorded as debris before it acts; a failure half-way undoes the steps done so far.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HarnessError } from '../../core/exit-codes';
import type { DebrisRecorder } from '../../stack/debris';
import { allowTraversalWithinTmp, findPostgresBinDir } from '../../stack/postgres';
import type { DatabaseControl, ServiceControl } from '../../stack/system-under-test';
import { recordDebris, UndoStack } from '../define-fault';
import { runCommand, sleep, waitFor } from '../util';

const SEGMENT = /^[0-9A-F]{24}$/;

export interface WalVolume {
  device: string;
  /** 'major:minor' of the loop device, for blkio throttling. */
  majorMinor: string;
  mountPoint: string;
  walPath: string;
  /** Stops PostgreSQL (mode), moves pg_wal back, unmounts, detaches, starts PostgreSQL; idempotent. */
  restore(stopMode: 'immediate' | 'fast'): Promise<void>;
}

export async function isMounted(mountPoint: string): Promise<boolean> {
  const mounts = await fs.promises.readFile('/proc/self/mounts', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[1] === mountPoint);
}

async function loopDevicesOf(backingFile: string): Promise<string[]> {
  const { stdout } = await runCommand('losetup', ['-j', backingFile], { timeoutMs: 5000 });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(':')[0]);
}

/** Latest checkpoint's REDO segment: after a clean stop, later segments are only recycled spares. */
async function redoSegment(dataDir: string): Promise<string> {
  const binDir = findPostgresBinDir();
  if (!binDir) throw new HarnessError('pg_controldata not found (PostgreSQL server binaries missing)');
  const { stdout } = await runCommand(path.join(binDir, 'pg_controldata'), ['-D', dataDir], { timeoutMs: 10_000 });
  const match = /Latest checkpoint's REDO WAL file:\s+([0-9A-F]{24})/.exec(stdout);
  if (!match) throw new HarnessError(`cannot read the REDO WAL file from pg_controldata:\n${stdout}`);
  return match[1];
}

async function copyEntries(from: string, to: string, keep: (name: string) => boolean): Promise<void> {
  const names = fs.readdirSync(from).filter(keep);
  if (names.length > 0) await runCommand('cp', ['-a', ...names.map((name) => path.join(from, name)), to + '/'], { timeoutMs: 60_000 });
}

function pointPgWalAt(dataDir: string, target: string): void {
  const link = path.join(dataDir, 'pg_wal');
  const temporary = `${link}.lagstorm-new`;
  fs.rmSync(temporary, { force: true });
  fs.symlinkSync(target, temporary);
  fs.renameSync(temporary, link); // atomic swap of the symlink
}

export interface MoveWalOptions {
  /** Needs `database:wal-dir` (dataDir on this host) and `database:stop-modes`. */
  database: DatabaseControl;
  /** The database's service, to start it again (`service:postgres:start`). */
  service: ServiceControl;
  workDir: string;
  sizeMb: number;
  debris: DebrisRecorder;
  log: (line: string) => void;
}

export async function moveWalToLoopVolume(options: MoveWalOptions): Promise<WalVolume> {
  const { database, service, debris, log } = options;
  const dataDir = database.dataDir;
  const stopWithMode = database.stopWithMode?.bind(database);
  if (!dataDir || !stopWithMode) throw new HarnessError('moving pg_wal needs the data directory on this host and PostgreSQL stop modes (database:wal-dir, database:stop-modes)');
  const postgres = { dataDir, stopWithMode, start: () => service.start() };
  const pgWal = path.join(postgres.dataDir, 'pg_wal');
  if (!fs.lstatSync(pgWal).isSymbolicLink()) throw new HarnessError(`${pgWal} is not a symlink (initdb --waldir); cannot move WAL to a loop volume`);
  const originalWalDir = fs.realpathSync(pgWal);
  const owner = fs.statSync(originalWalDir);

  const undo = new UndoStack();
  fs.mkdirSync(options.workDir, { recursive: true });
  const volumeDir = fs.mkdtempSync(path.join(options.workDir, 'wal-volume-'));
  const forgetDir = recordDebris(debris, { kind: 'dir', path: volumeDir });
  undo.push('remove volume dir', async () => {
    fs.rmSync(volumeDir, { recursive: true, force: true });
    forgetDir();
  });
  if (process.getuid?.() !== owner.uid) allowTraversalWithinTmp(volumeDir);
  const image = path.join(volumeDir, 'wal.img');
  const mountPoint = path.join(volumeDir, 'mnt');
  const walPath = path.join(mountPoint, 'wal');
  let device = '';
  let majorMinor = '';
  let pgWalMoved = false;
  try {
    fs.writeFileSync(image, '');
    fs.truncateSync(image, options.sizeMb * 1024 * 1024);
    for (let attempt = 0; ; attempt++) {
      device = (await runCommand('losetup', ['-f'], { timeoutMs: 5000 })).stdout.trim();
      const forgetLoop = recordDebris(debris, { kind: 'loop-device', device, backingFile: image });
      try {
        await runCommand('losetup', [device, image], { timeoutMs: 10_000 });
        undo.push(`detach ${device}`, async () => {
          for (const attached of await loopDevicesOf(image)) await runCommand('losetup', ['-d', attached], { timeoutMs: 10_000 });
          forgetLoop();
        });
        break;
      } catch (error) {
        forgetLoop();
        if (attempt >= 3) throw error; // another process took that device between -f and attach
      }
    }
    majorMinor = fs.readFileSync(`/sys/block/${path.basename(device)}/dev`, 'utf8').trim();
    await runCommand('mkfs.ext4', ['-q', '-F', '-m', '0', device], { timeoutMs: 30_000 });
    fs.mkdirSync(mountPoint);
    const forgetMount = recordDebris(debris, { kind: 'mount', path: mountPoint });
    await runCommand('mount', [device, mountPoint], { timeoutMs: 10_000 });
    undo.push(`unmount ${mountPoint}`, async () => {
      for (let attempt = 0; (await isMounted(mountPoint)) && attempt < 20; attempt++) {
        await runCommand('umount', [mountPoint], { timeoutMs: 10_000 }).catch(() => sleep(200));
      }
      if (await isMounted(mountPoint)) throw new HarnessError(`${mountPoint} is still mounted`);
      forgetMount();
    });
    fs.mkdirSync(walPath, { mode: 0o700 });
    fs.chownSync(walPath, owner.uid, owner.gid);
    fs.chownSync(mountPoint, owner.uid, owner.gid);

    await postgres.stopWithMode('fast');
    undo.push('start PostgreSQL', () => postgres.start());
    const redo = await redoSegment(postgres.dataDir);
    await copyEntries(originalWalDir, walPath, (name) => !SEGMENT.test(name) || name <= redo);
    pointPgWalAt(postgres.dataDir, walPath);
    pgWalMoved = true;
    undo.push('point pg_wal back', async () => pointPgWalAt(postgres.dataDir, originalWalDir));
    await postgres.start();
  } catch (error) {
    await undo.unwind().catch((undoError: Error) => log(`wal volume: ${undoError.message}`));
    throw error;
  }
  log(`pg_wal moved to ${walPath} on ${device} (${options.sizeMb} MB ext4)`);

  let restored = false;
  return {
    device,
    majorMinor,
    mountPoint,
    walPath,
    async restore(stopMode) {
      if (restored) return;
      await postgres.stopWithMode(stopMode);
      if (pgWalMoved && fs.realpathSync(pgWal) !== originalWalDir) {
        // The loop volume holds the only current WAL: copy all of it back (crash recovery needs it).
        for (const name of fs.readdirSync(originalWalDir)) fs.rmSync(path.join(originalWalDir, name), { recursive: true, force: true });
        await copyEntries(walPath, originalWalDir, (name) => !name.startsWith('xlogtemp'));
        pointPgWalAt(postgres.dataDir, originalWalDir);
      }
      await undo.unwind(); // start PostgreSQL (crash recovery if it died), unmount, detach, remove dir
      await waitFor('the loop volume to be gone', async () => ((await isMounted(mountPoint)) || fs.existsSync(image) ? undefined : true), 5000);
      restored = true;
      log(`pg_wal back in ${originalWalDir}; ${device} detached`);
    },
  };
}
