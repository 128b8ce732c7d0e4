import { mergeValidity, runCheckers } from './run-checkers';
import { checkerCatalog, GENERIC_CHECKERS } from './checkers';
import type { GameFeatures } from '../core/game';
import type { Checker } from './types';
import { HistoryBuilder } from './test-history';

const ALL: GameFeatures = { stateVersions: true, shadowModel: true, finalState: true, effects: false, transfers: false, appliedKeys: false };
const NONE: GameFeatures = { stateVersions: false, shadowModel: false, finalState: false, effects: false, transfers: false, appliedKeys: false };

function consistentRun(): HistoryBuilder {
  const b = new HistoryBuilder().player('alice').player('bob');
  b.act('alice', 'plant-seed');
  b.act('bob', { kind: 'trade', with: 'alice' });
  b.fault(b.now, b.now + 100);
  b.now += 150;
  b.act('alice', 'harvest');
  b.act('bob', 'plant-seed');
  b.login('alice');
  b.sessionEnd('alice').sessionEnd('bob');
  return b;
}

/** A checker that records whether it ran. */
function spy(name: string, appliesTo?: Checker['appliesTo']): Checker & { runs: number } {
  const checker = { name, description: 'spy', appliesTo, runs: 0, check: () => (checker.runs++, { name, valid: true as const, summary: 'ran' }) };
  return checker;
}

describe('runCheckers', () => {
  it('runs every generic checker over a consistent run of any game: all valid', async () => {
    const names = GENERIC_CHECKERS.map((c) => c.name);
    expect(names).toEqual(['acked-effects', 'transfers-conserved', 'exactly-once-keys', 'no-desync', 'monotonic', 'recovery']);
    const results = await runCheckers(names, consistentRun().input(), { features: ALL });
    // This game declares no effects: the effect-based checkers are n/a, the rest pass.
    expect(results.map((r) => [r.name, r.valid])).toEqual(names.map((name) => [name, name.includes('effects') || name.includes('transfers') || name.includes('keys') ? 'n/a' : true]));
    expect(results.filter((r) => r.valid !== 'n/a').every((r) => typeof r.details?.durationMs === 'number')).toBe(true);
  });

  it('reports n/a with the reason, and does not run, a checker whose features the game lacks', async () => {
    const versioned = spy('versioned', (features) => (features.stateVersions ? undefined : 'the game does not version player state'));
    const always = spy('always');
    const results = await runCheckers(['versioned', 'always', 'no-desync', 'monotonic', 'recovery'], consistentRun().input(), { features: NONE, checkers: [versioned, always] });
    expect(results.map((r) => [r.name, r.valid])).toEqual([
      ['versioned', 'n/a'],
      ['always', true],
      ['no-desync', 'n/a'],
      ['monotonic', 'n/a'],
      ['recovery', true],
    ]);
    expect(results[0].summary).toBe('not applicable: the game does not version player state');
    expect(results[2].summary).toBe('not applicable: the game has no shadow model (its client records no desync findings)');
    expect(versioned.runs).toBe(0);
    expect(always.runs).toBe(1);
    // With the feature, the same checker runs.
    const [withFeature] = await runCheckers(['versioned'], consistentRun().input(), { features: ALL, checkers: [versioned] });
    expect(withFeature.valid).toBe(true);
    expect(versioned.runs).toBe(1);
  });

  it('turns a throwing checker into unknown with the error, and keeps running the others', async () => {
    const throwing: Checker = {
      name: 'conservation',
      description: 'throws',
      check: () => {
        throw new Error('boom');
      },
    };
    const results = await runCheckers(['conservation', 'monotonic'], consistentRun().input(), { features: ALL, checkers: [throwing] });
    expect(results[0]).toMatchObject({ name: 'conservation', valid: 'unknown', summary: 'checker crashed: boom' });
    expect(results[0].error).toContain('boom');
    expect(results[1]).toMatchObject({ name: 'monotonic', valid: true });
  });

  it("turns a checker that answers 'n/a' itself into unknown: only appliesTo decides n/a", async () => {
    const cheating: Checker = { name: 'cheat', description: 'says n/a from check', check: () => ({ name: 'cheat', valid: 'n/a', summary: 'skip me' }) };
    const [result] = await runCheckers(['cheat'], consistentRun().input(), { features: ALL, checkers: [cheating] });
    expect(result.valid).toBe('unknown');
    expect(result.summary).toBe(`checker crashed: returned "n/a" instead of true, false or 'unknown'`);
  });

  it('names the known checkers when asked for one neither the generic set nor the game has', async () => {
    const [result] = await runCheckers(['linearizable'], consistentRun().input(), { features: ALL, checkers: [spy('mine')] });
    expect(result).toMatchObject({ valid: 'unknown', error: 'unknown checker "linearizable"; known: mine, acked-effects, transfers-conserved, exactly-once-keys, no-desync, monotonic, recovery' });
  });

  it("merges false > unknown > true, and leaves 'n/a' out", () => {
    expect(mergeValidity([])).toBe(true);
    expect(mergeValidity([true, true])).toBe(true);
    expect(mergeValidity([true, 'unknown', true])).toBe('unknown');
    expect(mergeValidity(['unknown', false, true])).toBe(false);
    expect(mergeValidity(['n/a', true, 'n/a'])).toBe(true);
    expect(mergeValidity(['n/a', 'unknown'])).toBe('unknown');
  });
});

describe('checkerCatalog', () => {
  it("lists the game's checkers first, then the generic ones; a game checker named like a generic one takes its place", () => {
    const mine = spy('mine');
    const ownDesync = spy('no-desync');
    const catalog = checkerCatalog([mine, ownDesync]);
    expect(catalog.names).toEqual(['mine', 'acked-effects', 'transfers-conserved', 'exactly-once-keys', 'no-desync', 'monotonic', 'recovery']);
    expect(catalog.get('no-desync')).toBe(ownDesync);
    expect(catalog.get('mine')).toBe(mine);
    expect(catalog.get('recovery')).toBe(GENERIC_CHECKERS[5]);
    expect(catalog.get('linearizable')).toBeUndefined();
    expect(checkerCatalog().names).toEqual(GENERIC_CHECKERS.map((c) => c.name));
  });

  it('rejects a game that lists two checkers under one name', () => {
    expect(() => checkerCatalog([spy('mine'), spy('mine')])).toThrow('the game lists two checkers named "mine": give each checker its own name');
  });
});
