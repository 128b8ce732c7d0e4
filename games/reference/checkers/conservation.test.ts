import { conservation, type ConservationOffence } from './conservation';
import { HistoryBuilder } from './test-history';
import { STARTING_GOLD } from '../rules/model';

function game(): HistoryBuilder {
  const b = new HistoryBuilder().player('alice').player('bob');
  b.act('alice', { kind: 'collect' });
  b.act('bob', { kind: 'buy', item: 'sword' });
  b.act('alice', { kind: 'gift-send', to: 'bob', amount: 50 });
  b.act('bob', { kind: 'upgrade' });
  return b;
}

describe('conservation', () => {
  it('passes when the total, the players and the ledger agree', async () => {
    const input = game().input();
    const result = await conservation.check(input);
    expect(result.valid).toBe(true);
    const expectedTotal = 2 * STARTING_GOLD + 12 - 120 - 50;
    expect(input.final!.totalGold).toBe(expectedTotal);
    expect(result.summary).toBe(`${expectedTotal} gold across 2 players matches the ledger (${2 * STARTING_GOLD + 12} in − 170 out)`);
  });

  it('fails on gold created from nothing and names the difference', async () => {
    const b = game();
    b.creditGiftFromNowhere('alice', 'bob', 40);
    const result = await conservation.check(b.input());
    expect(result.valid).toBe(false);
    expect(result.summary).toContain('(+40 created from nothing)');
    expect(result.details!.difference).toBe(40);
    expect((result.first as ConservationOffence).problem).toBe('ledger-differs');
  });

  it('fails on a negative balance even when the sums agree', async () => {
    const input = game().input();
    const [alice, bob] = input.final!.players;
    bob.state.gold += alice.state.gold + 5;
    alice.state.gold = -5;
    const result = await conservation.check(input);
    expect(result.valid).toBe(false);
    expect(result.offendingCount).toBe(1);
    expect(result.first).toEqual({ problem: 'negative-gold', player: 'alice', gold: -5 });
    expect(result.summary).toBe('1 player with negative gold');
  });

  it('fails when totalGold disagrees with the players', async () => {
    const input = game().input();
    input.final!.totalGold -= 7;
    const result = await conservation.check(input);
    expect(result.valid).toBe(false);
    expect(result.summary).toContain('(-7)');
    expect((result.first as ConservationOffence).problem).toBe('total-differs');
  });

  it("counts guild banks' gold and fails when a bank lost a deposit (a lost update)", async () => {
    const input = game().input();
    const alice = input.final!.players[0];
    // alice deposited 30 into guild-1: the bank holds it, so the total is unchanged.
    alice.state.gold -= 30;
    input.final!.banks = [{ id: 'guild-1', gold: 30, version: 1 }];
    expect((await conservation.check(input)).valid).toBe(true);
    // A second write overwrote the bank from a stale balance: the 30 are gone.
    input.final!.banks = [{ id: 'guild-1', gold: 0, version: 1 }];
    input.final!.totalGold -= 30;
    const result = await conservation.check(input);
    expect(result.valid).toBe(false);
    expect(result.summary).toContain('players and banks hold');
    expect(result.summary).toContain('(-30 destroyed)');
  });

  it('is unknown without a final snapshot', async () => {
    expect((await conservation.check(game().input({ final: undefined }))).valid).toBe('unknown');
  });
});
