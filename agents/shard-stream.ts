/**
 * The agent's side of the history stream: the fleet appends entries (HistorySink); every cut
 * moves the entries older than the reorder window, in time order, into the next numbered batch
 * in the compact encoding (one encoder for the whole stream, so batch n decodes only after
 * batches 1..n−1). Batches stay in memory until the coordinator acknowledges them: after a
 * dropped connection the agent resends from the first unacknowledged one. The buffer is bounded:
 * past `maxBufferedBytes` the stream fails rather than drop history the verdict needs.
 */
import type { HistoryEntry } from '../core/history';
import { CompactHistoryEncoder } from '../core/history-file';
import type { HistoryDraft } from '../bots/core/types';

export interface ShardBatch {
  /** 1, 2, 3, ... in the order the coordinator must decode them. */
  readonly n: number;
  /** Compact rows, one per line (the first batch starts with the header line). */
  readonly body: string;
  readonly entries: number;
  /** Every entry of this agent with time ≤ upTo (ms on the run's timeline) is in batches 1..n. */
  readonly upTo: number;
}

export interface ShardStreamOptions {
  /** ms on the run's timeline, now (the fleet's clock). */
  now: () => number;
  /** Entries younger than this stay so late ones from other worker threads sort in (ms). */
  reorderWindowMs?: number;
  /** Unacknowledged batches may hold at most this many bytes. */
  maxBufferedBytes?: number;
}

export class HistoryBufferFullError extends Error {}

export class ShardStream {
  private readonly encoder = new CompactHistoryEncoder();
  private readonly reorderWindowMs: number;
  private readonly maxBufferedBytes: number;
  private pending: HistoryDraft[] = [];
  private readonly unacked: ShardBatch[] = [];
  private bufferedBytes = 0;
  private nextN = 1;
  private nextIndex = 0;
  private acked = 0;
  private failure?: HistoryBufferFullError;
  private ended = false;

  constructor(private readonly options: ShardStreamOptions) {
    this.reorderWindowMs = options.reorderWindowMs ?? 250;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
  }

  append(entry: HistoryDraft): void {
    if (this.ended) throw new Error('the history stream has ended; append before end()');
    this.pending.push(entry);
  }

  /** The highest batch the coordinator acknowledged (0: none). */
  get acknowledged(): number {
    return this.acked;
  }

  /** The last batch cut (0: none). */
  get lastBatch(): number {
    return this.nextN - 1;
  }

  get bytesBuffered(): number {
    return this.bufferedBytes;
  }

  /** Set once the buffer overflowed: the run cannot be judged any more. */
  get error(): HistoryBufferFullError | undefined {
    return this.failure;
  }

  /**
   * Cuts the next batch from the entries older than the reorder window (every entry when `all`).
   * A batch may be empty: it still moves the watermark (`upTo`) so the coordinator can write.
   */
  cut(all = false): ShardBatch {
    if (this.failure) throw this.failure;
    const now = this.options.now();
    const cutoff = all ? Infinity : now - this.reorderWindowMs;
    // Stable: each worker thread's own order stays for equal times.
    const sorted = this.pending.map((entry, order) => ({ entry, order })).sort((a, b) => a.entry.time - b.entry.time || a.order - b.order);
    let split = sorted.findIndex(({ entry }) => entry.time > cutoff);
    if (split < 0) split = sorted.length;
    let body = this.nextN === 1 ? this.encoder.header() + '\n' : '';
    for (let i = 0; i < split; i++) body += this.encoder.encode({ index: this.nextIndex++, ...sorted[i].entry } as HistoryEntry) + '\n';
    this.pending = sorted.slice(split).map(({ entry }) => entry);
    const upTo = all ? Math.max(now, ...sorted.map(({ entry }) => entry.time)) : cutoff;
    const batch: ShardBatch = { n: this.nextN++, body, entries: split, upTo: Math.round(upTo * 1000) / 1000 };
    this.unacked.push(batch);
    this.bufferedBytes += Buffer.byteLength(body);
    if (this.bufferedBytes > this.maxBufferedBytes) {
      this.failure = new HistoryBufferFullError(
        `history buffer full: ${this.unacked.length} batches (${(this.bufferedBytes / 1048576).toFixed(1)} MB) not acknowledged by the coordinator (limit ${(this.maxBufferedBytes / 1048576).toFixed(1)} MB); it is unreachable or not keeping up`,
      );
      throw this.failure;
    }
    return batch;
  }

  /** The last cut, of everything left; no append after it. */
  end(): ShardBatch {
    const batch = this.cut(true);
    this.ended = true;
    return batch;
  }

  /** The coordinator has batches 1..n: forget them. */
  acknowledge(n: number): void {
    if (n <= this.acked) return;
    this.acked = Math.min(n, this.nextN - 1);
    while (this.unacked.length && this.unacked[0].n <= this.acked) this.bufferedBytes -= Buffer.byteLength(this.unacked.shift()!.body);
  }

  /** Batches not yet acknowledged, oldest first: what to (re)send. */
  outstanding(): readonly ShardBatch[] {
    return this.unacked;
  }
}
