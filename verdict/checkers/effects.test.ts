import type { Effect } from '../../core/game';
import type { ClientOp, HistoryEntry } from '../../core/history';
import type { CheckInput, EffectModel } from '../types';
import { ackedEffects, exactlyOnceKeys, transfersConserved } from './effects';

/** A tiny bank: `add` credits the caller (amount from the server's result), `give` moves coins between two players. */
function model(options: { transferOnly?: boolean } = {}): EffectModel {
  return {
    quantities: { coins: { initial: 100, transferOnly: options.transferOnly } },
    effectsOf(action, params, result): Effect[] {
      const p = params as { amount?: number; to?: string };
      if (action === 'add') return [{ quantity: 'coins', delta: result === undefined ? { min: 1, max: 10 } : (result as { added: number }).added }];
      if (action === 'give') return [{ quantity: 'coins', delta: -p.amount! }, { player: p.to, quantity: 'coins', delta: p.amount! }];
      return [];
    },
    finalQuantities: (final) => final as Record<string, Record<string, number>>,
    appliedKeys: (final) => (final as { __keys?: Array<{ player: string; seq: number }> }).__keys ?? [],
  };
}

let index = 0;
function op(type: ClientOp['type'], player: string, f: string, seq: number, value?: unknown): ClientOp {
  return { index: index++, type, process: player, player, f, seq, value, intendedAt: index, time: index };
}
function input(history: HistoryEntry[], final: unknown, effects = model()): CheckInput {
  return { history, final, effects, limits: { reconnectWithinMs: 10_000 }, runEndAt: 1000 };
}
const coins = (values: Record<string, number>, keys?: Array<{ player: string; seq: number }>) => ({ ...Object.fromEntries(Object.entries(values).map(([p, v]) => [p, { coins: v }])), ...(keys ? { __keys: keys } : {}) });

describe('acked-effects', () => {
  const history = [
    op('invoke', 'a', 'add', 1),
    op('ok', 'a', 'add', 1, { added: 7 }),
    op('invoke', 'a', 'give', 2, { amount: 20, to: 'b' }),
    op('ok', 'a', 'give', 2),
    op('invoke', 'a', 'add', 3),
    op('info', 'a', 'add', 3), // may or may not have added 1..10
    op('invoke', 'b', 'give', 1, { amount: 5, to: 'a' }),
    op('fail', 'b', 'give', 1), // must not be in
  ];

  it('passes when every final value lies between the acked and the attempted effects', async () => {
    // a: 100 + 7 - 20 (+0..10 maybe) → 87..97; b: 100 + 20 = 120.
    for (const a of [87, 92, 97]) expect((await ackedEffects.check(input(history, coins({ a, b: 120 })))).valid).toBe(true);
  });

  it('fails naming the lost acked change when a value is below the acked bound', async () => {
    const result = await ackedEffects.check(input(history, coins({ a: 87, b: 100 })));
    expect(result.valid).toBe(false);
    expect(result.summary).toMatch(/^1 violation; first: b's coins is 100, but the history says exactly 120: an acknowledged change was lost \(last acked change: give seq 2, history #\d+\)/);
    expect(result.first).toMatchObject({ problem: 'below-acked', player: 'b', quantity: 'coins', final: 100, low: 120, high: 120 });
  });

  it('fails when a value is above everything attempted: applied twice or created', async () => {
    const result = await ackedEffects.check(input(history, coins({ a: 98, b: 120 })));
    expect(result.first).toMatchObject({ problem: 'above-attempted', player: 'a', final: 98, low: 87, high: 97 });
    expect(result.summary).toContain('something was applied twice or created');
  });

  it('counts a resent action once: info then ok of the same seq', async () => {
    const resent = [op('invoke', 'a', 'add', 1), op('info', 'a', 'add', 1), op('invoke', 'a', 'add', 1), op('ok', 'a', 'add', 1, { added: 4 })];
    expect((await ackedEffects.check(input(resent, coins({ a: 104 })))).valid).toBe(true);
    expect((await ackedEffects.check(input(resent, coins({ a: 108 })))).first).toMatchObject({ problem: 'above-attempted', final: 108, high: 104 });
  });

  it('counts the next action that reuses a refused action\'s seq with its own params', async () => {
    // The session sends its next action with the seq of a refused one: give 50 refused, then add 3 on seq 1.
    const reused = [op('invoke', 'a', 'give', 1, { amount: 50, to: 'b' }), op('fail', 'a', 'give', 1), op('invoke', 'a', 'add', 1), op('ok', 'a', 'add', 1, { added: 3 })];
    expect((await ackedEffects.check(input(reused, coins({ a: 103, b: 100 })))).valid).toBe(true);
    expect((await ackedEffects.check(input(reused, coins({ a: 53, b: 150 })))).valid).toBe(false);
    expect((await exactlyOnceKeys.check(input(reused, coins({ a: 103, b: 100 }, [{ player: 'a', seq: 1 }])))).valid).toBe(true);
  });

  it('counts both actions when a lost acked seq is reused after a resume: the loss shows', async () => {
    // add 5 acked on seq 1, the backend loses it and reports lastSeq 0, the session sends add 7 as seq 1.
    const reused = [op('invoke', 'a', 'add', 1), op('ok', 'a', 'add', 1, { added: 5 }), op('invoke', 'a', 'add', 1), op('ok', 'a', 'add', 1, { added: 7 })];
    expect((await ackedEffects.check(input(reused, coins({ a: 107 })))).first).toMatchObject({ problem: 'below-acked', final: 107, low: 112 });
    expect((await ackedEffects.check(input(reused, coins({ a: 112 })))).valid).toBe(true);
  });

  it('is unknown without a final state and not applicable without effects', async () => {
    expect((await ackedEffects.check(input(history, undefined))).valid).toBe('unknown');
    expect(ackedEffects.appliesTo!({ stateVersions: false, shadowModel: false, finalState: true, effects: false, transfers: false, appliedKeys: false })).toMatch(/declares no effects/);
  });
});

describe('transfers-conserved', () => {
  const history = [op('invoke', 'a', 'give', 1, { amount: 30, to: 'b' }), op('ok', 'a', 'give', 1)];
  const bank = model({ transferOnly: true });

  it('passes when the total is what the players started with', async () => {
    expect((await transfersConserved.check(input(history, coins({ a: 70, b: 130 }), bank))).valid).toBe(true);
  });

  it('fails naming how much was created, and a negative balance', async () => {
    const created = await transfersConserved.check(input(history, coins({ a: 100, b: 130 }), bank));
    expect(created.summary).toBe('1 violation; first: coins sums to 230, not 200 (+30 created)');
    const negative = await transfersConserved.check(input(history, coins({ a: -10, b: 210 }), bank));
    expect(negative.first).toMatchObject({ problem: 'negative', player: 'a', observed: -10 });
  });
});

describe('exactly-once-keys', () => {
  const history = [op('invoke', 'a', 'add', 1), op('ok', 'a', 'add', 1, { added: 1 }), op('invoke', 'a', 'add', 2), op('fail', 'a', 'add', 2)];

  it('passes when each acked key is applied once and no failed one is', async () => {
    expect((await exactlyOnceKeys.check(input(history, coins({ a: 101 }, [{ player: 'a', seq: 1 }])))).valid).toBe(true);
  });

  it('fails on a key applied twice, an acked key never applied and a failed key applied', async () => {
    const twice = await exactlyOnceKeys.check(input(history, coins({ a: 102 }, [{ player: 'a', seq: 1 }, { player: 'a', seq: 1 }])));
    expect(twice.summary).toBe('1 violation; first: a seq 1 was applied twice');
    const lost = await exactlyOnceKeys.check(input(history, coins({ a: 100 }, [])));
    expect(lost.summary).toMatch(/^1 violation; first: a seq 1 was acked \(history #\d+\) but never applied$/);
    const failedApplied = await exactlyOnceKeys.check(input(history, coins({ a: 102 }, [{ player: 'a', seq: 1 }, { player: 'a', seq: 2 }])));
    expect(failedApplied.first).toMatchObject({ problem: 'failed-but-applied', seq: 2 });
  });
});
