import { chooseAction } from '../../bots/core/actions';
import { loadGameModule } from '../../bots/load-game';
import type { ActionContext } from '../../core/game';
import { meanOf, sample, type Distribution } from '../../core/distributions';
import { createRng, deriveSeed, type Rng } from '../../core/rng';
import referenceGame from './index';
import { ACTIONS } from './actions';
import { PROFILES } from './profiles';
import { applyAction, newPlayer, type Action } from './rules/model';

const context = (profile: string, rng: Rng, pickPeer: ActionContext['pickPeer'] = () => 'p-2'): ActionContext => ({ playerId: 'p-1', rng, pickPeer, profile: PROFILES[profile] });

test('the reference game loads by path with its five profiles and six actions', () => {
  const game = loadGameModule(`${__dirname}/index.ts`);
  expect(game).toBe(referenceGame);
  expect(Object.keys(game.profiles).sort()).toEqual(['casual', 'churner', 'gifter', 'grinder', 'guild-member']);
  expect(Object.keys(game.actions).sort()).toEqual(['buy', 'collect', 'gift-send', 'guild-deposit', 'guild-withdraw', 'upgrade']);
  expect(game.features).toEqual({ stateVersions: true, shadowModel: true });
  expect(game.defects?.map((d) => d.name)).toEqual(['ack-before-commit', 'no-dedup', 'nonatomic-gift', 'lost-push', 'retry-storm', 'ipv4-only', 'bank-lost-update']);
  for (const defect of game.defects ?? []) expect(defect.description.length).toBeGreaterThan(20);
  expect(game.server?.entry).toMatch(/games\/reference\/server\/main\.ts$/);
});

test('the same seed gives the same action sequence, another seed another', () => {
  const run = (seed: number): unknown[] => {
    const rng = createRng(deriveSeed(seed, 'players-3', 'actions'));
    const ctx = context('gifter', rng, (r) => `players-${1 + Math.floor(r.next() * 10)}`);
    return Array.from({ length: 200 }, () => chooseAction(PROFILES.gifter, ACTIONS, ctx));
  };
  expect(run(1)).toEqual(run(1));
  expect(run(1)).not.toEqual(run(2));
});

test('the action mix follows the weights; params are the wire Action', () => {
  const rng = createRng(99);
  const counts: Record<string, number> = {};
  const ctx = context('casual', rng);
  for (let i = 0; i < 20_000; i++) {
    const choice = chooseAction(PROFILES.casual, ACTIONS, ctx)!;
    expect((choice.params as Action).kind).toBe(choice.name);
    counts[choice.name] = (counts[choice.name] ?? 0) + 1;
  }
  expect(counts.collect / 20_000).toBeCloseTo(0.5, 1);
  expect(counts.buy / 20_000).toBeCloseTo(0.3, 1);
  expect(counts['gift-send'] / 20_000).toBeCloseTo(0.05, 1);
});

test("a gift draws its recipient and the profile's amount; with nobody to gift to it falls back to collect", () => {
  const rng = createRng(3);
  const gifts = Array.from({ length: 500 }, () => ACTIONS['gift-send'].params!(context('gifter', rng)));
  for (const gift of gifts) {
    expect(gift).toMatchObject({ kind: 'gift-send', to: 'p-2' });
    expect(gift!.amount).toBeGreaterThanOrEqual(1);
    expect(gift!.amount).toBeLessThanOrEqual(25);
  }
  expect(new Set(gifts.map((gift) => gift!.amount)).size).toBeGreaterThan(10);
  const alone = context('gifter', createRng(3), (r) => {
    r.next();
    return undefined;
  });
  expect(ACTIONS['gift-send'].params!(alone)).toBeUndefined();
  expect(ACTIONS['gift-send'].fallback).toBe('collect');
  const onlyGifts = { ...PROFILES.gifter, mix: [{ action: 'gift-send', weight: 1 }] };
  expect(chooseAction(onlyGifts, ACTIONS, alone)).toEqual({ name: 'collect', params: { kind: 'collect' } });
});

test('declared effects match what the rules did to the player, and a rejected action has none', () => {
  const player = { ...newPlayer('p-1'), gold: 300 };
  const check = (action: Action, expected: Array<{ player?: string; quantity: string; delta: number }>): void => {
    const { result } = applyAction(player, action, 1);
    const spec = ACTIONS[action.kind] as { effects(params: Action, result: unknown): unknown };
    expect(spec.effects(action, result)).toEqual(expected);
  };
  check({ kind: 'collect' }, [{ quantity: 'gold', delta: 12 }]);
  check({ kind: 'buy', item: 'sword' }, [
    { quantity: 'gold', delta: -120 },
    { quantity: 'sword', delta: 1 },
  ]);
  check({ kind: 'buy', item: 'gem-pack' }, [
    { quantity: 'gold', delta: -200 },
    { quantity: 'gem-pack', delta: 1 },
    { quantity: 'gems', delta: 5 },
  ]);
  check({ kind: 'upgrade' }, [
    { quantity: 'gold', delta: -50 },
    { quantity: 'level', delta: 1 },
  ]);
  check({ kind: 'gift-send', to: 'p-2', amount: 30 }, [
    { quantity: 'gold', delta: -30 },
    { player: 'p-2', quantity: 'gold', delta: 30 },
  ]);
  check({ kind: 'gift-send', to: 'p-2', amount: 3000 }, []); // insufficient gold: rejected
  const poor = { ...newPlayer('p-1'), gold: 10 };
  expect(ACTIONS.upgrade.effects!({ kind: 'upgrade' }, applyAction(poor, { kind: 'upgrade' }, 1).result)).toEqual([]);
});

test('think-time distributions have the advertised mean', () => {
  const distributions: Distribution[] = [PROFILES.grinder.thinkTime, PROFILES.casual.thinkTime, { kind: 'uniform', min: 10, max: 30 }];
  for (const distribution of distributions) {
    const rng = createRng(5);
    let sum = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) sum += sample(distribution, rng);
    expect(Math.abs(sum / n - meanOf(distribution)) / meanOf(distribution)).toBeLessThan(0.05);
  }
});

test("guild actions draw the profile's guild and amount, and declare gold moving between the player and the bank's bank-gold", () => {
  const rng = createRng(5);
  const deposits = Array.from({ length: 300 }, () => ACTIONS['guild-deposit'].params!(context('guild-member', rng))!);
  for (const deposit of deposits) {
    expect(deposit).toMatchObject({ kind: 'guild-deposit', guild: 'guild-1' });
    expect(deposit.amount).toBeGreaterThanOrEqual(5);
    expect(deposit.amount).toBeLessThanOrEqual(40);
  }
  const applied = { outcome: 'applied', goldDelta: -30, ledger: [] };
  expect(ACTIONS['guild-deposit'].effects!({ kind: 'guild-deposit', guild: 'g', amount: 30 }, applied)).toEqual([
    { quantity: 'gold', delta: -30 },
    { player: 'guild:g', quantity: 'bank-gold', delta: 30 },
  ]);
  expect(ACTIONS['guild-withdraw'].effects!({ kind: 'guild-withdraw', guild: 'g', amount: 30 }, { outcome: 'applied', goldDelta: 30, ledger: [] })).toEqual([
    { quantity: 'gold', delta: 30 },
    { player: 'guild:g', quantity: 'bank-gold', delta: -30 },
  ]);
  // A refused withdrawal changed nothing; an unknown one may have moved its amount.
  expect(ACTIONS['guild-withdraw'].effects!({ kind: 'guild-withdraw', guild: 'g', amount: 30 }, { outcome: 'rejected', reason: 'insufficient-bank-gold' })).toEqual([]);
  expect(ACTIONS['guild-withdraw'].effects!({ kind: 'guild-withdraw', guild: 'g', amount: 30 }, undefined)).toHaveLength(2);
});
