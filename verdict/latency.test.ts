import { analyzeHistory, historyStats, LatencyRecorder } from './latency';
import { faultWindows } from './phases';
import { HistoryBuilder } from './test-history';

function run(): HistoryBuilder {
  const b = new HistoryBuilder().player('a').player('b');
  b.login('a', { at: 0, latency: 8 });
  b.act('a', { kind: 'collect' }, { at: 10, latency: 10 });
  b.act('b', { kind: 'collect' }, { at: 20, latency: 20 });
  b.act('a', { kind: 'buy', item: 'potion' }, { at: 40, latency: 30 });
  b.fault(100, 200);
  // Sent 90 ms late during the fault: the latency counts from the intended time (no coordinated omission).
  b.act('a', { kind: 'collect' }, { at: 150, sendLag: 90, latency: 10 });
  b.act('b', { kind: 'collect' }, { at: 160, outcome: 'info', latency: 1000 });
  b.act('b', { kind: 'collect' }, { at: 1200, outcome: 'fail', latency: 2 });
  b.act('b', { kind: 'upgrade' }, { at: 1300, latency: 4 });
  return b;
}

describe('latency', () => {
  it('splits latency by kind and by the phase of the intended send time', () => {
    const { history } = run().build();
    const timeline = faultWindows(history);
    // An invoke that never completed counts as info.
    history.push({ index: history.length, type: 'invoke', process: 'a', player: 'a', f: 'collect', seq: 9, intendedAt: 1400, time: 1400 });
    const stats = historyStats(analyzeHistory(history, timeline), 2_000);
    expect(stats.actions).toEqual({ invoked: 8, ok: 5, fail: 1, info: 2 });
    expect(stats.bots).toBe(2);
    expect(stats.actionsPerSecond).toBe(2.5);
    expect(stats.latency.all).toMatchObject({ count: 5, max: 100, mean: (10 + 20 + 30 + 100 + 4) / 5 });
    expect(stats.latency.collect).toMatchObject({ count: 3, max: 100 });
    // HDR reports the highest value equivalent to the bucket (3 significant digits): 20 ms ± 0.1 %.
    expect(Math.abs(stats.latency.collect.p50 - 20)).toBeLessThanOrEqual(0.02);
    expect(stats.latency.login).toMatchObject({ count: 1, max: 8 });
    expect(Object.keys(stats.latency)).toEqual(['buy', 'collect', 'login', 'upgrade', 'all']);
    expect(stats.latencyByPhase.baseline?.all).toMatchObject({ count: 4, max: 100 });
    // intendedAt 60 is baseline although the send happened at 150, inside the fault: phase by intent.
    expect(stats.latencyByPhase.baseline?.collect).toMatchObject({ count: 3, max: 100 });
    expect(stats.latencyByPhase.recovery?.all).toMatchObject({ count: 1, max: 4 });
    expect(stats.latencyByPhase.fault).toBeUndefined();
  });

  it('keeps percentiles within HDR precision and exact extremes', () => {
    const recorder = new LatencyRecorder();
    for (let ms = 1; ms <= 1000; ms++) recorder.record(ms);
    recorder.record(-3); // clock skew: counted as 0
    expect(Math.abs(recorder.percentile(99) - 990) / 990).toBeLessThan(0.002);
    expect(recorder.percentile(100)).toBe(1000);
    expect(recorder.minMs).toBe(0);
    expect(recorder.stats()).toMatchObject({ count: 1001, max: 1000 });
    expect(new LatencyRecorder().stats()).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  });
});
