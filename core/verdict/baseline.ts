/**
 * Regression gate against a baseline run (the last release's run of the same scenario): action
 * latency p50/p99 per phase, the error ratio and every SLO observation the two runs share. A value
 * regresses when it is worse by more than `maxRegression` AND by more than an absolute floor, so
 * noise on tiny numbers (1 ms → 1.4 ms) never fails a build. Results are SLO rows, so every
 * reporter shows them and the verdict counts them.
 */
import type { RunSummary } from '../summary';
import { parseSloExpression } from './slo-expression';
import { PHASES, type SloResult } from './types';

export type BaselineRun = Pick<RunSummary, 'runId' | 'scenario' | 'stats' | 'slos'>;

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

function compare(
  row: { metric: string; phase: SloResult['phase']; unit: SloResult['unit']; samples: number },
  candidate: number,
  baseline: number,
  lowerIsBetter: boolean,
  tolerance: BaselineTolerance,
  baselineRunId: string,
): SloResult {
  const floor = row.unit === 'ms' ? tolerance.floorMs : row.unit === 'ratio' ? tolerance.floorRatio : 0;
  const percent = `${Math.round(tolerance.maxRegression * 100)}%`;
  const format = (value: number) => (row.unit === 'ms' ? `${round(value)}ms` : row.unit === 'ratio' ? `${round(value * 100)}%` : `${round(value)}`);
  // The limit is whichever is looser: the relative tolerance or the absolute floor.
  const limit = lowerIsBetter ? Math.max(baseline * (1 + tolerance.maxRegression), baseline + floor) : Math.min(baseline * (1 - tolerance.maxRegression), baseline - floor);
  const ok = lowerIsBetter ? candidate <= limit : candidate >= limit;
  return {
    ...row,
    limit: `${lowerIsBetter ? '<=' : '>='} ${format(limit)} (baseline ${format(baseline)} ${lowerIsBetter ? '+' : '-'}${percent})`,
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
