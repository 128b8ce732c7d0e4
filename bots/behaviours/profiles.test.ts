import { createRng, deriveSeed } from '../../core/rng';
import { meanOf, sample, type Distribution } from '../../core/distributions';
import { getProfile, nextAction, PROFILE_NAMES } from './profiles';

test('the registry has the four profiles and names the choices on a typo', () => {
  expect([...PROFILE_NAMES].sort()).toEqual(['casual', 'churner', 'gifter', 'grinder']);
  expect(() => getProfile('casul')).toThrow(/unknown bot profile "casul"; use one of: casual, grinder, gifter, churner/);
});

test('the same seed gives the same action sequence, another seed another', () => {
  const run = (seed: number) => {
    const rng = createRng(deriveSeed(seed, 'players-3', 'actions'));
    return Array.from({ length: 200 }, () => nextAction(getProfile('gifter'), rng, { playerId: 'players-3', pickPeer: (r) => `players-${1 + Math.floor(r.next() * 10)}` }));
  };
  expect(run(1)).toEqual(run(1));
  expect(run(1)).not.toEqual(run(2));
});

test('the action mix follows the weights', () => {
  const rng = createRng(99);
  const counts: Record<string, number> = {};
  const profile = getProfile('casual');
  for (let i = 0; i < 20_000; i++) {
    const action = nextAction(profile, rng, { playerId: 'p-1', pickPeer: () => 'p-2' });
    counts[action.kind] = (counts[action.kind] ?? 0) + 1;
  }
  expect(counts.collect / 20_000).toBeCloseTo(0.5, 1);
  expect(counts.buy / 20_000).toBeCloseTo(0.3, 1);
  expect(counts['gift-send'] / 20_000).toBeCloseTo(0.05, 1);
});

test('think-time distributions have the advertised mean', () => {
  const distributions: Distribution[] = [
    { kind: 'exponential', mean: 300 },
    { kind: 'lognormal', mean: 2000, sigma: 0.8 },
    { kind: 'uniform', min: 10, max: 30 },
  ];
  for (const distribution of distributions) {
    const rng = createRng(5);
    let sum = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) sum += sample(distribution, rng);
    expect(Math.abs(sum / n - meanOf(distribution)) / meanOf(distribution)).toBeLessThan(0.03);
  }
});

test('derived seeds differ per bot and per stream', () => {
  const seeds = new Set([deriveSeed(1, 'a-1'), deriveSeed(1, 'a-2'), deriveSeed(2, 'a-1'), deriveSeed(deriveSeed(1, 'a-1'), 'jitter')]);
  expect(seeds.size).toBe(4);
});
