import { createRng } from '../../core/rng';
import { LatencyBook } from './latency';

test('percentiles of a known exponential distribution match the closed form', () => {
  const book = new LatencyBook();
  const rng = createRng(11);
  const mean = 20; // ms
  for (let i = 0; i < 200_000; i++) book.record('collect', -mean * Math.log(1 - rng.next()));
  const stats = book.stats('collect');
  expect(stats.count).toBe(200_000);
  // Exponential quantile: -mean * ln(1 - q).
  expect(stats.p50).toBeCloseTo(mean * Math.LN2, 0);
  expect(Math.abs(stats.p99 - mean * Math.log(100)) / (mean * Math.log(100))).toBeLessThan(0.03);
  expect(Math.abs(stats.mean - mean) / mean).toBeLessThan(0.02);
});

test('uniform integers: exact to the histogram resolution, per kind and all', () => {
  const book = new LatencyBook();
  for (let ms = 1; ms <= 1000; ms++) book.record(ms % 2 ? 'buy' : 'collect', ms);
  const all = book.stats();
  expect(all.count).toBe(1000);
  expect(all.p50).toBeGreaterThanOrEqual(500);
  expect(all.p50).toBeLessThanOrEqual(501);
  expect(all.p99).toBeGreaterThanOrEqual(990);
  expect(all.p99).toBeLessThanOrEqual(991);
  expect(all.max).toBeGreaterThanOrEqual(1000);
  expect(all.max).toBeLessThanOrEqual(1001);
  expect(book.stats('buy').count).toBe(500);
  expect(Object.keys(book.allStats()).sort()).toEqual(['all', 'buy', 'collect']);
  expect(book.stats('upgrade').count).toBe(0);
});
