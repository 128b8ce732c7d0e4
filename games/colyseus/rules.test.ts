import { applyAction, invalidAction, mineYield, MAX_YIELD, type Holding } from './rules';
import { ACTIONS } from './actions';

const holdings = (entries: Record<string, Holding>) => new Map(Object.entries(entries));

describe('Colyseus example rules', () => {
  it('mines a yield fixed by (player, seq), so a resend cannot change it', () => {
    const yields = Array.from({ length: 200 }, (_, i) => mineYield('p1', i + 1));
    expect(Math.min(...yields)).toBe(1);
    expect(Math.max(...yields)).toBe(MAX_YIELD);
    expect(mineYield('p1', 7)).toBe(mineYield('p1', 7));
    const { result, deltas } = applyAction('p1', 7, { kind: 'mine' }, holdings({ p1: { gold: 5, gems: 1 } }));
    expect(result).toEqual({ applied: true, gold: 5 + mineYield('p1', 7), gems: 1, mined: mineYield('p1', 7) });
    expect([...deltas]).toEqual([['p1', { gold: mineYield('p1', 7), gems: 0 }]]);
  });

  it('moves gems between players and rejects what cannot be paid', () => {
    const before = holdings({ a: { gold: 10, gems: 5 }, b: { gold: 0, gems: 2 } });
    expect(applyAction('a', 1, { kind: 'gift', to: 'b', gems: 3 }, before).deltas).toEqual(new Map([['a', { gold: 0, gems: -3 }], ['b', { gold: 0, gems: 3 }]]));
    expect(applyAction('a', 1, { kind: 'gift', to: 'b', gems: 6 }, before).result).toEqual({ applied: false, reason: 'not enough gems (5 < 6)' });
    expect(applyAction('a', 1, { kind: 'trade', with: 'b', gems: 2, gold: 10 }, before).result).toEqual({ applied: true, gold: 0, gems: 7 });
    expect(applyAction('a', 1, { kind: 'trade', with: 'b', gems: 3, gold: 1 }, before).result).toMatchObject({ applied: false });
    expect(applyAction('a', 1, { kind: 'gift', to: 'a', gems: 1 }, before).result).toMatchObject({ applied: false });
  });

  it('refuses malformed actions with the reason', () => {
    expect(invalidAction({ kind: 'mine' })).toBeUndefined();
    expect(invalidAction({ kind: 'gift', to: 'b', gems: 0 })).toMatch(/gems/);
    expect(invalidAction({ kind: 'steal' })).toMatch(/unknown action kind "steal"/);
  });

  it('declares effects: applied and unknown ones count, rejected ones do not', () => {
    const gift = { kind: 'gift' as const, to: 'b', gems: 4 };
    const moved = [{ quantity: 'gems', delta: -4 }, { player: 'b', quantity: 'gems', delta: 4 }];
    expect(ACTIONS.gift.effects!(gift, { applied: true, gold: 0, gems: 0 })).toEqual(moved);
    expect(ACTIONS.gift.effects!(gift, undefined)).toEqual(moved);
    expect(ACTIONS.gift.effects!(gift, { applied: false, reason: 'no' })).toEqual([]);
    expect(ACTIONS.mine.effects!({ kind: 'mine' }, { applied: true, gold: 9, gems: 0, mined: 4 })).toEqual([{ quantity: 'gold', delta: 4 }]);
    expect(ACTIONS.mine.effects!({ kind: 'mine' }, undefined)).toEqual([{ quantity: 'gold', delta: { min: 1, max: MAX_YIELD } }]);
  });
});
