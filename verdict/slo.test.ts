import { evaluateSlos } from './slo';
import { faultWindows } from './phases';
import { HistoryBuilder } from './test-history';
import type { Scenario } from '../core/scenario/schema';
import type { SloResult } from './types';

/** Fast in the baseline, slow and lossy during the fault (100..1000), fast again after. */
function run(): HistoryBuilder {
  const b = new HistoryBuilder().player('a').player('b');
  for (let i = 0; i < 10; i++) b.act(i % 2 ? 'a' : 'b', { kind: 'collect' }, { at: i * 5, latency: 10 + i });
  b.fault(100, 1_000);
  b.act('a', { kind: 'collect' }, { at: 200, latency: 300 });
  b.act('b', { kind: 'collect' }, { at: 250, latency: 400, outcome: 'info' });
  b.login('b', { at: 700, latency: 250 });
  b.act('a', { kind: 'collect' }, { at: 1_100, latency: 20 });
  b.act('b', { kind: 'collect' }, { at: 2_500, latency: 30 });
  return b;
}

function evaluate(slos: Scenario['slos'], b = run(), runEndAt?: number): SloResult[] {
  const { history } = b.build();
  return evaluateSlos(slos, history, faultWindows(history), { runEndAt });
}

describe('evaluateSlos', () => {
  it('evaluates action_rtt per phase: holds in the baseline, fails during the fault', () => {
    const [baseline, fault, recovery] = evaluate({ action_rtt: { baseline: 'p(99)<50ms', fault: 'p(99)<50ms', recovery: 'max<=30ms' } });
    expect(baseline).toMatchObject({ metric: 'action_rtt', phase: 'baseline', limit: 'p(99)<50ms', unit: 'ms', ok: true, samples: 10 });
    expect(baseline.observed).toBeCloseTo(19, 1);
    expect(fault).toMatchObject({ phase: 'fault', ok: false, observed: 300, samples: 1 });
    expect(recovery).toMatchObject({ phase: 'recovery', ok: true, observed: 30, samples: 2 });
  });

  it('applies a string SLO to the whole run', () => {
    const [result] = evaluate({ action_rtt: 'avg<100ms' });
    expect(result.phase).toBe('run');
    expect(result.samples).toBe(13);
    expect(result.ok).toBe(true);
  });

  it('is unknown for a phase without samples', () => {
    const b = new HistoryBuilder().player('a');
    b.act('a', { kind: 'collect' });
    const [result] = evaluate({ action_rtt: { fault: 'p(95)<1s' } }, b);
    expect(result).toMatchObject({ ok: 'unknown', observed: null, samples: 0 });
  });

  it('evaluates error_rate as (fail + info) / completed actions', () => {
    const [baseline, fault] = evaluate({ error_rate: { baseline: 'rate<1%', fault: 'rate<10%' } });
    expect(baseline).toMatchObject({ ok: true, observed: 0, unit: 'ratio', samples: 10 });
    expect(fault).toMatchObject({ ok: false, observed: 0.5, samples: 2 });
  });

  it('evaluates session_resume from login latency', () => {
    const [result] = evaluate({ session_resume: { fault: 'p(99)<200ms' } });
    expect(result).toMatchObject({ ok: false, samples: 1 });
    expect(result.observed).toBeCloseTo(250, 0);
  });

  it('evaluates time_to_recover from the last heal to the slowest bot, not counting think time', () => {
    // a acts at 1_100 and is done at 1_120: 20 ms; b chose to act only at 2_500 and took 30 ms.
    expect(evaluate({ time_to_recover: '<25ms' })[0]).toMatchObject({ phase: 'run', ok: false, observed: 30, samples: 2 });
    // b wants to act right at the heal but waits (reconnecting) until 2_530: 1.53 s to recover.
    const stuck = new HistoryBuilder().player('a').player('b');
    stuck.act('a', { kind: 'collect' }, { at: 0 });
    stuck.act('b', { kind: 'collect' }, { at: 0 });
    stuck.fault(100, 1_000);
    stuck.act('a', { kind: 'collect' }, { at: 1_100, latency: 20 });
    stuck.act('b', { kind: 'collect' }, { at: 1_000, latency: 1_530 });
    expect(evaluate({ time_to_recover: '<2s' }, stuck)[0]).toMatchObject({ phase: 'run', ok: true, observed: 1_530, samples: 2 });
    expect(evaluate({ time_to_recover: '<1s' }, stuck)[0]).toMatchObject({ ok: false, observed: 1_530 });
  });

  it('decides time_to_recover with a bot that never recovered only when the bound decides it', () => {
    const b = new HistoryBuilder().player('a').player('b');
    b.act('a', { kind: 'collect' }, { at: 0 });
    b.act('b', { kind: 'collect' }, { at: 0 });
    b.fault(100, 1_000);
    b.act('a', { kind: 'collect' }, { at: 1_050 });
    const failing = evaluate({ time_to_recover: '<2s' }, b, 4_000)[0];
    expect(failing).toMatchObject({ ok: false, observed: 3_000 });
    expect(failing.note).toContain('1 of 2 bots never completed an action after the heal');
    expect(evaluate({ time_to_recover: '<10s' }, b, 4_000)[0].ok).toBe('unknown');
  });

  it('is unknown for time_to_recover without faults, and for a stat that does not fit the metric', () => {
    const b = new HistoryBuilder().player('a');
    b.act('a', { kind: 'collect' });
    expect(evaluate({ time_to_recover: '<10s' }, b)[0]).toMatchObject({ ok: 'unknown', note: 'no faults were injected: nothing to recover from' });
    const [misfit] = evaluate({ action_rtt: 'rate<1%' });
    expect(misfit.ok).toBe('unknown');
    expect(misfit.note).toContain('not rate');
  });
});
