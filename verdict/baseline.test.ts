import type { LatencyStats, RunStats } from '../core/summary';
import { compareToBaseline, DEFAULT_BASELINE_TOLERANCE, type BaselineRun } from './baseline';
import { decideVerdict } from './verdict';
import type { SloResult } from './types';

const latency = (p50: number, p99: number, count = 100): LatencyStats => ({ count, p50, p95: p99, p99, max: p99, mean: p50 });

function run(id: string, phases: { baseline?: LatencyStats; fault?: LatencyStats; recovery?: LatencyStats }, extra: { fail?: number; slos?: SloResult[] } = {}): BaselineRun {
  const stats = {
    bots: 10,
    actions: { invoked: 1000, ok: 1000 - (extra.fail ?? 0), fail: extra.fail ?? 0, info: 0 },
    actionsPerSecond: 50,
    latency: {},
    latencyByPhase: Object.fromEntries(Object.entries(phases).map(([phase, stats]) => [phase, { all: stats }])),
    reconnects: 0,
    desyncs: 0,
    droppedArrivals: 0, gaveUp: 0,
    loadGenerator: { cpuPeakRatio: 0.2, eventLoopLagP99Ms: 2, saturated: false },
  } as RunStats;
  return { runId: id, scenario: 'smoke', stats, slos: extra.slos ?? [] };
}
const ttr = (observed: number): SloResult => ({ metric: 'time_to_recover', phase: 'run', limit: '<8s', observed, unit: 'ms', ok: true, samples: 26 });
const failed = (results: SloResult[]) => results.filter((r) => r.ok === false).map((r) => `${r.metric}[${r.phase}]`);

describe('compareToBaseline', () => {
  const before = run('r-before', { baseline: latency(4, 12), fault: latency(300, 4000), recovery: latency(5, 40) }, { fail: 2, slos: [ttr(5000)] });

  it('passes the same numbers and noise within the tolerance, and names the baseline run', () => {
    const now = run('r-now', { baseline: latency(4.5, 14), fault: latency(320, 4800), recovery: latency(6, 44) }, { fail: 3, slos: [ttr(5800)] });
    const results = compareToBaseline(now, before);
    expect(failed(results)).toEqual([]);
    expect(results.map((r) => `${r.metric}[${r.phase}]`)).toEqual([
      'baseline:action_rtt.p50[baseline]',
      'baseline:action_rtt.p99[baseline]',
      'baseline:action_rtt.p50[fault]',
      'baseline:action_rtt.p99[fault]',
      'baseline:action_rtt.p50[recovery]',
      'baseline:action_rtt.p99[recovery]',
      'baseline:error_ratio[run]',
      'baseline:time_to_recover[run]',
    ]);
    expect(results[1]).toMatchObject({ limit: '<= 17ms (baseline 12ms +5ms)', observed: 14, note: 'compared with baseline run r-before' });
  });

  it('fails a regression beyond both the ratio and the floor, and the verdict with it', () => {
    const now = run('r-now', { baseline: latency(4, 30), fault: latency(300, 4000), recovery: latency(5, 40) }, { fail: 40, slos: [ttr(9000)] });
    const results = compareToBaseline(now, before);
    expect(failed(results)).toEqual(['baseline:action_rtt.p99[baseline]', 'baseline:error_ratio[run]', 'baseline:time_to_recover[run]']);
    const decision = decideVerdict({ checks: [], slos: results, errors: [] });
    expect(decision).toMatchObject({ verdict: 'fail', exitCode: 1 });
    expect(decision.reasons[0]).toBe('SLO baseline:action_rtt.p99[baseline] <= 17ms (baseline 12ms +5ms) failed: observed 30ms');
  });

  it('labels the limit by what set it: the ratio on big numbers, the floor on small ones', () => {
    const big = run('r-big', { fault: latency(300, 4000) });
    expect(compareToBaseline(run('r', { fault: latency(300, 4100) }), big)[1]).toMatchObject({ limit: '<= 5000ms (baseline 4000ms +25%)', ok: true });
  });

  it('counts move by at least one and a plain value of 0 has no scale, so neither fails on noise', () => {
    const count = (observed: number): SloResult => ({ metric: 'gave_up', phase: 'run', limit: 'count<10', observed, unit: 'count', ok: true, samples: 20 });
    const value = (observed: number): SloResult => ({ metric: 'prometheus:db_retries', phase: 'run', limit: 'max<50', observed, unit: 'value', ok: true, samples: 20 });
    const zero = run('r-zero', {}, { slos: [count(0), value(0)] });
    expect(compareToBaseline(run('r', {}, { slos: [count(1), value(3)] }), zero).map((r) => [r.metric, r.ok])).toEqual([
      ['baseline:error_ratio', true],
      ['baseline:gave_up', true],
    ]);
    expect(failed(compareToBaseline(run('r', {}, { slos: [count(2), value(3)] }), zero))).toEqual(['baseline:gave_up[run]']);
  });

  it('ignores tiny absolute changes (1 ms → 3 ms is +200 % but under the 5 ms floor)', () => {
    const tiny = run('r-tiny', { baseline: latency(1, 1) });
    expect(failed(compareToBaseline(run('r', { baseline: latency(3, 3) }), tiny))).toEqual([]);
    expect(failed(compareToBaseline(run('r', { baseline: latency(3, 7) }), tiny))).toEqual(['baseline:action_rtt.p99[baseline]']);
  });

  it('skips phases with too few actions in either run, and orients SLOs by their operator', () => {
    const sparse = run('r-sparse', { baseline: latency(4, 100, 5) });
    expect(compareToBaseline(sparse, before).filter((r) => r.metric.startsWith('baseline:action_rtt'))).toEqual([]);
    const throughput = (observed: number): SloResult => ({ metric: 'prometheus:acked_per_s', phase: 'run', limit: 'min>100', observed, unit: 'value', ok: true, samples: 20 });
    const high = run('r-high', {}, { slos: [throughput(400)] });
    expect(failed(compareToBaseline(run('r', {}, { slos: [throughput(350)] }), high))).toEqual([]);
    expect(failed(compareToBaseline(run('r', {}, { slos: [throughput(250)] }), high))).toEqual(['baseline:prometheus:acked_per_s[run]']);
    expect(DEFAULT_BASELINE_TOLERANCE.maxRegression).toBe(0.25);
  });
});
