import { recovery, type RecoveryOffence } from './recovery';
import { HistoryBuilder } from '../test-history';

function beforeTheFault(): HistoryBuilder {
  const b = new HistoryBuilder().player('a').player('b').player('c');
  b.act('a', { kind: 'collect' }, { at: 10 });
  b.act('b', { kind: 'collect' }, { at: 20 });
  b.act('c', { kind: 'collect' }, { at: 30 });
  b.fault(100, 1_000);
  return b;
}

describe('recovery', () => {
  it('is valid with no faults, and says so', async () => {
    const b = new HistoryBuilder().player('a');
    b.act('a', { kind: 'collect' });
    const result = await recovery.check(b.input());
    expect(result).toMatchObject({ valid: true, summary: 'no faults were injected: nothing to recover from' });
  });

  it('passes when every bot completes an action within the limit; a bot that ended by plan is exempt', async () => {
    const b = beforeTheFault();
    b.sessionEnd('c', { at: 500 });
    b.act('a', { kind: 'collect' }, { at: 1_100, latency: 20 });
    b.act('b', { kind: 'collect' }, { at: 1_300, sendLag: 250, latency: 40 });
    const result = await recovery.check(b.input({ limits: { reconnectWithinMs: 2_000 }, runEndAt: 5_000 }));
    expect(result.valid).toBe(true);
    expect(result.summary).toBe('all 2 bots completed an action within 290ms of the last heal (limit 2s)');
    expect(result.details).toMatchObject({ lastHealAt: 1_000, endedBeforeHeal: 1 });
  });

  it('fails when a bot recovers late, naming it and its op', async () => {
    const b = beforeTheFault();
    b.sessionEnd('c', { at: 500 });
    b.act('a', { kind: 'collect' }, { at: 1_100 });
    // Intended just after the heal, but stuck (e.g. reconnecting) until 4.1 s: 3 s to recover.
    const late = b.act('b', { kind: 'collect' }, { at: 1_100, latency: 3_000 });
    const result = await recovery.check(b.input({ limits: { reconnectWithinMs: 2_000 }, runEndAt: 5_000 }));
    expect(result.valid).toBe(false);
    const first = result.first as RecoveryOffence;
    expect(first).toMatchObject({ problem: 'late', process: 'b', recoveredAfterMs: 3_000 });
    expect(first.op).toBe(late.completion);
    expect(result.summary).toBe('1 bot did not recover within 2s of the last heal; first: b took 3s to complete an action after the heal (think time excluded)');
  });

  it('does not count think time: a bot that chose to act late after the heal has recovered', async () => {
    const b = beforeTheFault();
    b.sessionEnd('c', { at: 500 });
    b.act('a', { kind: 'collect' }, { at: 1_100 });
    b.act('b', { kind: 'collect' }, { at: 4_000, latency: 100 });
    const result = await recovery.check(b.input({ limits: { reconnectWithinMs: 2_000 }, runEndAt: 5_000 }));
    expect(result.valid).toBe(true);
  });

  it('fails when a bot never completes an action after the heal, and on a give-up', async () => {
    const b = beforeTheFault();
    b.act('a', { kind: 'collect' }, { at: 1_100 });
    b.act('b', { kind: 'collect' }, { at: 1_200 });
    b.act('c', { kind: 'collect' }, { at: 1_150, outcome: 'info' });
    b.event({ process: 'c', player: 'c', f: 'gave-up', time: 3_000 });
    const result = await recovery.check(b.input({ limits: { reconnectWithinMs: 2_000 }, runEndAt: 6_000 }));
    expect(result.valid).toBe(false);
    expect(result.offendingCount).toBe(1); // one bot, one offence: giving up, not also "not recovered"
    expect((result.worst as RecoveryOffence).problem).toBe('gave-up');
    const problems = (result.details!.examples as RecoveryOffence[]).map((o) => `${o.problem}:${o.process}`).sort();
    expect(problems).toEqual(['gave-up:c']);
  });

  it('excuses a bot still connected and thinking at the end with no action due since the heal, but not one that tried and failed', async () => {
    const play = (cThinking: boolean, cTried: boolean) => {
      const b = beforeTheFault();
      b.act('a', { kind: 'collect' }, { at: 1_100 });
      b.act('b', { kind: 'collect' }, { at: 1_200 });
      if (cTried) b.act('c', { kind: 'collect' }, { at: 4_000, outcome: 'info' });
      b.event({ process: 'c', player: 'c', f: 'session-end', time: 6_000, value: { reason: 'stopped', ...(cThinking ? { thinkingUntil: 9_000 } : {}) } });
      return recovery.check(b.input({ limits: { reconnectWithinMs: 2_000 }, runEndAt: 6_000 }));
    };
    const thinking = await play(true, false);
    expect(thinking.valid).toBe(true);
    expect(thinking.details).toMatchObject({ thinkingThroughEnd: 1, botsExpected: 2 });
    expect((await play(false, false)).valid).toBe(false);
    expect((await play(true, true)).valid).toBe(false);
  });

  it('is unknown when the run ended before the deadline with a bot not yet recovered', async () => {
    const b = beforeTheFault();
    b.act('a', { kind: 'collect' }, { at: 1_100 });
    b.act('b', { kind: 'collect' }, { at: 1_200 });
    const result = await recovery.check(b.input({ limits: { reconnectWithinMs: 10_000 }, runEndAt: 3_000 }));
    expect(result.valid).toBe('unknown');
    expect(result.summary).toContain('1 bot not yet recovered');
  });
});
