/**
 * Undoes one debris item. Every undo is idempotent (a thing already gone is not an error) and
 * careful: a process is signalled only while /proc/<pid>/stat still shows the recorded start time,
 * a loop device is detached only while it still backs the recorded file.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import type { DebrisItem } from './debris';
import { ToxiproxyApi } from './toxiproxy-api';
import { readProcStat } from './managed-process';

const run = promisify(execFile);

/** undone: removed now; absent: already gone; skipped: not ours any more (reused pid/device); failed: still there. */
export type UndoOutcome = 'undone' | 'absent' | 'skipped' | 'failed';

export interface UndoResult {
  outcome: UndoOutcome;
  detail: string;
}

export interface UndoOptions {
  /** How long a process gets after SIGTERM before SIGKILL. */
  killTimeoutMs?: number;
  /** Timeout of each external call (HTTP, PostgreSQL, commands). */
  callTimeoutMs?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const NFT_NAME = /^[A-Za-z0-9_-]+$/;

export async function undoDebrisItem(item: DebrisItem, options: UndoOptions = {}): Promise<UndoResult> {
  try {
    switch (item.kind) {
      case 'process':
        return await undoProcess(item, options.killTimeoutMs ?? 10_000);
      case 'dir':
        return undoDir(item.path);
      case 'nft-table':
        return await undoNftTable(item.family, item.table, options);
      case 'mount':
        return await undoMount(item.path, options);
      case 'loop-device':
        return await undoLoopDevice(item.device, item.backingFile, options);
      case 'cgroup':
        return undoCgroup(item.path);
      case 'toxiproxy-reset':
        return await undoToxiproxy(item.apiUrl, options);
      case 'blkio-throttle':
        return undoBlkioThrottle(item.cgroupDir, item.device);
      case 'pg-setting':
        return await undoPostgres(item.superuserUrl, options, async (client) => {
          if (!IDENTIFIER.test(item.setting)) return { outcome: 'failed', detail: `refusing odd setting name ${JSON.stringify(item.setting)}` };
          await client.query(`ALTER SYSTEM RESET ${item.setting}`);
          await client.query('SELECT pg_reload_conf()');
          return { outcome: 'undone', detail: 'ALTER SYSTEM RESET + reload' };
        });
      case 'pg-slot':
        return await undoPostgres(item.superuserUrl, options, async (client) => {
          const slot = await client.query('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [item.slot]);
          if (slot.rowCount === 0) return { outcome: 'absent', detail: 'no such slot' };
          if (slot.rows[0].active_pid) await client.query('SELECT pg_terminate_backend($1)', [slot.rows[0].active_pid]);
          await client.query('SELECT pg_drop_replication_slot($1)', [item.slot]);
          return { outcome: 'undone', detail: 'slot dropped' };
        });
    }
  } catch (error) {
    return { outcome: 'failed', detail: (error as Error).message };
  }
}

// ---- processes ----

/** Still the recorded process, and not a zombie waiting to be reaped. */
function isSameLiveProcess(pid: number, startTime: string): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PostgreSQL's postmaster shuts down fast (disconnecting clients) on SIGINT; SIGTERM would wait for them. */
function stopSignalFor(name: string): NodeJS.Signals {
  return name.startsWith('postgres') ? 'SIGINT' : 'SIGTERM';
}

async function undoProcess(item: Extract<DebrisItem, { kind: 'process' }>, killTimeoutMs: number): Promise<UndoResult> {
  const { pid, startTime } = item;
  const stat = readProcStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return { outcome: 'absent', detail: 'not running' };
  if (startTime === undefined) return { outcome: 'skipped', detail: `no start time was recorded, so pid ${pid} cannot be told from a reused pid; left alone` };
  if (stat.startTime !== startTime) return { outcome: 'skipped', detail: `pid ${pid} now belongs to another process (start time ${stat.startTime}, recorded ${startTime}); left alone` };

  // Our children lead their own process group (spawned detached): signal the whole group.
  const asGroup = stat.pgid === pid;
  const send = (signal: NodeJS.Signals): void => {
    if (!isSameLiveProcess(pid, startTime)) return; // re-checked before every signal: never hit a reused pid
    try {
      process.kill(asGroup ? -pid : pid, signal);
    } catch {
      // already gone
    }
  };
  send('SIGCONT'); // a stopped process cannot act on SIGTERM
  send(stopSignalFor(item.name));
  const deadline = Date.now() + killTimeoutMs;
  while (isSameLiveProcess(pid, startTime) && Date.now() < deadline) await sleep(50);
  let escalated = false;
  if (isSameLiveProcess(pid, startTime)) {
    send('SIGKILL');
    escalated = true;
    const killDeadline = Date.now() + 3000;
    while (isSameLiveProcess(pid, startTime) && Date.now() < killDeadline) await sleep(50);
  }
  if (isSameLiveProcess(pid, startTime)) return { outcome: 'failed', detail: `pid ${pid} survived SIGKILL` };
  // Group members left behind by the leader: the pgid cannot be reused while the group exists.
  if (asGroup && readProcStat(pid)?.startTime === undefined && groupExists(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone in between
    }
  }
  return { outcome: 'undone', detail: escalated ? 'killed with SIGKILL after the timeout' : `stopped with ${stopSignalFor(item.name)}` };
}

// ---- files, mounts, devices ----

function mountPoints(): string[] {
  try {
    return fs
      .readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ')[1].replace(/\\040/g, ' ').replace(/\\011/g, '\t').replace(/\\012/g, '\n').replace(/\\134/g, '\\'));
  } catch {
    return [];
  }
}

function undoDir(dir: string): UndoResult {
  const resolved = path.resolve(dir);
  if (resolved.split(path.sep).filter(Boolean).length < 2) return { outcome: 'failed', detail: `refusing to remove ${resolved}: too close to /` };
  if (!fs.existsSync(resolved)) return { outcome: 'absent', detail: 'no such dir' };
  const mounted = mountPoints().filter((point) => point === resolved || point.startsWith(resolved + path.sep));
  if (mounted.length > 0) return { outcome: 'failed', detail: `still mounted inside: ${mounted.join(', ')}` };
  fs.rmSync(resolved, { recursive: true, force: true, maxRetries: 3 });
  return { outcome: 'undone', detail: 'removed' };
}

async function command(file: string, args: string[], options: UndoOptions): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { timeout: options.callTimeoutMs ?? 10_000 });
    return { ok: true, output: `${stdout}${stderr}`.trim() };
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    return { ok: false, output: (failure.stderr || failure.message).trim() };
  }
}

async function undoNftTable(family: string, table: string, options: UndoOptions): Promise<UndoResult> {
  if (!['inet', 'ip', 'ip6'].includes(family) || !NFT_NAME.test(table)) return { outcome: 'failed', detail: `refusing odd nft table ${family} ${table}` };
  const listed = await command('nft', ['list', 'table', family, table], options);
  if (!listed.ok) {
    if (/No such file or directory|does not exist/i.test(listed.output)) return { outcome: 'absent', detail: 'no such table' };
    return { outcome: 'failed', detail: `nft list table failed: ${listed.output}` };
  }
  const deleted = await command('nft', ['delete', 'table', family, table], options);
  return deleted.ok ? { outcome: 'undone', detail: 'table deleted' } : { outcome: 'failed', detail: `nft delete table failed: ${deleted.output}` };
}

async function undoMount(mountPath: string, options: UndoOptions): Promise<UndoResult> {
  const resolved = path.resolve(mountPath);
  if (!mountPoints().includes(resolved)) return { outcome: 'absent', detail: 'not mounted' };
  const result = await command('umount', [resolved], options);
  if (result.ok) return { outcome: 'undone', detail: 'unmounted' };
  // Busy (a process still has a file open): detach it now, the kernel finishes when it is free.
  const lazy = await command('umount', ['-l', resolved], options);
  return lazy.ok ? { outcome: 'undone', detail: `unmounted lazily (${result.output})` } : { outcome: 'failed', detail: `umount failed: ${lazy.output}` };
}

async function undoLoopDevice(device: string, backingFile: string, options: UndoOptions): Promise<UndoResult> {
  const name = path.basename(device);
  if (!/^loop\d+$/.test(name)) return { outcome: 'failed', detail: `refusing odd loop device ${device}` };
  let backing: string;
  try {
    backing = fs.readFileSync(`/sys/block/${name}/loop/backing_file`, 'utf8').trim().replace(/ \(deleted\)$/, '');
  } catch {
    return { outcome: 'absent', detail: 'not attached' };
  }
  if (path.resolve(backing) !== path.resolve(backingFile)) return { outcome: 'skipped', detail: `${device} now backs ${backing}, not ${backingFile}; left alone` };
  const result = await command('losetup', ['-d', device], options);
  return result.ok ? { outcome: 'undone', detail: 'detached' } : { outcome: 'failed', detail: `losetup -d failed: ${result.output}` };
}

function undoCgroup(cgroupPath: string): UndoResult {
  const resolved = path.resolve(cgroupPath);
  if (!resolved.startsWith('/sys/fs/cgroup/')) return { outcome: 'failed', detail: `refusing to rmdir ${resolved}: not under /sys/fs/cgroup` };
  if (!fs.existsSync(resolved)) return { outcome: 'absent', detail: 'no such cgroup' };
  try {
    fs.rmdirSync(resolved);
    return { outcome: 'undone', detail: 'removed' };
  } catch (error) {
    return { outcome: 'failed', detail: `rmdir failed: ${(error as Error).message}` };
  }
}

const BLKIO_THROTTLE_FILES = ['blkio.throttle.read_bps_device', 'blkio.throttle.write_bps_device', 'blkio.throttle.read_iops_device', 'blkio.throttle.write_iops_device'];

/** Writing "major:minor 0" removes a device's throttle rule (cgroup v1). */
function undoBlkioThrottle(cgroupDir: string, device: string): UndoResult {
  if (!/^\d+:\d+$/.test(device)) return { outcome: 'failed', detail: `refusing odd device ${JSON.stringify(device)} (expected major:minor)` };
  const resolved = path.resolve(cgroupDir);
  if (!resolved.startsWith('/sys/fs/cgroup/')) return { outcome: 'failed', detail: `refusing ${resolved}: not under /sys/fs/cgroup` };
  if (!fs.existsSync(resolved)) return { outcome: 'absent', detail: 'no such cgroup' };
  const cleared: string[] = [];
  for (const name of BLKIO_THROTTLE_FILES) {
    const file = path.join(resolved, name);
    let rules: string;
    try {
      rules = fs.readFileSync(file, 'utf8');
    } catch {
      continue; // this controller file does not exist here
    }
    if (!rules.split('\n').some((line) => line.startsWith(`${device} `))) continue;
    fs.writeFileSync(file, `${device} 0`);
    cleared.push(name);
  }
  return cleared.length > 0 ? { outcome: 'undone', detail: `cleared ${cleared.join(', ')}` } : { outcome: 'absent', detail: 'no throttle rule for the device' };
}

// ---- services ----

/** Somewhere down the error's cause chain the connection was refused (fetch wraps the socket error). */
function isConnectionRefused(error: unknown): boolean {
  for (let current = error as { code?: string; cause?: unknown } | undefined; current; current = current.cause as typeof current) {
    if (current.code === 'ECONNREFUSED') return true;
  }
  return false;
}

async function undoToxiproxy(apiUrl: string, options: UndoOptions): Promise<UndoResult> {
  try {
    await new ToxiproxyApi(apiUrl, options.callTimeoutMs ?? 3000).reset();
    return { outcome: 'undone', detail: 'POST /reset' };
  } catch (error) {
    if (isConnectionRefused(error)) return { outcome: 'absent', detail: 'toxiproxy not running' };
    return { outcome: 'failed', detail: (error as Error).message };
  }
}

async function undoPostgres(url: string, options: UndoOptions, action: (client: Client) => Promise<UndoResult>): Promise<UndoResult> {
  const timeoutMs = options.callTimeoutMs ?? 3000;
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs, query_timeout: timeoutMs });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    return { outcome: 'absent', detail: `PostgreSQL not reachable (${(error as Error).message}); nothing to undo there` };
  }
  try {
    return await action(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
