/**
 * SLOs over Prometheus series sampled during the run (e.g. the backend's database retry rate,
 * its CPU, queue depth): each sample falls in the phase of its time, then the stat is taken.
 */
import type { Scenario } from '../core/scenario/schema';
import type { PhaseTimeline } from './phases';
import { parseSloExpression, sloHolds, statOfValues } from './slo-expression';
import type { Phase, SloResult } from './types';

export type PrometheusSlos = NonNullable<Scenario['slos']['prometheus']>;

export interface SeriesSample {
  /** ms since run start */
  at: number;
  value: number;
}

/** The samples of one query (all its series together), or why there are none. */
export type QuerySamples = { samples: SeriesSample[] } | { error: string };

const PHASE_KEYS: Array<Phase | 'run'> = ['baseline', 'fault', 'recovery', 'run'];

export function evaluateSeriesSlos(slos: PrometheusSlos, samplesByName: Record<string, QuerySamples>, phases: Pick<PhaseTimeline, 'phaseOf'>): SloResult[] {
  const results: SloResult[] = [];
  for (const [name, spec] of Object.entries(slos)) {
    const data = samplesByName[name] ?? { error: 'not queried' };
    for (const phase of PHASE_KEYS) {
      const limit = spec[phase];
      if (limit === undefined) continue;
      const base = { metric: `prometheus:${name}`, phase, limit, unit: 'value' as const };
      const expression = parseSloExpression(limit);
      if (expression.stat.kind === 'rate') {
        results.push({ ...base, observed: null, ok: 'unknown', samples: 0, note: `${name}: a Prometheus SLO takes max, avg, min, p(N) or count, not rate; compute the rate in the query` });
        continue;
      }
      if ('error' in data) {
        results.push({ ...base, observed: null, ok: 'unknown', samples: 0, note: `query failed: ${data.error}` });
        continue;
      }
      const values = data.samples.filter((sample) => phase === 'run' || phases.phaseOf(sample.at) === phase).map((sample) => sample.value);
      if (values.length === 0) {
        results.push({ ...base, observed: null, ok: 'unknown', samples: 0, note: 'the query returned no samples in this phase' });
        continue;
      }
      const observed = statOfValues(expression, values);
      results.push({ ...base, observed: Math.round(observed * 1e6) / 1e6, ok: sloHolds(expression, observed), samples: values.length, note: spec.query });
    }
  }
  return results;
}
