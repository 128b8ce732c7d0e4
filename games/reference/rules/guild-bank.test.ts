import { applyBankSide, bankHasFunds, newGuildBank } from './guild-bank';
import { applyAction, factsFromResult, newPlayer, STARTING_GOLD } from './model';

describe('guild bank rules', () => {
  it('a deposit moves gold from the player into the bank, conserving the total', () => {
    const player = newPlayer('p1');
    const action = { kind: 'guild-deposit', guild: 'g1', amount: 30 } as const;
    const { state, result } = applyAction(player, action, 1);
    const bank = applyBankSide(newGuildBank('g1'), action);
    expect(result).toEqual({ outcome: 'applied', goldDelta: -30, ledger: [] });
    expect(state.gold).toBe(STARTING_GOLD - 30);
    expect(bank).toEqual({ id: 'g1', gold: 30, version: 1 });
    expect(state.gold + bank.gold).toBe(STARTING_GOLD);
  });

  it('a deposit the player cannot afford is rejected and leaves the bank alone', () => {
    const { state, result } = applyAction({ ...newPlayer('p1'), gold: 5 }, { kind: 'guild-deposit', guild: 'g1', amount: 6 }, 1);
    expect(result).toEqual({ outcome: 'rejected', reason: 'insufficient-gold' });
    expect(state.gold).toBe(5);
  });

  it('a withdrawal pays out only what the bank holds; the refusal is a fact the client learns from the result', () => {
    const bank = { ...newGuildBank('g1'), gold: 40 };
    expect(bankHasFunds(bank, 40)).toBe(true);
    expect(bankHasFunds(bank, 41)).toBe(false);
    const refused = applyAction(newPlayer('p1'), { kind: 'guild-withdraw', guild: 'g1', amount: 41 }, 1, { bankHasFunds: false });
    expect(refused.result).toEqual({ outcome: 'rejected', reason: 'insufficient-bank-gold' });
    expect(factsFromResult(refused.result).bankHasFunds).toBe(false);
    const paid = applyAction(newPlayer('p1'), { kind: 'guild-withdraw', guild: 'g1', amount: 40 }, 2, { bankHasFunds: true });
    expect(paid.state.gold).toBe(STARTING_GOLD + 40);
    expect(applyBankSide(bank, { kind: 'guild-withdraw', guild: 'g1', amount: 40 })).toEqual({ id: 'g1', gold: 0, version: 1 });
  });

  it('bad amounts and guild ids are rule rejections (the seq is consumed)', () => {
    expect(applyAction(newPlayer('p1'), { kind: 'guild-deposit', guild: 'g1', amount: 0 }, 1).result).toEqual({ outcome: 'rejected', reason: 'invalid-amount' });
    const badGuild = applyAction(newPlayer('p1'), { kind: 'guild-withdraw', guild: '', amount: 1 }, 3);
    expect(badGuild.result).toEqual({ outcome: 'rejected', reason: 'invalid-guild' });
    expect(badGuild.state).toMatchObject({ lastSeq: 3, version: 1, gold: STARTING_GOLD });
  });
});
