/**
 * Latency book: one HDR histogram per action kind (plus 'all'), in microseconds with 3 significant
 * digits, reported in ms as core/summary.ts's LatencyStats.
 */
import * as hdr from 'hdr-histogram-js';
import type { LatencyStats } from '../../core/summary';

const ALL = 'all';

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true, useWebAssembly: false });
}

export class LatencyBook {
  private readonly histograms = new Map<string, hdr.Histogram>();

  /** Records one latency of `kind` in ms (negative values, from clock skew, count as 0). */
  record(kind: string, ms: number): void {
    const micros = Math.max(1, Math.round(ms * 1000));
    this.histogram(kind).recordValue(micros);
    this.histogram(ALL).recordValue(micros);
  }

  kinds(): string[] {
    return [...this.histograms.keys()];
  }

  stats(kind = ALL): LatencyStats {
    const histogram = this.histograms.get(kind);
    if (!histogram || histogram.totalCount === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
    const ms = (micros: number): number => Math.round(micros) / 1000;
    return {
      count: histogram.totalCount,
      p50: ms(histogram.getValueAtPercentile(50)),
      p95: ms(histogram.getValueAtPercentile(95)),
      p99: ms(histogram.getValueAtPercentile(99)),
      max: ms(histogram.maxValue),
      mean: ms(histogram.mean),
    };
  }

  /** Every kind and 'all'. */
  allStats(): Record<string, LatencyStats> {
    const out: Record<string, LatencyStats> = {};
    for (const kind of this.kinds()) out[kind] = this.stats(kind);
    return out;
  }

  private histogram(kind: string): hdr.Histogram {
    let histogram = this.histograms.get(kind);
    if (!histogram) {
      histogram = newHistogram();
      this.histograms.set(kind, histogram);
    }
    return histogram;
  }
}
