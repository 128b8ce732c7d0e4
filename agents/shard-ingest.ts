/**
 * The coordinator's side of one agent's history stream: batches are decoded strictly in order
 * (the compact encoding is one stateful stream), so it accepts batch acked+1 only, ignores a
 * duplicate (≤ acked: a resend after a lost reply) and refuses a gap; every answer carries the
 * highest contiguous batch it holds, from which the agent resends.
 */
import type { HistoryEntry } from '../core/history';
import { CompactHistoryDecoder } from '../core/history-file';
import type { HistoryDraft } from '../bots/core/types';

export type BatchOutcome = 'accepted' | 'duplicate' | 'gap';

export interface BatchReceipt {
  outcome: BatchOutcome;
  /** The highest contiguous batch held: the agent resends from acked + 1. */
  acked: number;
}

export class ShardIngest {
  private readonly decoder = new CompactHistoryDecoder();
  private ackedN = 0;
  private watermark = -Infinity;
  private entryCount = 0;

  /** `deliver` gets each accepted batch's entries, without the agent's own index. */
  constructor(private readonly deliver: (entries: HistoryDraft[]) => void) {}

  get acked(): number {
    return this.ackedN;
  }

  /** Every entry of this agent up to this time (ms on the run's timeline) has been delivered. */
  get upTo(): number {
    return this.watermark;
  }

  get entries(): number {
    return this.entryCount;
  }

  receive(n: number, upTo: number, body: string): BatchReceipt {
    if (n <= this.ackedN) return { outcome: 'duplicate', acked: this.ackedN };
    if (n !== this.ackedN + 1) return { outcome: 'gap', acked: this.ackedN };
    const entries: HistoryDraft[] = [];
    const lines = body.split('\n');
    // A batch that does not decode throws: the stream is broken and the coordinator fails the agent.
    const decoder = this.decoder;
    const decoded: HistoryEntry[] = [];
    let start = 0;
    if (n === 1) {
      const header = JSON.parse(lines[0]) as { lagstorm?: string };
      if (header.lagstorm !== 'history') throw new Error('batch 1 does not start with the compact history header');
      start = 1;
    }
    for (let i = start; i < lines.length; i++) if (lines[i] !== '') decoded.push(decoder.decode(JSON.parse(lines[i])));
    for (const entry of decoded) {
      const { index: _index, ...draft } = entry as HistoryEntry & { index: number };
      entries.push(draft as HistoryDraft);
    }
    this.ackedN = n;
    this.watermark = Math.max(this.watermark, upTo);
    this.entryCount += entries.length;
    if (entries.length) this.deliver(entries);
    return { outcome: 'accepted', acked: n };
  }
}
