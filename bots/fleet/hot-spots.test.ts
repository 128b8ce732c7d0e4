import { scenarioSchema, type ResolvedScenario, type ScenarioInput } from '../../core/scenario/schema';
import type { BehaviourProfile } from '../../core/game';
import { createRng } from '../../core/rng';
import { pickPeerIndex } from './hot-spots';
import { peerPicker } from './plan-runner';
import { buildFleetPlan } from './workload';

const PROFILE: BehaviourProfile = {
  name: 'gifter',
  description: 'gifter',
  mix: [{ action: 'act', weight: 1 }],
  thinkTime: { kind: 'constant', value: 1000 },
  sessionLength: { kind: 'never' },
  offlineTime: { kind: 'constant', value: 1000 },
};
const GAME = { name: 'hot-test', profiles: { gifter: PROFILE } };

function scenario(bots: ScenarioInput['bots']): ResolvedScenario {
  return { ...scenarioSchema.parse({ name: 'hot-test', duration: '10s', bots }), seed: 5 };
}

/** How often each recipient is picked by one bot over `draws` gifts. */
function tally(bots: ScenarioInput['bots'], botId: string, draws: number, seed = 9): Map<string, number> {
  const plan = buildFleetPlan(scenario(bots), GAME).bots.find((bot) => bot.botId === botId)!;
  const pick = peerPicker(plan);
  const rng = createRng(seed);
  const counts = new Map<string, number>();
  for (let i = 0; i < draws; i++) {
    const to = pick(rng)!;
    counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}

describe('hot players', () => {
  const bots: ScenarioInput['bots'] = {
    fans: { profile: 'gifter', count: 20, giftTo: 'streamers', hotPlayers: { count: 2, share: 0.8 } },
    streamers: { profile: 'gifter', count: 10 },
  };

  it('sends the hot share of gifts to the first `count` players of the target group, the rest spread over all', () => {
    const counts = tally(bots, 'fans-3', 10_000);
    const hot = (counts.get('streamers-1') ?? 0) + (counts.get('streamers-2') ?? 0);
    // 80 % to the two hot players, plus their even share (2/10) of the other 20 %: 84 %.
    expect(hot / 10_000).toBeGreaterThan(0.82);
    expect(hot / 10_000).toBeLessThan(0.86);
    expect([...counts.keys()].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `streamers-${i + 1}`).sort());
  });

  it('is seeded: the same seed picks the same recipients, another seed others', () => {
    expect([...tally(bots, 'fans-1', 200, 1)]).toEqual([...tally(bots, 'fans-1', 200, 1)]);
    expect([...tally(bots, 'fans-1', 200, 1)]).not.toEqual([...tally(bots, 'fans-1', 200, 2)]);
  });

  it('never picks the bot itself, even when it is one of the hot players', () => {
    const own: ScenarioInput['bots'] = { crowd: { profile: 'gifter', count: 5, hotPlayers: { count: 1, share: 1 } } };
    expect([...tally(own, 'crowd-1', 500).keys()].every((to) => to !== 'crowd-1')).toBe(true);
    expect([...tally(own, 'crowd-3', 500).keys()]).toEqual(['crowd-1']);
  });

  it('uses exactly one draw per pick (the action sequence stays aligned)', () => {
    const plan = buildFleetPlan(scenario(bots), GAME).bots.find((bot) => bot.botId === 'fans-1')!;
    const rng = createRng(3);
    const twin = createRng(3);
    peerPicker(plan)(rng);
    twin.next();
    expect(rng.next()).toBe(twin.next());
  });

  it('maps the draw without modulo bias at the edges', () => {
    expect(pickPeerIndex(0, 1, 10, -1, { count: 2, share: 0.5 })).toBe(1);
    expect(pickPeerIndex(0.4999, 1, 10, -1, { count: 2, share: 0.5 })).toBe(2);
    expect(pickPeerIndex(0.5, 1, 10, -1, { count: 2, share: 0.5 })).toBe(1);
    expect(pickPeerIndex(0.9999, 1, 10, -1, { count: 2, share: 0.5 })).toBe(10);
    expect(pickPeerIndex(0.3, 1, 1, 1)).toBeUndefined();
  });

  it('refuses more hot players than the target group has, naming the field and the fix', () => {
    const parsed = scenarioSchema.safeParse({ name: 'x', duration: '10s', bots: { fans: { profile: 'gifter', count: 3, giftTo: 'stars', hotPlayers: { count: 5, share: 0.5 } }, stars: { profile: 'gifter', count: 4 } } });
    expect(parsed.success).toBe(false);
    const issue = parsed.error!.issues.find((i) => i.path.join('.') === 'bots.fans.hotPlayers.count');
    expect(issue?.message).toBe('5 hot players, but the gift target group "stars" has 4 players; lower hotPlayers.count to at most 4');
  });
});

describe('bursts', () => {
  it('puts the burst on every bot of the group, in ms, and on no other group', () => {
    const plan = buildFleetPlan(scenario({ guild: { profile: 'gifter', count: 3, burst: { every: '2s', actions: 3 } }, others: { profile: 'gifter', count: 2 } }), GAME);
    expect(plan.bots.filter((bot) => bot.group === 'guild').map((bot) => bot.burst)).toEqual([
      { everyMs: 2000, actions: 3 },
      { everyMs: 2000, actions: 3 },
      { everyMs: 2000, actions: 3 },
    ]);
    expect(plan.bots.filter((bot) => bot.group === 'others').map((bot) => bot.burst)).toEqual([undefined, undefined]);
  });
});
