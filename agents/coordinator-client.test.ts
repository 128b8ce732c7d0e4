/**
 * Resumable over a real dropped connection: the agent's client talks to a real coordinator through
 * a TCP relay that the test cuts (every socket destroyed, the port closed for a while). The client
 * retries, resends from the first unacknowledged batch, and the coordinator ends with every entry
 * exactly once, in order. A coordinator that never comes back ends the agent with a clear error.
 */
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { HistoryDraft } from '../bots/core/types';
import { HarnessError } from '../core/exit-codes';
import { Coordinator } from './coordinator';
import { CoordinatorClient } from './coordinator-client';
import type { AgentStatus } from './protocol';
import { ShardStream } from './shard-stream';
import { epochNowMs } from '../core/clock';

const STATUS: AgentStatus = { online: 1, actionsPerSecond: 1, errors: 0, loadGenerator: { cpuPeakRatio: 0, eventLoopLagP99Ms: 0, saturated: false } };

/** A loopback TCP relay to `port` that can drop every connection and stop listening for a while. */
async function relay(port: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relayPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${relayPort}`,
    /** Cuts every connection and refuses new ones for `ms`. */
    async cut(ms: number): Promise<void> {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      setTimeout(() => server.listen(relayPort, '127.0.0.1'), ms).unref();
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function op(time: number, seq: number): HistoryDraft {
  return { type: 'ok', process: 'bot-1', player: 'bot-1', f: 'increment', seq, value: { value: seq }, intendedAt: time - 2, time };
}

test('a dropped connection mid-stream: the client resends from the first unacknowledged batch, nothing lost or doubled', async () => {
  const coordinator = await Coordinator.start({ runId: 'r', count: 1, segments: ['0:1'], silenceMs: 10_000, onAgentFailure: () => undefined });
  cleanups.push(() => coordinator.close());
  const link = await relay(Number(new URL(coordinator.url).port));
  cleanups.push(() => link.close());
  const client = new CoordinatorClient({ url: link.url, index: 0, name: 'agent 0 (segment 0:1)', lostAfterMs: 5000 });
  await client.post('hello', { runId: 'r', pid: process.pid, segment: '0:1' });
  await client.post('ready', { clockOffsetMs: 0, clockErrorMs: 0, clockRttMs: 0, bots: 1, dropped: 0, loadEndMs: 1, metricsUrl: '' });
  await coordinator.waitReady(2000, new AbortController().signal);
  const merged: HistoryDraft[] = [];
  const fleet = await coordinator.start({ runStartEpochMs: epochNowMs(), recorder: { appendMany: (entries) => merged.push(...entries) }, metricsPort: 0, signal: new AbortController().signal });

  let now = 0;
  const stream = new ShardStream({ now: () => now, reorderWindowMs: 0 });
  const sent: HistoryDraft[] = [];
  for (let n = 1; n <= 10; n++) {
    for (let k = 0; k < 5; k++) {
      const entry = op(n * 100 + k, n * 10 + k);
      sent.push(entry);
      stream.append(entry);
    }
    now = n * 100 + 50;
    stream.cut();
    if (n === 4) {
      await link.cut(400); // batches 4.. wait in the buffer while the link is down
      stream.cut(); // and one more piles up
    }
    await client.flush(stream, () => STATUS);
  }
  stream.end();
  await client.flush(stream, () => STATUS);
  expect(client.retries).toBeGreaterThan(0);
  expect((await client.post<{ ok?: boolean }>('done', { result: { bots: 1, sessionsStarted: 1, reconnects: 0, desyncs: 0, gaveUp: 0, dropped: 0, actions: { invoked: 0, ok: 0, fail: 0, info: 0 }, latency: {}, resume: { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 }, loadGenerator: STATUS.loadGenerator, durationMs: 1, errors: [] }, lastBatch: stream.lastBatch })).ok).toBe(true);
  await fleet.done;
  expect(merged).toEqual(sent);
  expect(coordinator.agents()[0]).toMatchObject({ state: 'done', batches: 12, entries: 50 });
  expect(stream.outstanding()).toEqual([]);
});

test('a coordinator that never comes back ends the agent with an error naming it', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve())); // nothing listens there now
  const client = new CoordinatorClient({ url: `http://127.0.0.1:${port}`, index: 2, name: 'agent 2 (segment 1/2:3/4)', lostAfterMs: 300 });
  const started = Date.now();
  const failure = await client.post('hello', {}).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(HarnessError);
  expect((failure as Error).message).toMatch(new RegExp(`^agent 2 \\(segment 1/2:3/4\\): the coordinator at http://127.0.0.1:${port} has not answered for 300ms \\(.*\\); stopping$`));
  expect(Date.now() - started).toBeLessThan(5000);
});
