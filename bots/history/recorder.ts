/**
 * history.jsonl writer and reader. Bots (via the fleet) and the nemesis append entries without an
 * index; the recorder holds them for a short reorder window so entries from different worker
 * threads land in time order, assigns the global `index`, and writes in buffered batches.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import type { HistoryEntry } from '../../core/history';
import { epochNowMs } from '../../core/clock';
import type { HistoryDraft } from '../core/types';

export interface HistoryRecorderOptions {
  /** Epoch ms of the run's start: every `time` in the history is ms since this. */
  runStartEpochMs: number;
  /** Entries younger than this stay buffered so late batches from other threads can sort in (ms). */
  reorderWindowMs?: number;
  /** How often buffered entries are written (ms). */
  flushIntervalMs?: number;
}

export class HistoryRecorder {
  readonly path: string;
  readonly runStartEpochMs: number;
  private readonly reorderWindowMs: number;
  private readonly fd: number;
  private pending: HistoryDraft[] = [];
  private nextIndex = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(path: string, options: HistoryRecorderOptions) {
    this.path = path;
    this.runStartEpochMs = options.runStartEpochMs;
    this.reorderWindowMs = options.reorderWindowMs ?? 250;
    this.fd = fs.openSync(path, 'a');
    this.timer = setInterval(() => this.flush(false), options.flushIntervalMs ?? 200);
    this.timer.unref();
  }

  /** ms since the run's start, on the same clock the bots use. */
  now(): number {
    return Math.round((epochNowMs() - this.runStartEpochMs) * 1000) / 1000;
  }

  /** Entries written so far (the next index). */
  get count(): number {
    return this.nextIndex;
  }

  append(entry: HistoryDraft): void {
    if (this.closed) throw new Error(`history ${this.path} is closed; append before close()`);
    this.pending.push(entry);
  }

  appendMany(entries: readonly HistoryDraft[]): void {
    if (this.closed) throw new Error(`history ${this.path} is closed; append before close()`);
    for (const entry of entries) this.pending.push(entry);
  }

  /** Writes buffered entries older than the reorder window (all of them when `all`). */
  flush(all = true): void {
    if (this.pending.length === 0) return;
    // Stable sort keeps each thread's own order for equal times.
    const sorted = this.pending.map((entry, order) => ({ entry, order })).sort((a, b) => a.entry.time - b.entry.time || a.order - b.order);
    const cutoff = all ? Infinity : this.now() - this.reorderWindowMs;
    let split = sorted.findIndex(({ entry }) => entry.time > cutoff);
    if (split < 0) split = sorted.length;
    if (split === 0) return;
    const lines: string[] = [];
    for (let i = 0; i < split; i++) lines.push(JSON.stringify({ index: this.nextIndex++, ...sorted[i].entry }));
    this.pending = sorted.slice(split).map(({ entry }) => entry);
    fs.writeSync(this.fd, lines.join('\n') + '\n');
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    clearInterval(this.timer);
    this.flush(true);
    this.closed = true;
    fs.closeSync(this.fd);
    return Promise.resolve();
  }
}

/** Streams history.jsonl entry by entry (bounded memory for long runs). */
export async function* readHistory(path: string): AsyncGenerator<HistoryEntry> {
  const lines = readline.createInterface({ input: fs.createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as HistoryEntry;
    } catch (error) {
      throw new Error(`${path}:${lineNumber}: not a JSON history entry (${(error as Error).message})`);
    }
  }
}

/** Reads the whole history into memory (tests and small runs). */
export async function readHistoryAll(path: string): Promise<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  for await (const entry of readHistory(path)) entries.push(entry);
  return entries;
}
