/**
 * The fleet playing the reference game (loaded by module path in every worker) against the fake
 * reference server: a cut link is resumed and resent, and every bot ends in step with the server.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Gauge } from 'prom-client';
import { scenarioSchema, type ResolvedScenario, type ScenarioInput } from '../../../core/scenario/schema';
import { isClientOp, type BotEvent, type HistoryEntry } from '../../../core/history';
import { HistoryRecorder, readHistoryAll } from '../../../bots/history/recorder';
import { startFleet } from '../../../bots/fleet/fleet';
import { FakeGameServer } from './testing/fake-game-server';
import { epochNowMs } from '../../../core/clock';

const GAME_MODULE = path.join(__dirname, '..', 'index.ts');

const TIMING = { pingIntervalMs: 500, pongTimeoutMs: 500, backoffBaseMs: 20, backoffCapMs: 200, stopGraceMs: 300 };

let dir: string;
let server: FakeGameServer;
const fleets: Array<{ stop(): Promise<unknown> }> = [];
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-fleet-'));
  server = await FakeGameServer.start();
});
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.stop()));
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function scenario(bots: ScenarioInput['bots'], duration: string, recovery: string): ResolvedScenario {
  return { ...scenarioSchema.parse({ name: 'fleet-test', duration, recovery: { window: recovery }, bots }), seed: 3 };
}

/** Every invoke of a process is followed by exactly one completion before its next invoke. */
function assertWellFormed(entries: HistoryEntry[]): void {
  const open = new Map<string, HistoryEntry>();
  for (const entry of entries) {
    if (!isClientOp(entry)) continue;
    const pending = open.get(entry.process);
    if (entry.type === 'invoke') {
      // A read may overlap an action; track them separately.
      const key = `${entry.process}/${entry.f === 'read' ? 'read' : 'op'}`;
      expect(open.get(key)).toBeUndefined();
      open.set(key, entry);
    } else {
      const key = `${entry.process}/${entry.f === 'read' ? 'read' : 'op'}`;
      const invoke = open.get(key);
      expect(invoke).toBeDefined();
      expect(invoke!.type === 'invoke' && invoke!.f).toBe(entry.f);
      open.delete(key);
    }
    void pending;
  }
  expect([...open.keys()]).toEqual([]);
}

test('a small fleet plays through the load window, records a well-formed history and serves metrics', async () => {
  const file = path.join(dir, 'history.jsonl');
  const runStartEpochMs = epochNowMs();
  const recorder = new HistoryRecorder(file, { runStartEpochMs });
  server.onAction = (call) => (call.playerId === 'grind-2' && call.seq === 3 && call.attempt === 1 ? 'apply-then-cut' : 'ack');
  const fleet = await startFleet({
    gameModule: GAME_MODULE,
    scenario: scenario({ grind: { profile: 'grinder', count: 4, ramp: '500ms' }, gift: { profile: 'gifter', count: 3 }, churn: { profile: 'churner', count: 2 } }, '2s', '1s'),
    wsUrl: server.url,
    runStartEpochMs,
    recorder,
    workers: 2,
    timing: TIMING,
  });
  fleets.push(fleet);
  expect(fleet.plan).toMatchObject({ bots: 9, dropped: 0, loadEndMs: 3000 });
  for (let i = 0; i < 40 && fleet.progress().botsOnline === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 500)); // a few actions complete
  const text = await (await fetch(fleet.metricsUrl)).text();
  expect(text).toMatch(/lagstorm_bot_actions_total\{kind="collect",result="ok"\} \d+/);
  expect(text).toMatch(/lagstorm_bots_online \d+/);
  expect(fleet.progress().botsOnline).toBeGreaterThan(0);
  // The nemesis registers lagstorm_fault_active in the fleet's registry: /metrics serves it.
  new Gauge({ name: 'lagstorm_fault_active', help: 'test', labelNames: ['fault'], registers: [fleet.metricsRegistry] }).set({ fault: 'latency' }, 1);
  expect(await (await fetch(fleet.metricsUrl)).text()).toMatch(/lagstorm_fault_active\{fault="latency"\} 1/);

  const result = await fleet.done;
  const stopped = await fleet.stop();
  expect(stopped).toBe(result);
  await recorder.close();
  expect(result).toMatchObject({ bots: 9, sessionsStarted: 9, desyncs: 0, gaveUp: 0, dropped: 0, errors: [] });
  expect(result.reconnects).toBeGreaterThanOrEqual(1); // grind-2's cut
  expect(result.actions.ok).toBeGreaterThan(10);
  expect(result.latency.all.count).toBe(result.actions.ok + result.actions.fail);
  expect(result.latency.collect.p99).toBeGreaterThan(0);
  expect(typeof result.loadGenerator.saturated).toBe('boolean');
  expect(result.loadGenerator.cpuPeakRatio).toBeGreaterThan(0);

  const entries = await readHistoryAll(file);
  expect(entries.map((e) => e.index)).toEqual(entries.map((_, i) => i));
  assertWellFormed(entries);
  const ends = entries.filter((e): e is BotEvent => e.type === 'event' && e.f === 'session-end');
  expect(new Set(ends.map((e) => e.process)).size).toBe(9);
  // grind-2's seq 3: info, then resent with the same seq and acked as a duplicate.
  const seq3 = entries.filter((e) => isClientOp(e) && e.process === 'grind-2' && e.seq === 3).map((e) => e.type);
  expect(seq3).toEqual(['invoke', 'info', 'invoke', 'ok']);
  expect(entries.filter((e) => e.type === 'event' && e.f === 'desync')).toEqual([]);
  // Bots ended in step with the server: each session-end checksum's version matches the server.
  for (const end of ends) expect((end.value as { version: number }).version).toBe(server.player(end.player).state.version);
  // Metrics server is closed after stop().
  await expect(fetch(fleet.metricsUrl)).rejects.toThrow();
});

test('stop() ends a long run early and every session still ends', async () => {
  const file = path.join(dir, 'history.jsonl');
  const runStartEpochMs = epochNowMs();
  const recorder = new HistoryRecorder(file, { runStartEpochMs });
  const controller = new AbortController();
  const fleet = await startFleet({
    gameModule: GAME_MODULE,
    scenario: scenario({ visitors: { profile: 'churner', arrival: { rate: 10, per: '1s', maxBots: 4 } } }, '60s', '10s'),
    wsUrl: server.url,
    runStartEpochMs,
    recorder,
    workers: 1,
    timing: TIMING,
    signal: controller.signal,
  });
  fleets.push(fleet);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const started = Date.now();
  controller.abort();
  const result = await fleet.done;
  expect(Date.now() - started).toBeLessThan(5000);
  await recorder.close();
  expect(result.sessionsStarted).toBeGreaterThanOrEqual(4);
  expect(result.sessionsStarted).toBeLessThan(fleet.plan.bots);
  const entries = await readHistoryAll(file);
  const starts = entries.filter((e) => e.type === 'event' && e.f === 'session-start').length;
  const ends = entries.filter((e) => e.type === 'event' && e.f === 'session-end').length;
  expect(ends).toBe(starts);
  assertWellFormed(entries);
});
