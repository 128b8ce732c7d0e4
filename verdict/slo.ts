/**
 * SLOs per phase. Metrics: action_rtt (ok actions' latency), session_resume (ok logins' latency),
 * error_rate ((fail + info) / completed actions), time_to_recover (ms from the last heal until
 * every bot that was playing has completed an ok action). A string applies to the whole run
 * (phase 'run'); an object gives a limit per phase. A phase without samples is 'unknown'.
 */
import type { HistoryEntry } from '../core/history';
import type { Scenario } from '../core/scenario/schema';
import type { Phase, SloResult, Validity } from './types';
import { parseSloExpression, sloHolds, statOfValues, type SloExpression } from './slo-expression';
import { analyzeHistory, type HistoryAnalysis, type LatencyRecorder, type OpCounts } from './latency';
import type { PhaseTimeline } from './phases';
import { recoveryTimes } from './recovery-times';

export type SloMetric = 'action_rtt' | 'session_resume' | 'error_rate' | 'time_to_recover';
const METRICS: SloMetric[] = ['action_rtt', 'session_resume', 'error_rate', 'time_to_recover'];
const PHASE_KEYS: Array<Phase | 'run'> = ['baseline', 'fault', 'recovery', 'run'];

export interface SloContext {
  /** Reuse an analysis already made for the run's stats (saves a pass over the history). */
  analysis?: HistoryAnalysis;
  /** ms since run start when the run ended; defaults to the last entry's time. */
  runEndAt?: number;
}

/** Why `expression` makes no sense for `metric`, or undefined when it does. */
export function sloStatProblem(metric: SloMetric, expression: SloExpression): string | undefined {
  const kind = expression.stat.kind;
  if (metric === 'error_rate') {
    return kind === 'rate' || kind === 'value' || kind === 'count' ? undefined : `error_rate takes 'rate<1%' (or '<0.01', or 'count<10'), not ${kind}`;
  }
  if (kind === 'rate') return `${metric} is a time: use p(N), avg, max, min or count, not rate`;
  if (metric === 'time_to_recover' && kind === 'count') return "time_to_recover is a time: write e.g. '<10s'";
  return undefined;
}

export function evaluateSlos(slos: Scenario['slos'], history: ReadonlyArray<HistoryEntry>, phases: PhaseTimeline, context: SloContext = {}): SloResult[] {
  const results: SloResult[] = [];
  let analysis = context.analysis;
  const getAnalysis = () => (analysis ??= analyzeHistory(history, phases));
  for (const metric of METRICS) {
    const declared = slos[metric];
    if (declared === undefined) continue;
    const limits: Array<[Phase | 'run', string]> =
      typeof declared === 'string' ? [['run', declared]] : PHASE_KEYS.filter((key) => declared[key] !== undefined).map((key) => [key, declared[key]!] as [Phase | 'run', string]);
    for (const [phase, limit] of limits) {
      let expression: SloExpression;
      try {
        expression = parseSloExpression(limit);
      } catch (error) {
        results.push({ metric, phase, limit, observed: null, unit: 'ms', ok: 'unknown', samples: 0, note: (error as Error).message });
        continue;
      }
      const problem = sloStatProblem(metric, expression);
      const unit = metric === 'error_rate' ? (expression.stat.kind === 'count' ? 'count' : 'ratio') : expression.stat.kind === 'count' ? 'count' : 'ms';
      if (problem) {
        results.push({ metric, phase, limit, observed: null, unit, ok: 'unknown', samples: 0, note: problem });
        continue;
      }
      let result: Pick<SloResult, 'observed' | 'ok' | 'samples' | 'note'>;
      if (metric === 'time_to_recover') result = timeToRecover(expression, history, phases, context.runEndAt ?? getAnalysis().lastAt);
      else if (metric === 'error_rate') result = errorRate(expression, phase === 'run' ? getAnalysis().actions : getAnalysis().actionsByPhase[phase]);
      else {
        const key = metric === 'action_rtt' ? 'all' : 'login';
        const table = phase === 'run' ? getAnalysis().latency : getAnalysis().latencyByPhase[phase];
        result = latencySlo(expression, table.get(key));
      }
      results.push({ metric, phase, limit, unit, ...result });
    }
  }
  return results;
}

type Evaluated = Pick<SloResult, 'observed' | 'ok' | 'samples' | 'note'>;

const noSamples = (note: string): Evaluated => ({ observed: null, ok: 'unknown', samples: 0, note });

function decide(expression: SloExpression, observed: number, samples: number): Evaluated {
  return { observed: Math.round(observed * 1e6) / 1e6, ok: sloHolds(expression, observed), samples };
}

function latencySlo(expression: SloExpression, recorder: LatencyRecorder | undefined): Evaluated {
  if (!recorder || recorder.count === 0) return noSamples('no samples in this phase');
  const stat = expression.stat;
  switch (stat.kind) {
    case 'percentile':
      return decide(expression, recorder.percentile(stat.p), recorder.count);
    case 'avg':
      return decide(expression, recorder.meanMs, recorder.count);
    case 'min':
      return decide(expression, recorder.minMs, recorder.count);
    case 'count':
      return decide(expression, recorder.count, recorder.count);
    default:
      // 'max' and a bare '<50ms': every sample must be under the limit.
      return decide(expression, recorder.maxMs, recorder.count);
  }
}

function errorRate(expression: SloExpression, counts: OpCounts): Evaluated {
  const completed = counts.ok + counts.fail + counts.info;
  if (completed === 0) return noSamples('no actions completed in this phase');
  const errors = counts.fail + counts.info;
  return decide(expression, expression.stat.kind === 'count' ? errors : errors / completed, completed);
}

function timeToRecover(expression: SloExpression, history: ReadonlyArray<HistoryEntry>, phases: PhaseTimeline, runEndAt: number): Evaluated {
  if (phases.lastHealAt === undefined) {
    return noSamples(phases.unhealed.length ? `fault ${phases.unhealed.join(', ')} never stopped` : 'no faults were injected: nothing to recover from');
  }
  const { expected } = recoveryTimes(history, phases.lastHealAt);
  if (expected.length === 0) return noSamples('no bot was playing before the last heal');
  // A bot that never recovered took at least until the run's end: decide only if that bound and
  // "forever" give the same answer.
  const bound = Math.max(0, runEndAt - phases.lastHealAt);
  const never = expected.filter((bot) => bot.firstOkAt === undefined).length;
  const times = expected.filter((bot) => bot.recoveredAfterMs !== undefined).map((bot) => bot.recoveredAfterMs!);
  const low = statOfValues(expression, [...times, ...Array<number>(never).fill(bound)]);
  if (never === 0) return decide(expression, low, expected.length);
  const high = statOfValues(expression, [...times, ...Array<number>(never).fill(Infinity)]);
  const holdsLow = sloHolds(expression, low);
  const ok: Validity = holdsLow === sloHolds(expression, high) ? holdsLow : 'unknown';
  return { observed: low, ok, samples: expected.length, note: `${never} of ${expected.length} bots never completed an action after the heal; observed is a lower bound (the run ended ${bound}ms after the heal)` };
}
