import { exactlyOnce, type ExactlyOnceOffence } from './exactly-once';
import { HistoryBuilder } from './test-history';

function game(): HistoryBuilder {
  const b = new HistoryBuilder().player('alice').player('bob');
  b.act('alice', { kind: 'collect' });
  b.act('bob', { kind: 'buy', item: 'shield' });
  b.act('alice', { kind: 'gift-send', to: 'bob', amount: 30 });
  b.act('bob', { kind: 'upgrade' }, { outcome: 'info', applied: true });
  b.act('alice', { kind: 'buy', item: 'gem-pack' });
  return b;
}

describe('exactly-once', () => {
  it('passes when every final state equals the replay of its log', async () => {
    const b = game();
    b.act('bob', { kind: 'collect' }, { outcome: 'info', applied: false });
    const result = await exactlyOnce.check(b.input());
    expect(result.valid).toBe(true);
    expect(result.summary).toBe('2 players replayed from 5 log rows and 1 gift credit: every final state matches');
  });

  it('catches a resent action applied twice but logged once, at the row where the log diverges', async () => {
    const b = game();
    const resent = b.act('bob', { kind: 'collect' }, { defect: 'apply-twice' });
    b.act('bob', { kind: 'collect' });
    const result = await exactlyOnce.check(b.input());
    expect(result.valid).toBe(false);
    const first = result.first as ExactlyOnceOffence;
    expect(first.problem).toBe('state-differs');
    expect(first.player).toBe('bob');
    expect(first.divergence?.row?.seq).toBe(resent.seq);
    expect(first.divergence?.problem).toBe('version-gap');
    expect(first.final!.gold - first.replayed!.gold).toBe(14); // collect at level 2 pays 14, once too often
    expect(result.summary).toContain("bob's final state (version 6, gold");
    expect(result.summary).toContain(`the log first disagrees at seq ${resent.seq}`);
  });

  it('catches a gift credited twice', async () => {
    const b = new HistoryBuilder().player('alice').player('bob');
    const gift = b.act('alice', { kind: 'gift-send', to: 'bob', amount: 25 }, { defect: 'double-credit' });
    const result = await exactlyOnce.check(b.input());
    expect(result.valid).toBe(false);
    expect(result.offendingCount).toBe(1);
    const first = result.first as ExactlyOnceOffence;
    expect(first.problem).toBe('gift-credited-twice');
    expect(first.gift).toMatchObject({ from: 'alice', to: 'bob', senderSeq: gift.seq, amount: 25 });
    expect(result.summary).toBe('1 violation; first: gift alice seq 1 → bob (25 gold) was credited twice');
  });

  it('catches a (player, seq) logged twice and a gift credited without a send', async () => {
    const b = game();
    b.creditGiftFromNowhere('alice', 'bob', 40);
    const input = b.input();
    input.final!.actions.push({ ...input.final!.actions[0] });
    const result = await exactlyOnce.check(input);
    expect(result.valid).toBe(false);
    const problems = (result.details!.examples as ExactlyOnceOffence[]).map((o) => o.problem);
    expect(problems).toEqual(expect.arrayContaining(['duplicate-seq', 'gift-without-send']));
    expect((result.first as ExactlyOnceOffence).problem).toBe('duplicate-seq');
  });

  it('is unknown without a final snapshot', async () => {
    expect((await exactlyOnce.check(game().input({ final: undefined }))).valid).toBe('unknown');
  });
});
