import { faultWindows, phaseAt } from './phases';
import { HistoryBuilder } from './test-history';

describe('phases', () => {
  it('is all baseline without faults', () => {
    const timeline = faultWindows(new HistoryBuilder().player('a').build().history);
    expect(timeline.windows).toEqual([]);
    expect(timeline.lastHealAt).toBeUndefined();
    expect(timeline.phaseOf(1e9)).toBe('baseline');
  });

  it('merges overlapping windows; between and after windows is recovery', () => {
    const b = new HistoryBuilder();
    b.fault(100, 300);
    b.fault(250, 400); // overlaps the first
    b.fault(600, 700);
    const timeline = faultWindows(b.build().history);
    expect(timeline.windows.map(({ start, end }) => [start, end])).toEqual([
      [100, 400],
      [600, 700],
    ]);
    expect(timeline.windows[0].ids).toEqual(['f1', 'f2']);
    expect(timeline.firstFaultAt).toBe(100);
    expect(timeline.lastHealAt).toBe(700);
    expect([99, 100, 399, 400, 599, 600, 699, 700, 5000].map(timeline.phaseOf)).toEqual([
      'baseline', 'fault', 'fault', 'recovery', 'recovery', 'fault', 'fault', 'recovery', 'recovery',
    ]);
  });

  it('reports a fault that never stopped and has no heal time', () => {
    const b = new HistoryBuilder();
    b.fault(100, 200);
    const history = b.build().history.filter((e) => !(e.process === 'nemesis' && e.f === 'fault-stop'));
    const timeline = faultWindows(history);
    expect(timeline.unhealed).toEqual(['f1']);
    expect(timeline.lastHealAt).toBeUndefined();
    expect(phaseAt(timeline.windows, 1e12)).toBe('fault');
  });
});
