/**
 * The ingest protocol without the network: the agent's ShardStream cuts numbered compact batches,
 * the coordinator's ShardIngest takes them strictly in order. A "transport" here is the test
 * calling receive() (or not, for a dropped request).
 */
import type { HistoryDraft } from '../bots/core/types';
import { HistoryBufferFullError, ShardStream } from './shard-stream';
import { ShardIngest } from './shard-ingest';

function op(time: number, process: string, seq: number): HistoryDraft {
  return { type: 'invoke', process, player: process, f: 'increment', seq, value: { by: seq % 3 }, intendedAt: time - 1, time };
}

function setup(options: { maxBufferedBytes?: number } = {}) {
  let now = 0;
  const stream = new ShardStream({ now: () => now, reorderWindowMs: 100, ...options });
  const received: HistoryDraft[] = [];
  const ingest = new ShardIngest((entries) => received.push(...entries));
  return { stream, ingest, received, at: (ms: number) => (now = ms) };
}

/** Sends every outstanding batch in order until one is dropped (the index in `drop`), then acknowledges what the ingest says. */
function pump(stream: ShardStream, ingest: ShardIngest, drop = new Set<number>()): void {
  for (const batch of [...stream.outstanding()]) {
    if (drop.has(batch.n)) {
      drop.delete(batch.n);
      return;
    }
    stream.acknowledge(ingest.receive(batch.n, batch.upTo, batch.body).acked);
  }
}

test('entries arrive once, in time order, even when worker threads append out of order', () => {
  const { stream, ingest, received, at } = setup();
  stream.append(op(30, 'a', 1));
  stream.append(op(10, 'b', 1)); // a later thread's batch, earlier in time
  stream.append(op(20, 'a', 2));
  at(125); // entries ≤ 25 ms are ripe
  const first = stream.cut();
  expect({ n: first.n, entries: first.entries, upTo: first.upTo }).toEqual({ n: 1, entries: 2, upTo: 25 });
  stream.append(op(120, 'b', 2));
  at(500);
  stream.cut();
  pump(stream, ingest);
  expect(received).toEqual([op(10, 'b', 1), op(20, 'a', 2), op(30, 'a', 1), op(120, 'b', 2)]);
  expect({ acked: ingest.acked, upTo: ingest.upTo, outstanding: stream.outstanding().length }).toEqual({ acked: 2, upTo: 400, outstanding: 0 });
});

test('a gap is refused and a duplicate ignored; the answer says where to resume', () => {
  const { stream, ingest, received, at } = setup();
  for (let i = 1; i <= 3; i++) {
    stream.append(op(i * 100, 'a', i));
    at(i * 100 + 150);
    stream.cut();
  }
  const [b1, b2, b3] = stream.outstanding();
  expect(ingest.receive(b2.n, b2.upTo, b2.body)).toEqual({ outcome: 'gap', acked: 0 });
  expect(ingest.receive(b1.n, b1.upTo, b1.body)).toEqual({ outcome: 'accepted', acked: 1 });
  expect(ingest.receive(b1.n, b1.upTo, b1.body)).toEqual({ outcome: 'duplicate', acked: 1 });
  expect(ingest.receive(b3.n, b3.upTo, b3.body)).toEqual({ outcome: 'gap', acked: 1 });
  expect(ingest.receive(b2.n, b2.upTo, b2.body)).toEqual({ outcome: 'accepted', acked: 2 });
  expect(ingest.receive(b3.n, b3.upTo, b3.body)).toEqual({ outcome: 'accepted', acked: 3 });
  expect(received.map((entry) => (entry as { seq?: number }).seq)).toEqual([1, 2, 3]);
  expect(ingest.entries).toBe(3);
});

test('after a dropped request the agent resends from the first unacknowledged batch, and nothing is lost or doubled', () => {
  const { stream, ingest, received, at } = setup();
  const sent: HistoryDraft[] = [];
  for (let i = 1; i <= 6; i++) {
    const entry = op(i * 100, `bot-${i % 2}`, i);
    sent.push(entry);
    stream.append(entry);
    at(i * 100 + 150);
    stream.cut();
  }
  pump(stream, ingest, new Set([3])); // the connection drops on batch 3: 4..6 are not even tried
  expect({ acked: ingest.acked, outstanding: stream.outstanding().map((batch) => batch.n) }).toEqual({ acked: 2, outstanding: [3, 4, 5, 6] });
  // The reply to batch 4 is lost after the coordinator took it: the resend is a duplicate.
  stream.acknowledge(ingest.receive(3, stream.outstanding()[0].upTo, stream.outstanding()[0].body).acked);
  const four = stream.outstanding()[0];
  ingest.receive(four.n, four.upTo, four.body);
  pump(stream, ingest);
  expect(received).toEqual(sent);
  expect(stream.outstanding()).toEqual([]);
  expect(stream.bytesBuffered).toBe(0);
});

test('the buffer is bounded: unacknowledged batches past the limit fail the stream with a clear error', () => {
  const { stream, at } = setup({ maxBufferedBytes: 2000 });
  let failure: unknown;
  for (let i = 1; i <= 100 && !failure; i++) {
    stream.append(op(i * 10, 'a', i));
    at(i * 10 + 150);
    try {
      stream.cut();
    } catch (error) {
      failure = error;
    }
  }
  expect(failure).toBeInstanceOf(HistoryBufferFullError);
  expect((failure as Error).message).toMatch(/^history buffer full: \d+ batches \(0\.0 MB\) not acknowledged by the coordinator \(limit 0\.0 MB\)/);
  expect(stream.bytesBuffered).toBeGreaterThan(2000);
  expect(() => stream.cut()).toThrow(HistoryBufferFullError); // it stays failed
});

test('the same stream acknowledged in time never fills the buffer', () => {
  const { stream, ingest, at } = setup({ maxBufferedBytes: 2000 });
  for (let i = 1; i <= 100; i++) {
    stream.append(op(i * 10, 'a', i));
    at(i * 10 + 150);
    stream.cut();
    pump(stream, ingest);
  }
  expect(stream.end().n).toBe(101);
  pump(stream, ingest);
  expect(ingest.entries).toBe(100);
  expect(stream.error).toBeUndefined();
});
