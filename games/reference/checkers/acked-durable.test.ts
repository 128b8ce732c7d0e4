import { ackedDurable } from './acked-durable';
import { HistoryBuilder } from './test-history';
import type { AckedDurableOffence } from './acked-durable';

function twoPlayers(): HistoryBuilder {
  return new HistoryBuilder().player('alice').player('bob');
}

describe('acked-durable', () => {
  it('passes when acked actions are durable, failed ones absent, and info ones either way', async () => {
    const b = twoPlayers();
    b.act('alice', { kind: 'collect' });
    b.act('alice', { kind: 'buy', item: 'sword' });
    b.act('bob', { kind: 'upgrade' });
    b.act('bob', { kind: 'collect' }, { outcome: 'fail' }); // never applied, seq reused below
    b.act('bob', { kind: 'collect' }, { outcome: 'info', applied: true }); // later found applied
    b.act('alice', { kind: 'collect' }, { outcome: 'info', applied: false }); // never applied
    b.act('alice', { kind: 'gift-send', to: 'bob', amount: 20 });
    b.act('alice', { kind: 'gift-send', to: 'bob', amount: 100_000 }); // rejected (insufficient gold): still an ok ack
    const input = b.input();
    expect(input.final!.actions.at(-1)!.result).toEqual({ outcome: 'rejected', reason: 'insufficient-gold' });
    const result = await ackedDurable.check(input);
    expect(result.valid).toBe(true);
    expect(result.summary).toBe('all 5 acked actions are durable with their acked results');
    // The info op found applied is in the log; the one never applied is not: both are fine.
    expect(input.final!.actions.some((row) => row.player === 'bob' && row.seq === 2)).toBe(true);
  });

  it('passes when a seq that failed is retried and then acked', async () => {
    const b = twoPlayers();
    b.act('alice', { kind: 'collect' }, { outcome: 'fail' });
    b.act('alice', { kind: 'collect' }, { seq: 1 });
    expect((await ackedDurable.check(b.input())).valid).toBe(true);
  });

  it('fails on an ack that was never committed, naming the op', async () => {
    const b = twoPlayers();
    b.act('alice', { kind: 'collect' });
    const lost = b.act('alice', { kind: 'buy', item: 'potion' }, { defect: 'ack-before-commit' });
    b.act('bob', { kind: 'collect' });
    const result = await ackedDurable.check(b.input());
    expect(result.valid).toBe(false);
    expect(result.summary).toContain('alice seq 2 (buy');
    expect(result.summary).toContain('missing from the final action log');
    // The lost ack also left alice's final version below the acked one: two offences, lost is the worst.
    expect(result.offendingCount).toBe(2);
    const first = result.first as AckedDurableOffence;
    const worst = result.worst as AckedDurableOffence;
    expect(first.op).toBe(lost.completion);
    expect(first.op.seq).toBe(2);
    expect(first.op.type).toBe('ok');
    expect(worst.problem).toBe('lost');
  });

  it('fails when the final version is below an acked version', async () => {
    const b = twoPlayers();
    b.act('alice', { kind: 'collect' });
    const input = b.input();
    input.final!.players.find((p) => p.state.id === 'alice')!.state.version = 0;
    const result = await ackedDurable.check(input);
    expect(result.valid).toBe(false);
    expect(result.summary).toContain('alice was acked version 1');
    expect((result.first as AckedDurableOffence).problem).toBe('version-regressed');
  });

  it('fails when the logged result differs from the acked one', async () => {
    const b = twoPlayers();
    b.act('alice', { kind: 'collect' });
    const input = b.input();
    input.final!.actions[0].result = { outcome: 'rejected', reason: 'insufficient-gold' };
    const result = await ackedDurable.check(input);
    expect(result.valid).toBe(false);
    expect((result.first as AckedDurableOffence).problem).toBe('result-differs');
    expect(result.summary).toContain('insufficient-gold');
  });

  it('fails when an action reported as failed was applied anyway', async () => {
    const b = twoPlayers();
    const failed = b.act('bob', { kind: 'upgrade' }, { outcome: 'fail', applied: true });
    const result = await ackedDurable.check(b.input());
    expect(result.valid).toBe(false);
    const first = result.first as AckedDurableOffence;
    expect(first.problem).toBe('failed-but-applied');
    expect(first.op.type).toBe('fail');
    expect(first.op.seq).toBe(failed.seq);
    expect(result.summary).toContain('bob seq 1 (upgrade');
  });

  it('is unknown without a final snapshot', async () => {
    const b = twoPlayers();
    b.act('alice', { kind: 'collect' });
    const result = await ackedDurable.check(b.input({ final: undefined }));
    expect(result.valid).toBe('unknown');
  });
});
