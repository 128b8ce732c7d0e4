/**
 * Host objects of the WAL volume faults: mounts, loop devices, cgroups and blkio throttles, undone
 * after a crash (`lagstorm cleanup`). Careful: a loop device is detached only while it still backs
 * the recorded file; only paths under /sys/fs/cgroup are touched. The blkio throttle is cleared by
 * the same function in heal and cleanup.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { HarnessError } from '../../core/exit-codes';
import { mountPoints, type DebrisUndoer, type DebrisUndoers, type UndoCallOptions } from '../../stack/undo-debris';

const run = promisify(execFile);

async function command(file: string, args: string[], options: UndoCallOptions): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { timeout: options.callTimeoutMs ?? 10_000 });
    return { ok: true, output: `${stdout}${stderr}`.trim() };
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    return { ok: false, output: (failure.stderr || failure.message).trim() };
  }
}

const BLKIO_THROTTLE_FILES = ['blkio.throttle.read_bps_device', 'blkio.throttle.write_bps_device', 'blkio.throttle.read_iops_device', 'blkio.throttle.write_iops_device'];

function throttleListed(file: string, device: string): boolean {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .some((line) => line.startsWith(`${device} `));
}

/**
 * Removes every blkio throttle rule (cgroup v1) of a device 'major:minor' in cgroupDir by writing
 * "major:minor 0", and reads back that none is left; returns the files that had one. Idempotent.
 */
export function clearBlkioThrottle(cgroupDir: string, device: string): string[] {
  if (!/^\d+:\d+$/.test(device)) throw new HarnessError(`refusing odd device ${JSON.stringify(device)} (expected major:minor)`);
  const resolved = path.resolve(cgroupDir);
  if (!resolved.startsWith('/sys/fs/cgroup/')) throw new HarnessError(`refusing ${resolved}: not under /sys/fs/cgroup`);
  const files = BLKIO_THROTTLE_FILES.map((name) => path.join(resolved, name)).filter((file) => fs.existsSync(file));
  const cleared = files.filter((file) => throttleListed(file, device));
  for (const file of cleared) fs.writeFileSync(file, `${device} 0`);
  for (const file of files) if (throttleListed(file, device)) throw new HarnessError(`${file} still throttles ${device}`);
  return cleared.map((file) => path.basename(file));
}

export const undoBlkioThrottle: DebrisUndoer<{ kind: 'blkio-throttle'; cgroupDir: string; device: string }> = (item) => {
  const resolved = path.resolve(item.cgroupDir);
  // Odd input is refused inside clearBlkioThrottle; a well-formed item whose cgroup is gone is already undone.
  if (/^\d+:\d+$/.test(item.device) && resolved.startsWith('/sys/fs/cgroup/') && !fs.existsSync(resolved)) return { outcome: 'absent', detail: 'no such cgroup' };
  const cleared = clearBlkioThrottle(item.cgroupDir, item.device);
  return cleared.length > 0 ? { outcome: 'undone', detail: `cleared ${cleared.join(', ')}` } : { outcome: 'absent', detail: 'no throttle rule for the device' };
};

export const undoMount: DebrisUndoer<{ kind: 'mount'; path: string }> = async (item, options) => {
  const resolved = path.resolve(item.path);
  if (!mountPoints().includes(resolved)) return { outcome: 'absent', detail: 'not mounted' };
  const result = await command('umount', [resolved], options);
  if (result.ok) return { outcome: 'undone', detail: 'unmounted' };
  // Busy (a process still has a file open): detach it now, the kernel finishes when it is free.
  const lazy = await command('umount', ['-l', resolved], options);
  return lazy.ok ? { outcome: 'undone', detail: `unmounted lazily (${result.output})` } : { outcome: 'failed', detail: `umount failed: ${lazy.output}` };
};

export const undoLoopDevice: DebrisUndoer<{ kind: 'loop-device'; device: string; backingFile: string }> = async (item, options) => {
  const name = path.basename(item.device);
  if (!/^loop\d+$/.test(name)) return { outcome: 'failed', detail: `refusing odd loop device ${item.device}` };
  let backing: string;
  try {
    backing = fs.readFileSync(`/sys/block/${name}/loop/backing_file`, 'utf8').trim().replace(/ \(deleted\)$/, '');
  } catch {
    return { outcome: 'absent', detail: 'not attached' };
  }
  if (path.resolve(backing) !== path.resolve(item.backingFile)) return { outcome: 'skipped', detail: `${item.device} now backs ${backing}, not ${item.backingFile}; left alone` };
  const result = await command('losetup', ['-d', item.device], options);
  return result.ok ? { outcome: 'undone', detail: 'detached' } : { outcome: 'failed', detail: `losetup -d failed: ${result.output}` };
};

export const undoCgroup: DebrisUndoer<{ kind: 'cgroup'; path: string }> = (item) => {
  const resolved = path.resolve(item.path);
  if (!resolved.startsWith('/sys/fs/cgroup/')) return { outcome: 'failed', detail: `refusing to rmdir ${resolved}: not under /sys/fs/cgroup` };
  if (!fs.existsSync(resolved)) return { outcome: 'absent', detail: 'no such cgroup' };
  try {
    fs.rmdirSync(resolved);
    return { outcome: 'undone', detail: 'removed' };
  } catch (error) {
    return { outcome: 'failed', detail: `rmdir failed: ${(error as Error).message}` };
  }
};

export const volumeDebrisUndoers = {
  mount: undoMount,
  'loop-device': undoLoopDevice,
  cgroup: undoCgroup,
  'blkio-throttle': undoBlkioThrottle,
} satisfies DebrisUndoers;
