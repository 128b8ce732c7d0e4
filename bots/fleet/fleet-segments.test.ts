/**
 * A run split over four agents: four fleets, each running one segment of the same sequence with
 * the same seed, play the same bots with the same per-bot action sequences as one fleet running
 * them all (bots/testing/fake-game.ts, loaded by path in every worker thread).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scenarioSchema, type ResolvedScenario } from '../../core/scenario/schema';
import { isClientOp, type HistoryEntry } from '../../core/history';
import { HistoryRecorder, readHistoryAll } from '../history/recorder';
import { startFleet, type StartedFleet } from './fleet';
import { planForSegment, segmentTuple, type SegmentTuple } from './segments';
import { buildFleetPlan } from './workload';
import { loadGameModule } from '../load-game';
import { epochNowMs } from '../../core/clock';

const FAKE_GAME = path.join(__dirname, '..', 'testing', 'fake-game.ts');
const TIMING = { pingIntervalMs: 500, pongTimeoutMs: 500, backoffBaseMs: 20, backoffCapMs: 200, stopGraceMs: 300 };
const SEQUENCE = '0,1/4,1/2,3/4,1';

let dir: string;
const fleets: StartedFleet[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-segments-'));
});
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.stop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

// maxActions keeps every bot's sequence complete well inside its window, so wall-clock timing cannot cut one short.
const SCENARIO: ResolvedScenario = {
  ...scenarioSchema.parse({
    name: 'segments-fleet',
    duration: '2500ms',
    recovery: { window: '500ms' },
    bots: {
      steady: { profile: 'steady', count: 9, ramp: '400ms', maxActions: 6 },
      // Arrivals stop by 1.6 s, so the last visitor's session still has time for its actions.
      visitors: { profile: 'churny', arrival: { rate: 8, per: '1s', maxBots: 3, stages: [{ duration: '1500ms', target: 8 }, { duration: '100ms', target: 0 }] }, maxActions: 2 },
    },
  }),
  seed: 41,
};

/** Per bot: its actions in order (name, seq, params) and how each ended. */
type Sequences = Map<string, string[]>;
function actionSequences(entries: HistoryEntry[]): Sequences {
  const byBot: Sequences = new Map();
  for (const entry of entries) {
    if (!isClientOp(entry) || entry.seq === undefined) continue;
    const line = entry.type === 'invoke' ? `invoke ${entry.f} #${entry.seq} ${JSON.stringify(entry.value)}` : `${entry.type} ${entry.f} #${entry.seq}`;
    byBot.set(entry.process, [...(byBot.get(entry.process) ?? []), line]);
  }
  return byBot;
}

async function runFleet(name: string, segment?: SegmentTuple): Promise<{ entries: HistoryEntry[]; bots: number; dropped: number }> {
  const file = path.join(dir, `${name}.jsonl`);
  // Time 0 lies ahead of the worker threads' start-up, so no early window is over before its bot could play.
  const runStartEpochMs = epochNowMs() + 2500;
  const recorder = new HistoryRecorder(file, { runStartEpochMs });
  const fleet = await startFleet({ gameModule: FAKE_GAME, scenario: SCENARIO, wsUrl: 'ws://127.0.0.1:9/unused', runStartEpochMs, recorder, workers: 1, timing: TIMING, segment });
  fleets.push(fleet);
  const result = await fleet.done;
  await recorder.close();
  expect(result.errors).toEqual([]);
  return { entries: await readHistoryAll(file), bots: result.bots, dropped: result.dropped };
}

test('four segments of one seed play exactly the bots and per-bot action sequences of the single run', async () => {
  const single = await runFleet('single');
  const tuples = [0, 1, 2, 3].map((i) => segmentTuple(`${i}/4:${i + 1}/4`, SEQUENCE));
  const agents = await Promise.all(tuples.map((tuple, i) => runFleet(`agent-${i}`, tuple)));

  const whole = actionSequences(single.entries);
  expect(whole.size).toBe(single.bots);
  expect(single.dropped).toBeGreaterThan(0); // the open group overruns maxBots: drops are dealt out too
  expect([...whole.values()].every((lines) => lines.length >= 4)).toBe(true);

  const parts = agents.map((agent) => actionSequences(agent.entries));
  // Disjoint: no bot plays on two agents; every agent has a share.
  const owners = new Map<string, number>();
  parts.forEach((part, i) => {
    expect(part.size).toBeGreaterThan(0);
    for (const bot of part.keys()) {
      expect(owners.get(bot)).toBeUndefined();
      owners.set(bot, i);
    }
  });
  // Each agent played exactly its segment's striped slots of the plan.
  const plan = buildFleetPlan(SCENARIO, loadGameModule(FAKE_GAME));
  parts.forEach((part, i) => expect([...part.keys()].sort()).toEqual(planForSegment(plan, tuples[i]).bots.map((bot) => bot.botId).sort()));
  const union = new Map(parts.flatMap((part) => [...part]));
  expect(new Map([...union].sort())).toEqual(new Map([...whole].sort()));
  expect(agents.reduce((sum, agent) => sum + agent.bots, 0)).toBe(single.bots);
  expect(agents.reduce((sum, agent) => sum + agent.dropped, 0)).toBe(single.dropped);
}, 60_000);
