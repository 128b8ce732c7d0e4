/**
 * runs/<id>/state.json: what a run has left on the machine right now. Rewritten synchronously and
 * atomically (tmp + fsync + rename) on every record/forget, so a run killed at any instant leaves a
 * complete file that `lagstorm cleanup` (cleanupDebris) can undo.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DebrisItem, DebrisRecorder } from './debris';
import { processStartTime } from './managed-process';
import { undoDebrisItem, type DebrisUndoers, type UndoOptions, type UndoOutcome } from './undo-debris';

export const STATE_FILE_NAME = 'state.json';

export interface StateFileOwner {
  pid: number;
  /** /proc/<pid>/stat starttime: tells a live owner from a reused pid. */
  startTime?: string;
}

export interface StateFileContents {
  version: 1;
  runId: string;
  owner: StateFileOwner;
  updatedAt: string;
  items: Array<{ id: string; item: DebrisItem }>;
}

export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd); // the rename must never publish a file whose bytes are not on disk
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export class StateFileRecorder implements DebrisRecorder {
  private items: Array<{ id: string; item: DebrisItem }> = [];
  private nextId = 1;

  constructor(
    readonly file: string,
    readonly runId: string,
    readonly owner: StateFileOwner = { pid: process.pid, startTime: processStartTime(process.pid) },
    initialItems: ReadonlyArray<{ id: string; item: DebrisItem }> = [],
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.items = [...initialItems];
    this.nextId = 1 + Math.max(0, ...initialItems.map(({ id }) => Number(id) || 0));
    this.write();
  }

  /** Opens an existing state file to continue it (cleanup rewrites what is left). */
  static open(file: string): StateFileRecorder {
    const contents = readStateFile(file);
    return new StateFileRecorder(file, contents.runId, contents.owner, contents.items);
  }

  record(item: DebrisItem): string {
    const id = String(this.nextId++);
    this.items.push({ id, item });
    this.write();
    return id;
  }

  forget(id: string): void {
    const before = this.items.length;
    this.items = this.items.filter((entry) => entry.id !== id);
    if (this.items.length !== before) this.write();
  }

  list(): ReadonlyArray<{ id: string; item: DebrisItem }> {
    return this.items;
  }

  private write(): void {
    const contents: StateFileContents = { version: 1, runId: this.runId, owner: this.owner, updatedAt: new Date().toISOString(), items: this.items };
    writeFileAtomic(this.file, JSON.stringify(contents, null, 2) + '\n');
  }
}

/** Reads and checks a state file; throws an Error naming the file and the bad field. */
export function readStateFile(file: string): StateFileContents {
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  const contents = parsed as Partial<StateFileContents>;
  if (typeof contents !== 'object' || contents === null) throw new Error(`${file}: not a JSON object`);
  if (contents.version !== 1) throw new Error(`${file}: version must be 1 (got ${String(contents.version)})`);
  if (typeof contents.owner?.pid !== 'number') throw new Error(`${file}: owner.pid must be a number`);
  if (!Array.isArray(contents.items)) throw new Error(`${file}: items must be an array`);
  for (const [index, entry] of contents.items.entries()) {
    if (typeof entry?.id !== 'string' || typeof entry?.item?.kind !== 'string') throw new Error(`${file}: items[${index}] must be { id: string, item: { kind, ... } }`);
  }
  return contents as StateFileContents;
}

/** True while the process that wrote the state file still runs (same pid and start time). */
export function isOwnerAlive(owner: StateFileOwner): boolean {
  const current = processStartTime(owner.pid);
  if (current === undefined) return false;
  return owner.startTime === undefined || owner.startTime === current;
}

export interface CleanupAction {
  item: DebrisItem;
  outcome: UndoOutcome;
  detail: string;
}

export interface CleanupRunReport {
  runId: string;
  stateFile: string;
  ownerPid?: number;
  /** Why the run was left alone (owner alive, unreadable file). */
  skipped?: string;
  actions: CleanupAction[];
}

export interface CleanupReport {
  runs: CleanupRunReport[];
  /** Items that could not be undone and stay in their state file. */
  failed: number;
}

export interface CleanupOptions extends UndoOptions {
  /** How to undo the fault families' debris kinds (chaos/debris-undoers.ts, from the CLI). */
  undoers: DebrisUndoers;
  /** Undo even when the owning lagstorm process still runs. */
  force?: boolean;
  log?: (line: string) => void;
}

/** Undoes a recorder's items in reverse order; items undone (or already gone) are forgotten. */
export async function undoAll(recorder: DebrisRecorder, options: UndoOptions = {}, filter: (id: string, item: DebrisItem) => boolean = () => true): Promise<CleanupAction[]> {
  const actions: CleanupAction[] = [];
  for (const { id, item } of [...recorder.list()].reverse()) {
    if (!filter(id, item)) continue;
    const result = await undoDebrisItem(item, options);
    actions.push({ item, ...result });
    if (result.outcome !== 'failed') recorder.forget(id);
  }
  return actions;
}

/** `lagstorm cleanup`: undoes the debris of every run in runsDir whose lagstorm process is gone. */
export async function cleanupDebris(runsDir: string, options: CleanupOptions): Promise<CleanupReport> {
  const report: CleanupReport = { runs: [], failed: 0 };
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(runsDir, { withFileTypes: true });
  } catch {
    return report; // no runs dir: nothing to clean
  }
  // Real directories only: runs/latest is a symlink to one of them.
  for (const entry of entries.filter((dirent) => dirent.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const stateFile = path.join(runsDir, entry.name, STATE_FILE_NAME);
    if (!fs.existsSync(stateFile)) continue;
    let recorder: StateFileRecorder;
    try {
      recorder = StateFileRecorder.open(stateFile);
    } catch (error) {
      report.runs.push({ runId: entry.name, stateFile, skipped: `unreadable state file: ${(error as Error).message}`, actions: [] });
      continue;
    }
    const run: CleanupRunReport = { runId: recorder.runId, stateFile, ownerPid: recorder.owner.pid, actions: [] };
    report.runs.push(run);
    if (recorder.list().length === 0) continue;
    if (!options.force && isOwnerAlive(recorder.owner)) {
      run.skipped = `lagstorm pid ${recorder.owner.pid} still runs this run; stop it first or pass --force`;
      options.log?.(`${run.runId}: ${run.skipped}`);
      continue;
    }
    run.actions = await undoAll(recorder, options);
    for (const action of run.actions) options.log?.(`${run.runId}: ${action.outcome} ${describeItem(action.item)}${action.detail ? ` (${action.detail})` : ''}`);
    report.failed += run.actions.filter((action) => action.outcome === 'failed').length;
  }
  return report;
}

export function describeItem(item: DebrisItem): string {
  switch (item.kind) {
    case 'process':
      return `process ${item.name} pid ${item.pid}`;
    case 'dir':
      return `dir ${item.path}`;
    case 'container':
      return item.id ? `container ${item.name ?? item.id.slice(0, 12)}` : `containers of run ${item.runId}`;
    case 'swarm-service':
      return `swarm service ${item.service}${item.leaveSwarm ? ' (and the swarm it made)' : ''}`;
    case 'nft-table':
      return `nft table ${item.family} ${item.table}`;
    case 'mount':
      return `mount ${item.path}`;
    case 'loop-device':
      return `loop device ${item.device} (${item.backingFile})`;
    case 'cgroup':
      return `cgroup ${item.path}`;
    case 'toxiproxy-reset':
      return `toxiproxy toxics at ${item.apiUrl}`;
    case 'pg-setting':
      return `PostgreSQL setting ${item.setting}`;
    case 'pg-slot':
      return `PostgreSQL replication slot ${item.slot}`;
    case 'blkio-throttle':
      return `blkio throttle on ${item.device} in ${item.cgroupDir}`;
    case 'kubernetes':
      return `Kubernetes objects of ${item.manifestFile} in namespace ${item.namespace}${item.context ? ` (context ${item.context})` : ''}`;
  }
}
