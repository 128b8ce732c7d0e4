/**
 * The fleet's plumbing with a tiny in-memory game (bots/testing/fake-game.ts, loaded by path in
 * every worker): plans dealt to threads, a well-formed merged history, metrics, a clean stop.
 * The reference game's fleet test is games/reference/client/fleet.test.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scenarioSchema, type ResolvedScenario, type ScenarioInput } from '../../core/scenario/schema';
import { isClientOp, type BotEvent, type HistoryEntry } from '../../core/history';
import { HistoryRecorder, readHistoryAll } from '../history/recorder';
import { BOTS_PER_THREAD, botThreadsFor, startFleet } from './fleet';
import { loadGameModule } from '../load-game';
import { epochNowMs } from '../../core/clock';

const FAKE_GAME = path.join(__dirname, '..', 'testing', 'fake-game.ts');
const TIMING = { pingIntervalMs: 500, pongTimeoutMs: 500, backoffBaseMs: 20, backoffCapMs: 200, stopGraceMs: 300 };

let dir: string;
const fleets: Array<{ stop(): Promise<unknown> }> = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-fleet-'));
});
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.stop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

function scenario(bots: ScenarioInput['bots'], duration: string, recovery: string): ResolvedScenario {
  return { ...scenarioSchema.parse({ name: 'fleet-test', duration, recovery: { window: recovery }, bots }), seed: 3 };
}

/** Every invoke of a process is followed by exactly one completion of the same op before its next invoke. */
function assertWellFormed(entries: HistoryEntry[]): void {
  const open = new Map<string, HistoryEntry>();
  for (const entry of entries) {
    if (!isClientOp(entry)) continue;
    if (entry.type === 'invoke') {
      expect(open.get(entry.process)).toBeUndefined();
      open.set(entry.process, entry);
    } else {
      const invoke = open.get(entry.process);
      expect(invoke && isClientOp(invoke) ? invoke.f : undefined).toBe(entry.f);
      open.delete(entry.process);
    }
  }
  expect([...open.keys()]).toEqual([]);
}

test('a small fleet plays a game loaded by path through the load window, with a well-formed history and metrics', async () => {
  const file = path.join(dir, 'history.jsonl');
  const runStartEpochMs = epochNowMs();
  const recorder = new HistoryRecorder(file, { runStartEpochMs });
  const fleet = await startFleet({
    gameModule: FAKE_GAME,
    scenario: scenario({ a: { profile: 'steady', count: 4, ramp: '300ms' }, b: { profile: 'churny', count: 3 } }, '1500ms', '500ms'),
    wsUrl: 'ws://127.0.0.1:9/unused',
    runStartEpochMs,
    recorder,
    workers: 2,
    timing: TIMING,
  });
  fleets.push(fleet);
  expect(fleet.plan).toMatchObject({ bots: 7, dropped: 0, loadEndMs: 2000 });
  for (let i = 0; i < 40 && fleet.progress().botsOnline === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await (await fetch(fleet.metricsUrl)).text()).toMatch(/lagstorm_bot_actions_total\{kind="tick",result="ok"\} \d+/);
  expect(fleet.progress().botsOnline).toBeGreaterThan(0);

  const result = await fleet.done;
  await fleet.stop();
  await recorder.close();
  expect(result).toMatchObject({ bots: 7, sessionsStarted: 7, desyncs: 0, gaveUp: 0, dropped: 0, errors: [] });
  expect(result.reconnects).toBeGreaterThanOrEqual(2); // a-2 and b-2 lose their link once; churny bots come back
  expect(result.actions.ok).toBeGreaterThan(20);

  const entries = await readHistoryAll(file);
  assertWellFormed(entries);
  const ends = entries.filter((e): e is BotEvent => e.type === 'event' && e.f === 'session-end');
  expect(ends.map((e) => e.process).sort()).toEqual(['a-1', 'a-2', 'a-3', 'a-4', 'b-1', 'b-2', 'b-3']);
  // a-2's seq 3: applied, link lost before the answer, resent with the same seq and acked as a duplicate.
  const seq3 = entries.filter((e) => isClientOp(e) && e.process === 'a-2' && e.seq === 3);
  expect(seq3.map((e) => e.type)).toEqual(['invoke', 'info', 'invoke', 'ok']);
  expect(seq3[3]).toMatchObject({ value: { applied: 3, duplicate: true } });
  // The game's own action names reach the history; 'poke' falls back to 'tick' only when there is no peer.
  const names = new Set(entries.filter(isClientOp).map((e) => e.f));
  expect([...names].sort()).toEqual(['login', 'poke', 'tick']);
});

test('an unknown profile is refused naming the game and its profiles', async () => {
  await expect(
    startFleet({ gameModule: FAKE_GAME, scenario: scenario({ a: { profile: 'casual', count: 1 } }, '1s', '1s'), wsUrl: 'ws://127.0.0.1:9/', runStartEpochMs: epochNowMs(), recorder: { append: () => undefined } }),
  ).rejects.toThrow(/bots\.a\.profile: unknown bot profile "casual" for game "fake"; use one of: steady, churny/);
});

test.each([
  ['a worker thread', 1],
  ['the main thread', 0],
])('stop() ends a long run early and every session still ends, bots on %s', async (_where, workers) => {
  const file = path.join(dir, 'history.jsonl');
  const runStartEpochMs = epochNowMs();
  const recorder = new HistoryRecorder(file, { runStartEpochMs });
  const controller = new AbortController();
  const fleet = await startFleet({
    gameModule: FAKE_GAME,
    scenario: scenario({ visitors: { profile: 'churny', arrival: { rate: 10, per: '1s', maxBots: 4 } } }, '60s', '10s'),
    wsUrl: 'ws://127.0.0.1:9/unused',
    runStartEpochMs,
    recorder,
    workers,
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

test('the fleet sizes its threads by peak action rate and bot count: the main thread while one carries the plan', () => {
  const game = loadGameModule(FAKE_GAME);
  const cores = os.availableParallelism();
  const plans = (count: number, profile: string, burst?: { everyMs: number; actions: number }) =>
    Array.from({ length: count }, (_, i) => ({ botId: `b-${i}`, slot: i, group: 'g', playerId: `g-${i}`, profile, ipv6: false, seed: i, windows: [], peers: { group: 'g', first: 0, last: 0 }, voluntaryDisconnects: false, ...(burst ? { burst } : {}) }));
  expect(botThreadsFor(plans(200, 'steady'), game)).toBe(1); // 50 ms think: 4 000 actions/s
  expect(botThreadsFor(plans(300, 'steady'), game)).toBe(Math.min(cores, 2)); // 6 000 actions/s
  expect(botThreadsFor(plans(10, 'steady', { everyMs: 1000, actions: 600 }), game)).toBe(Math.min(cores, 2)); // bursts count by their rate
  expect(botThreadsFor(plans(BOTS_PER_THREAD + 1, 'steady', { everyMs: 1e9, actions: 1 }), game)).toBe(Math.min(cores, 2)); // many idle bots
});
