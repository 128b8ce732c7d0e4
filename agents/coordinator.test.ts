/**
 * The coordinator over real HTTP on loopback, with the test playing the agents' side of the
 * protocol: readiness before time 0, merged shards, the summary handshake, and the two harness
 * errors a run must never turn into a verdict: a silent agent and a saturated one.
 */
import * as zlib from 'node:zlib';
import type { HistoryDraft } from '../bots/core/types';
import type { FleetResult } from '../bots/fleet/fleet';
import { Coordinator } from './coordinator';
import { urlHostOf } from './engine';
import type { AgentStatus } from './protocol';
import { ShardStream } from './shard-stream';
import { epochNowMs } from '../core/clock';
import { freePort } from '../stack/ports';

const HEALTHY = { cpuPeakRatio: 0.1, eventLoopLagP99Ms: 2, saturated: false };

function result(bots: number, loadGenerator = HEALTHY): FleetResult {
  const stats = { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  return { bots, sessionsStarted: bots, reconnects: 0, desyncs: 0, gaveUp: 0, dropped: 0, actions: { invoked: 0, ok: 0, fail: 0, info: 0 }, latency: {}, resume: stats, loadGenerator, durationMs: 1, errors: [] };
}

const coordinators: Coordinator[] = [];
afterEach(async () => Promise.all(coordinators.splice(0).map((coordinator) => coordinator.close())));

async function start(count: number, silenceMs = 5000) {
  const failures: string[] = [];
  const coordinator = await Coordinator.start({ runId: 'run-1', count, segments: ['0:1/2', '1/2:1'].slice(0, count), silenceMs, onAgentFailure: (message) => failures.push(message) });
  coordinators.push(coordinator);
  coordinator.describe((index) => `pid ${1000 + index}`);
  const post = async (index: number, what: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${coordinator.url}/agents/${index}/${what}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body instanceof Buffer ? body : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const ready = async (index: number) => {
    await post(index, 'hello', { runId: 'run-1', pid: 1000 + index, segment: ['0:1/2', '1/2:1'][index] });
    await post(index, 'ready', { clockOffsetMs: 0.5, clockErrorMs: 0.25, clockRttMs: 0.5, bots: 3, dropped: 0, loadEndMs: 1000, metricsUrl: '' });
  };
  const status = (loadGenerator = HEALTHY): AgentStatus => ({ online: 1, actionsPerSecond: 2, errors: 0, loadGenerator });
  const batch = (index: number, n: number, upTo: number, body: string, loadGenerator = HEALTHY) =>
    post(index, 'batch', zlib.gzipSync(body), { 'content-encoding': 'gzip', 'x-batch': String(n), 'x-up-to': String(upTo), 'x-status': JSON.stringify(status(loadGenerator)) });
  return { coordinator, failures, post, ready, batch };
}

function op(time: number, process: string, seq: number): HistoryDraft {
  return { type: 'invoke', process, player: process, f: 'increment', seq, value: { by: 1 }, intendedAt: time, time };
}

test('time 0 waits for every agent; shards merge into the recorder; the summary is taken only after every batch', async () => {
  const { coordinator, failures, post, ready, batch } = await start(2);
  const signal = new AbortController().signal;
  const waiting = coordinator.waitReady(5000, signal);
  await ready(0);
  expect((await fetch(`${coordinator.url}/agents/0/start`).then((r) => r.json())) as unknown).toEqual({ wait: true });
  await ready(1);
  await waiting;
  const merged: HistoryDraft[] = [];
  const fleet = await coordinator.start({ runStartEpochMs: epochNowMs(), recorder: { appendMany: (entries) => merged.push(...entries) }, metricsPort: 0, signal });
  expect(fleet.plan.bots).toBe(6);
  const streams = [0, 1].map(() => {
    let now = 0;
    return { stream: new ShardStream({ now: () => now, reorderWindowMs: 0 }), at: (ms: number) => (now = ms) };
  });
  streams[0].stream.append(op(10, 'a-1', 1));
  streams[1].stream.append(op(12, 'b-1', 1));
  streams[0].at(20);
  streams[1].at(15);
  const [a, b] = [streams[0].stream.cut(), streams[1].stream.cut()];
  expect((await post(0, 'done', { result: result(3), lastBatch: 1 })).status).toBe(409); // its batch 1 is not in yet
  expect((await batch(0, a.n, a.upTo, a.body)).body).toEqual({ acked: 1, stop: false });
  expect((await batch(0, a.n, a.upTo, a.body)).body).toEqual({ acked: 1, stop: false }); // a resend: ignored
  expect(coordinator.watermark()).toBe(-Infinity); // agent 1 has sent nothing yet
  await batch(1, b.n, b.upTo, b.body);
  expect(coordinator.watermark()).toBe(15);
  expect((await post(0, 'done', { result: result(3), lastBatch: 1 })).status).toBe(200);
  expect((await post(1, 'done', { result: result(3), lastBatch: 1 })).status).toBe(200);
  const final = await fleet.done;
  expect(merged).toEqual([op(10, 'a-1', 1), op(12, 'b-1', 1)]);
  expect({ bots: final.bots, errors: final.errors, invoked: final.actions.invoked, failures }).toEqual({ bots: 6, errors: [], invoked: 2, failures: [] });
  expect(coordinator.agents().map((agent) => [agent.state, agent.clockOffsetMs, agent.clockErrorMs, agent.batches, agent.entries])).toEqual([
    ['done', 0.5, 0.25, 1, 1],
    ['done', 0.5, 0.25, 1, 1],
  ]);
});

test('an agent that falls silent after time 0 is lost, named, and the others are told to stop', async () => {
  const { coordinator, failures, ready, batch } = await start(2, 600);
  await ready(0);
  await ready(1);
  await coordinator.waitReady(5000, new AbortController().signal);
  const fleet = await coordinator.start({ runStartEpochMs: epochNowMs(), recorder: { appendMany: () => undefined }, metricsPort: 0, signal: new AbortController().signal });
  const body = new ShardStream({ now: () => 0 }).cut().body;
  // Agent 0 keeps sending (empty batches are its heartbeat); agent 1 says nothing.
  let reply = await batch(0, 1, 0, body);
  for (let i = 0; i < 30 && failures.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    reply = await batch(0, 1, 0, body);
  }
  expect(failures).toEqual([expect.stringMatching(/^agent 1 \(pid 1001, segment 1\/2:1\) was lost: no batch for \d\.\d s; its bots' history is incomplete, so the run cannot be judged \(see logs\/agent-1\.log\)$/)]);
  expect(reply.body.stop).toBe(true);
  expect(coordinator.agents().map((agent) => agent.state)).toEqual(['playing', 'lost']);
  coordinator.agentEnded(0, 'exited with code 0'); // agent 0 ends too, without its summary
  const final = await fleet.done;
  expect(final.errors).toHaveLength(2);
  expect(final.errors[1]).toMatch(/^agent 0 \(pid 1000, segment 0:1\/2\) was lost: exited with code 0 before sending its summary/);
});

test('a saturated agent is a harness error naming it; a healthy one is not', async () => {
  const { coordinator, failures, ready, batch } = await start(1);
  await ready(0);
  await coordinator.waitReady(5000, new AbortController().signal);
  await coordinator.start({ runStartEpochMs: epochNowMs(), recorder: { appendMany: () => undefined }, metricsPort: 0, signal: new AbortController().signal });
  const body = new ShardStream({ now: () => 0 }).cut().body;
  await batch(0, 1, 0, body);
  expect(failures).toEqual([]);
  const reply = await batch(0, 2, 0, '', { cpuPeakRatio: 0.97, eventLoopLagP99Ms: 180, saturated: true });
  expect(failures).toEqual([
    'agent 0 (pid 1000, segment 0:1/2): its load generator saturated (CPU peak 97 %, event-loop lag p99 180.0 ms): its latencies are overstated, so the run cannot be judged; use more agents or fewer bots',
  ]);
  expect(reply.body).toEqual({ acked: 2, stop: true });
});

test('agents not ready in time are named; a stray agent of another run is refused', async () => {
  const { coordinator, post, ready } = await start(2);
  expect((await post(0, 'hello', { runId: 'other-run', pid: 1, segment: '0:1/2' })).body).toEqual({ error: 'this coordinator runs run-1, not other-run' });
  await ready(0);
  await expect(coordinator.waitReady(300, new AbortController().signal)).rejects.toThrow('agents not ready within 0 s: agent 1 (pid 1001, segment 1/2:1): starting (see logs/agent-<i>.log)');
});

test('it listens where it is told, and names each agent as the engine describes it at the time (a pod gets its name after the launch)', async () => {
  const port = await freePort();
  const failures: string[] = [];
  const coordinator = await Coordinator.start({ runId: 'run-1', count: 1, segments: ['0:1'], listen: { host: '127.0.0.1', port }, onAgentFailure: (message) => failures.push(message) });
  coordinators.push(coordinator);
  expect(coordinator.port).toBe(port);
  expect(coordinator.url).toBe(`http://127.0.0.1:${port}`);
  // Tests stay on loopback; what a wider listen address becomes in a URL from here:
  expect(['0.0.0.0', '::', '10.0.0.5', 'fd00::5'].map(urlHostOf)).toEqual(['127.0.0.1', '[::1]', '10.0.0.5', '[fd00::5]']);
  let where = 'job load/agents index 0, no pod yet';
  coordinator.describe(() => where);
  expect(coordinator.agents()[0].where).toBe('job load/agents index 0, no pod yet');
  where = 'pod load/agents-0-abcde';
  coordinator.agentEnded(0, 'exited with code 137 (OOMKilled)');
  expect(failures).toEqual([expect.stringMatching(/^agent 0 \(pod load\/agents-0-abcde, segment 0:1\) was lost: exited with code 137 \(OOMKilled\) before sending its summary/)]);
  expect(coordinator.agents()[0].where).toBe('pod load/agents-0-abcde');
});
