import { evaluateSeriesSlos, type SeriesSample } from './series-slo';
import { faultWindows } from './phases';
import { HistoryBuilder } from './test-history';

/** A retry rate of ~1/s, except thousands per second during the fault (1 s .. 3 s). */
const samples: SeriesSample[] = Array.from({ length: 50 }, (_, i) => ({ at: i * 100, value: i >= 10 && i < 30 ? 4000 + i : 1 }));

function phases() {
  const b = new HistoryBuilder().player('a');
  b.fault(1_000, 3_000);
  return faultWindows(b.build().history);
}

describe('evaluateSeriesSlos', () => {
  it('fails during the fault and holds outside it, naming the query', () => {
    const results = evaluateSeriesSlos({ db_retries: { query: 'sum(rate(game_db_retries_total[5s]))', baseline: 'max<10', fault: 'max<50', recovery: 'avg<5' } }, { db_retries: { samples } }, phases());
    expect(results.map((r) => [r.metric, r.phase, r.ok, r.observed, r.samples])).toEqual([
      ['prometheus:db_retries', 'baseline', true, 1, 10],
      ['prometheus:db_retries', 'fault', false, 4029, 20],
      ['prometheus:db_retries', 'recovery', true, 1, 20],
    ]);
    expect(results[1].note).toBe('sum(rate(game_db_retries_total[5s]))');
  });

  it('is unknown when the query failed or returned nothing, or with a rate stat', () => {
    const failed = evaluateSeriesSlos({ q: { query: 'up', run: 'max<1' } }, { q: { error: 'HTTP 400: parse error' } }, phases());
    expect(failed[0]).toMatchObject({ ok: 'unknown', observed: null, note: 'query failed: HTTP 400: parse error' });
    const empty = evaluateSeriesSlos({ q: { query: 'up', fault: 'max<1' } }, { q: { samples: [] } }, phases());
    expect(empty[0]).toMatchObject({ ok: 'unknown', samples: 0 });
    const rate = evaluateSeriesSlos({ q: { query: 'up', run: 'rate<1%' } }, { q: { samples } }, phases());
    expect(rate[0].ok).toBe('unknown');
  });

  it('takes percentiles and counts over the phase samples', () => {
    const [p50, count] = evaluateSeriesSlos({ a: { query: 'x', run: 'p(50)<2' }, b: { query: 'y', fault: 'count>=20' } }, { a: { samples }, b: { samples } }, phases());
    expect(p50).toMatchObject({ ok: true, observed: 1 });
    expect(count).toMatchObject({ ok: true, observed: 20 });
  });
});
