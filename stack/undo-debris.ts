/**
 * Undoes one debris item. The stack undoes what it leaves itself (processes, dirs); every other kind
 * (nft tables, mounts, settings, ...) goes to the undoer its fault family registered
 * (chaos/debris-undoers.ts, passed in by the composition root: stack never imports chaos). Every
 * undo is idempotent (a thing already gone is not an error) and careful: a process is signalled only
 * while /proc/<pid>/stat still shows the recorded start time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DebrisItem } from './debris';
import { deleteManifest } from './kubectl';
import { readProcStat } from './managed-process';

/** undone: removed now; absent: already gone; skipped: not ours any more (reused pid/device); failed: still there. */
export type UndoOutcome = 'undone' | 'absent' | 'skipped' | 'failed';

export interface UndoResult {
  outcome: UndoOutcome;
  detail: string;
}

/** The kinds the stack leaves itself; every other kind belongs to a fault family. */
export type StackDebrisKind = 'process' | 'dir' | 'container' | 'swarm-service' | 'kubernetes';
export type FaultDebrisItem = Exclude<DebrisItem, { kind: StackDebrisKind }>;
export type FaultDebrisKind = FaultDebrisItem['kind'];

export interface UndoCallOptions {
  /** Timeout of each external call (HTTP, PostgreSQL, commands). */
  callTimeoutMs?: number;
}

/** Undoes one item of its kind; may throw (reported as failed). */
export type DebrisUndoer<I extends DebrisItem = DebrisItem> = (item: I, options: UndoCallOptions) => Promise<UndoResult> | UndoResult;

/** Undoers by debris kind, registered by the fault families in a composition root. */
export type DebrisUndoers = { readonly [K in FaultDebrisKind]?: DebrisUndoer<Extract<DebrisItem, { kind: K }>> };

export interface UndoOptions extends UndoCallOptions {
  /** How long a process gets after SIGTERM before SIGKILL. */
  killTimeoutMs?: number;
  /** Undoers of the fault families' kinds; a kind without one is reported failed and kept. */
  undoers?: DebrisUndoers;
}

export async function undoDebrisItem(item: DebrisItem, options: UndoOptions = {}): Promise<UndoResult> {
  try {
    switch (item.kind) {
      case 'process':
        return await undoProcess(item, options.killTimeoutMs ?? 10_000);
      case 'dir':
        return undoDir(item.path);
      case 'container':
        return await undoContainers(item);
      case 'swarm-service': {
        const { removeSwarmService } = require('./images/swarm') as typeof import('./images/swarm');
        return (await removeSwarmService(item)) ? { outcome: 'undone', detail: 'service and config removed' } : { outcome: 'absent', detail: 'no such service' };
      }
      case 'kubernetes':
        return await undoKubernetes(item, options.callTimeoutMs);
      default: {
        const undo = options.undoers?.[item.kind] as DebrisUndoer | undefined;
        if (!undo) return { outcome: 'failed', detail: `no undoer for debris of kind "${item.kind}" was given; it stays recorded` };
        return await undo(item, { callTimeoutMs: options.callTimeoutMs });
      }
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

// ---- containers ----

/** Removes the run's containers (or the one with `id`); loaded lazily so process runs never load testcontainers. */
async function undoContainers(item: Extract<DebrisItem, { kind: 'container' }>): Promise<UndoResult> {
  // require, not import(): tsx's CommonJS loader (bin/) resolves it without a file extension.
  const { removeContainer, removeRunContainers } = require('./images/start-container') as typeof import('./images/start-container');
  if (item.id) return (await removeContainer(item.id)) ? { outcome: 'undone', detail: 'removed' } : { outcome: 'absent', detail: 'no such container' };
  const removed = await removeRunContainers(item.runId);
  return removed > 0 ? { outcome: 'undone', detail: `${removed} container(s) removed` } : { outcome: 'absent', detail: 'no container of this run' };
}

// ---- Kubernetes objects of the agents ----

async function undoKubernetes(item: Extract<DebrisItem, { kind: 'kubernetes' }>, timeoutMs?: number): Promise<UndoResult> {
  if (!fs.existsSync(item.manifestFile)) {
    return { outcome: 'failed', detail: `${item.manifestFile} is gone, so what it applied is unknown; delete the run's objects by hand: kubectl delete job,configmap,service,endpointslice -n ${item.namespace} -l lagstorm.run-id=<run id>` };
  }
  const { deleted } = await deleteManifest(item, timeoutMs);
  return deleted.length > 0 ? { outcome: 'undone', detail: `${deleted.length} object(s) deleted` } : { outcome: 'absent', detail: 'no object of the manifest was left' };
}

// ---- files, mounts, devices ----

/** Mount points from /proc/self/mounts, octal escapes decoded. */
export function mountPoints(): string[] {
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
