/**
 * The run's history writer. Bots (via the fleet) and the nemesis append entries without an
 * index; the recorder holds them for a short reorder window so entries from different worker
 * threads land in time order, assigns the global `index`, and writes in buffered batches through
 * core/history-file.ts (compact rows, gzip: history.jsonl.gz), which also holds the reader.
 */
import type { HistoryEntry } from '../../core/history';
import { epochNowMs } from '../../core/clock';
import { HistoryWriter, type HistoryEncoding } from '../../core/history-file';
import type { HistoryDraft } from '../core/types';

export { readHistory, readHistoryAll } from '../../core/history-file';

export interface HistoryRecorderOptions {
  /** Epoch ms of the run's start: every `time` in the history is ms since this. */
  runStartEpochMs: number;
  /** Entries younger than this stay buffered so late batches from other threads can sort in (ms). */
  reorderWindowMs?: number;
  /** How often buffered entries are written (ms). */
  flushIntervalMs?: number;
  /** `compact-gzip` (default: history.jsonl.gz) or `jsonl` (plain JSON lines, the format before). */
  encoding?: HistoryEncoding;
  /** Entries after this time (ms) may still arrive from elsewhere (the agents' shards): hold them too. */
  watermark?: () => number;
}

export class HistoryRecorder {
  readonly path: string;
  readonly runStartEpochMs: number;
  private readonly reorderWindowMs: number;
  private readonly writer: HistoryWriter;
  private readonly watermark?: () => number;
  private pending: HistoryDraft[] = [];
  private nextIndex = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  private closed?: Promise<void>;

  constructor(path: string, options: HistoryRecorderOptions) {
    this.path = path;
    this.runStartEpochMs = options.runStartEpochMs;
    this.reorderWindowMs = options.reorderWindowMs ?? 250;
    this.watermark = options.watermark;
    this.writer = new HistoryWriter(path, { encoding: options.encoding });
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
    const cutoff = all ? Infinity : Math.min(this.now() - this.reorderWindowMs, this.watermark?.() ?? Infinity);
    let split = sorted.findIndex(({ entry }) => entry.time > cutoff);
    if (split < 0) split = sorted.length;
    if (split === 0) return;
    const entries: HistoryEntry[] = [];
    for (let i = 0; i < split; i++) entries.push({ index: this.nextIndex++, ...sorted[i].entry } as HistoryEntry);
    this.pending = sorted.slice(split).map(({ entry }) => entry);
    this.writer.write(entries);
    this.writer.flush();
  }

  /** Writes what is left and waits until the file is complete. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      clearInterval(this.timer);
      this.flush(true);
      this.closed = this.writer.close();
    }
    return this.closed;
  }
}
