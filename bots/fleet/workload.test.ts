import { scenarioSchema, type ResolvedScenario, type ScenarioInput } from '../../core/scenario/schema';
import type { BehaviourProfile } from '../../core/game';
import { arrivalTimes, buildFleetPlan } from './workload';

/** A game with just the profile shapes these plans read (session lengths for the open model). */
const profile = (name: string, sessionLength: BehaviourProfile['sessionLength']): BehaviourProfile => ({
  name,
  description: name,
  mix: [{ action: 'act', weight: 1 }],
  thinkTime: { kind: 'constant', value: 1000 },
  sessionLength,
  offlineTime: { kind: 'constant', value: 1000 },
});
const GAME = {
  name: 'plan-test',
  profiles: {
    casual: profile('casual', { kind: 'lognormal', mean: 180_000, sigma: 0.5 }),
    grinder: profile('grinder', { kind: 'never' }),
    churner: profile('churner', { kind: 'exponential', mean: 8000, min: 1000, max: 60_000 }),
  },
};
const planFor = (scenario: ResolvedScenario): ReturnType<typeof buildFleetPlan> => buildFleetPlan(scenario, GAME);

function scenario(bots: ScenarioInput['bots'], duration = '60s', recovery = '10s'): ResolvedScenario {
  return { ...scenarioSchema.parse({ name: 'plan-test', duration, recovery: { window: recovery }, bots }), seed: 1 };
}
const onlineAt = (fleetPlan: ReturnType<typeof buildFleetPlan>, t: number): number => fleetPlan.bots.filter((bot) => bot.windows.some((w) => w.start <= t && t < w.stop)).length;

test('closed model with a ramp: bot i starts at ramp * (i - 1) / count and all play until duration + recovery', () => {
  const plan = planFor(scenario({ players: { profile: 'casual', count: 10, ramp: '10s' } }));
  expect(plan.loadEndMs).toBe(70_000);
  expect(plan.bots.map((bot) => bot.playerId)).toEqual(Array.from({ length: 10 }, (_, i) => `players-${i + 1}`));
  plan.bots.forEach((bot, i) => {
    expect(bot.windows).toHaveLength(1);
    expect(bot.windows[0].start).toBeCloseTo(1000 * i, 6);
    expect(bot.windows[0].stop).toBe(70_000);
  });
  expect(plan.dropped).toBe(0);
  // Without a ramp: everyone at 0.
  expect(planFor(scenario({ p: { profile: 'grinder', count: 3 } })).bots.map((b) => b.windows)).toEqual([[{ start: 0, stop: 70_000 }], [{ start: 0, stop: 70_000 }], [{ start: 0, stop: 70_000 }]]);
});

test('closed model with stages: the online count follows the targets linearly, last started stop first', () => {
  const plan = planFor(
    scenario({
      players: {
        profile: 'casual',
        count: 100,
        stages: [
          { duration: '10s', target: 100 },
          { duration: '20s', target: 100 },
          { duration: '10s', target: 20 },
        ],
      },
    }),
  );
  expect(onlineAt(plan, 4_990)).toBe(50); // target 49.9: bots 1..50
  expect(onlineAt(plan, 20_000)).toBe(100);
  expect(onlineAt(plan, 35_000)).toBe(60);
  expect(onlineAt(plan, 45_000)).toBe(20);
  expect(onlineAt(plan, 69_999)).toBe(20);
  // LIFO: players-100 leaves first, players-1 never leaves.
  const byId = Object.fromEntries(plan.bots.map((bot) => [bot.playerId, bot.windows]));
  expect(byId['players-100'][0].stop).toBeLessThan(byId['players-21'][0].stop);
  expect(byId['players-1']).toEqual([{ start: 0, stop: 70_000 }]);
});

test('closed stages that come back up give a bot a second window', () => {
  const plan = planFor(
    scenario({
      p: {
        profile: 'casual',
        count: 4,
        stages: [
          { duration: '1s', target: 4 },
          { duration: '1s', target: 0 },
          { duration: '1s', target: 0 },
          { duration: '1s', target: 4 },
        ],
      },
    }, '10s', '1s'),
  );
  expect(plan.bots.find((b) => b.playerId === 'p-4')!.windows).toHaveLength(2);
  expect(onlineAt(plan, 2_500)).toBe(0);
  expect(onlineAt(plan, 5_000)).toBe(4);
});

test('a stage target above count is rejected with the field named', () => {
  expect(() => planFor(scenario({ p: { profile: 'casual', count: 5, stages: [{ duration: '1s', target: 9 }] } }))).toThrow(/bots\.p\.stages\[0\]\.target: 9 is more than bots\.p\.count \(5\)/);
  expect(() => planFor(scenario({ p: { profile: 'nope', count: 5 } }))).toThrow(/bots\.p\.profile: unknown bot profile "nope" for game "plan-test"; use one of: casual, grinder, churner/);
});

test('open model: constant arrivals, each session lasts its drawn length', () => {
  const plan = planFor(scenario({ visitors: { profile: 'churner', arrival: { rate: 5, per: '1s', maxBots: 1000 } } }, '10s', '2s'));
  expect(plan.bots).toHaveLength(60); // 5/s over 12 s
  expect(plan.bots[1].windows[0].start).toBeCloseTo(200, 6);
  for (const bot of plan.bots) {
    expect(bot.voluntaryDisconnects).toBe(false);
    expect(bot.windows[0].stop).toBeLessThanOrEqual(12_000);
  }
  expect(plan.dropped).toBe(0);
  // Gift peers: earlier arrivals only.
  expect(plan.bots[9].peers).toEqual({ group: 'visitors', first: 1, last: 9 });
});

test('open model with a cap: arrivals that find maxBots online are dropped', () => {
  // grinder sessions never end by themselves: after 3 arrivals everyone else is dropped.
  const plan = planFor(scenario({ v: { profile: 'grinder', arrival: { rate: 10, per: '1s', maxBots: 3 } } }, '2s', '1s'));
  expect(plan.bots).toHaveLength(3);
  expect(plan.dropped).toBe(27);
  expect(plan.droppedByGroup).toEqual({ v: 27 });
});

test('open model stages: the arrival rate moves linearly (count = area under the rate)', () => {
  const times = arrivalTimes({ rate: 0, per: 1000, maxBots: 10, stages: [{ duration: 10_000, target: 10 }] }, 10_000);
  // Area of a 0→10/s ramp over 10 s = 50 arrivals; the first at the point the area reaches 1.
  expect(times).toHaveLength(49); // the 50th falls exactly at the end of the load
  expect(times[0]).toBeCloseTo(Math.sqrt(2) * 1000, 3);
  for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]);
});

test('the plan is deterministic for a seed', () => {
  const bots = { v: { profile: 'casual', arrival: { rate: 3, per: '1s', maxBots: 5 } } };
  expect(planFor(scenario(bots))).toEqual(planFor(scenario(bots)));
});
