/**
 * Regression gate against a baseline run (the last release's run of the same scenario): action
 * latency p50/p99 per phase, the error ratio and every SLO observation the two runs share. A value
 * regresses when it is worse by more than `maxRegression` AND by more than an absolute floor, so
 * noise on tiny numbers (1 ms → 1.4 ms) never fails a build. Results are SLO rows, so every
 * reporter shows them and the verdict counts them.
 */
import { z } from 'zod';
import type { RunSummary } from '../core/summary';
import { parseSloExpression } from './slo-expression';
import { PHASES, type SloResult } from './types';

export type BaselineRun = Pick<RunSummary, 'runId' | 'scenario' | 'stats' | 'slos'>;

const latencyStats = z.looseObject({ count: z.number(), p50: z.number(), p99: z.number() });
/** What of a summary.json the comparison reads: checked when the baseline is loaded, not mid-run. */
export const baselineRunSchema = z.looseObject({
  runId: z.string(),
  scenario: z.string(),
  verdict: z.literal('pass', { error: 'the baseline run did not pass; gate against a passing run' }),
  stats: z.looseObject({
    actions: z.looseObject({ invoked: z.number(), fail: z.number() }),
    latencyByPhase: z.record(z.string(), z.record(z.string(), latencyStats)),
  }),
  slos: z.array(z.looseObject({ metric: z.string(), phase: z.string(), limit: z.string(), observed: z.number().nullable(), unit: z.enum(['ms', 'ratio', 'count', 'value']), samples: z.number() })),
});

export interface BaselineTolerance {
  /** Allowed relative worsening, e.g. 0.25 = 25 %. */
  maxRegression: number;
  /** Worsening smaller than this many ms is noise, whatever the ratio. */
  floorMs: number;
  /** The same for ratios (error rates): 0.005 = half a percentage point. */
  floorRatio: number;
  /** Fewer actions than this in a phase (in either run): its percentiles are not compared. */
  minSamples: number;
}

export const DEFAULT_BASELINE_TOLERANCE: BaselineTolerance = { maxRegression: 0.25, floorMs: 5, floorRatio: 0.005, minSamples: 20 };

const round = (value: number) => Math.round(value * 1000) / 1000;

/** Changes smaller than this are noise, per unit: counts by one, plain values (PromQL) by nothing. */
const FLOORS: Record<SloResult['unit'], (tolerance: BaselineTolerance) => number> = {
  ms: (tolerance) => tolerance.floorMs,
  ratio: (tolerance) => tolerance.floorRatio,
  count: () => 1,
  value: () => 0,
};

function compare(
  row: { metric: string; phase: SloResult['phase']; unit: SloResult['unit']; samples: number },
  candidate: number,
  baseline: number,
  lowerIsBetter: boolean,
  tolerance: BaselineTolerance,
  baselineRunId: string,
): SloResult {
  const floor = FLOORS[row.unit](tolerance);
  const format = (value: number) => (row.unit === 'ms' ? `${round(value)}ms` : row.unit === 'ratio' ? `${round(value * 100)}%` : `${round(value)}`);
  // The limit is whichever is looser: the relative tolerance or the absolute floor.
  const relative = baseline * (lowerIsBetter ? 1 + tolerance.maxRegression : 1 - tolerance.maxRegression);
  const absolute = lowerIsBetter ? baseline + floor : baseline - floor;
  const floorWins = lowerIsBetter ? absolute > relative : absolute < relative;
  const limit = floorWins ? absolute : relative;
  const allowance = floorWins ? format(floor) : `${Math.round(tolerance.maxRegression * 100)}%`;
  const ok = lowerIsBetter ? candidate <= limit : candidate >= limit;
  return {
    ...row,
    limit: `${lowerIsBetter ? '<=' : '>='} ${format(limit)} (baseline ${format(baseline)} ${lowerIsBetter ? '+' : '-'}${allowance})`,
    observed: round(candidate),
    ok,
    note: `compared with baseline run ${baselineRunId}`,
  };
}

export function compareToBaseline(candidate: BaselineRun, baseline: BaselineRun, tolerance: BaselineTolerance = DEFAULT_BASELINE_TOLERANCE): SloResult[] {
  const results: SloResult[] = [];
  for (const phase of PHASES) {
    const now = candidate.stats.latencyByPhase[phase]?.all;
    const before = baseline.stats.latencyByPhase[phase]?.all;
    if (!now || !before || Math.min(now.count, before.count) < tolerance.minSamples) continue;
    for (const stat of ['p50', 'p99'] as const) {
      results.push(compare({ metric: `baseline:action_rtt.${stat}`, phase, unit: 'ms', samples: now.count }, now[stat], before[stat], true, tolerance, baseline.runId));
    }
  }
  const errorRatio = (run: BaselineRun) => (run.stats.actions.invoked ? run.stats.actions.fail / run.stats.actions.invoked : 0);
  if (candidate.stats.actions.invoked && baseline.stats.actions.invoked) {
    results.push(compare({ metric: 'baseline:error_ratio', phase: 'run', unit: 'ratio', samples: candidate.stats.actions.invoked }, errorRatio(candidate), errorRatio(baseline), true, tolerance, baseline.runId));
  }
  // Every other SLO both runs observed; its operator says which way is better. action_rtt is covered above.
  for (const before of baseline.slos) {
    if (before.metric === 'action_rtt' || before.observed === null) continue;
    const now = candidate.slos.find((slo) => slo.metric === before.metric && slo.phase === before.phase && slo.limit === before.limit);
    if (!now || now.observed === null) continue;
    if (before.unit === 'value' && before.observed === 0) continue; // no scale to judge "25 % worse than 0" by
    let lowerIsBetter: boolean;
    try {
      lowerIsBetter = parseSloExpression(before.limit).op.startsWith('<');
    } catch {
      continue; // not an expression we can orient
    }
    results.push(compare({ metric: `baseline:${before.metric}`, phase: before.phase, unit: before.unit, samples: now.samples }, now.observed, before.observed, lowerIsBetter, tolerance, baseline.runId));
  }
  return results;
}
