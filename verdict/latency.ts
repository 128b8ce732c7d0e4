/**
 * Latency and counts from the history: HDR histograms (values in µs, reported in ms) per action
 * kind and per phase. Latency = completion.time − invoke.intendedAt, so a send that was held back
 * still counts its wait (no coordinated omission).
 */
import { build, type Histogram } from 'hdr-histogram-js';
import type { HistoryEntry } from '../core/history';
import type { LatencyStats, RunStats } from '../core/summary';
import type { Phase } from './types';
import { PHASES } from './types';
import { pairOps } from './ops';
import type { PhaseTimeline } from './phases';

/** One hour in µs: anything slower is clamped (and shows up as max = the exact value anyway). */
const HIGHEST_TRACKABLE_US = 3_600_000_000;

/** An HDR histogram in µs, plus the exact count, sum, min and max in ms. */
export class LatencyRecorder {
  private readonly histogram: Histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_TRACKABLE_US, numberOfSignificantValueDigits: 3, autoResize: false });
  count = 0;
  sumMs = 0;
  minMs = Infinity;
  maxMs = -Infinity;

  record(ms: number): void {
    // Clock skew between invoke and completion cannot make a latency negative.
    const value = ms > 0 ? ms : 0;
    this.histogram.recordValue(Math.min(Math.round(value * 1000), HIGHEST_TRACKABLE_US));
    this.count++;
    this.sumMs += value;
    if (value < this.minMs) this.minMs = value;
    if (value > this.maxMs) this.maxMs = value;
  }

  /** The p-th percentile in ms (HDR: within 0.1 % of the true value). */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    if (p >= 100) return this.maxMs;
    return Math.min(this.histogram.getValueAtPercentile(p) / 1000, this.maxMs);
  }

  get meanMs(): number {
    return this.count ? this.sumMs / this.count : NaN;
  }

  stats(): LatencyStats {
    const round = (n: number) => Math.round(n * 1000) / 1000;
    if (this.count === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
    return { count: this.count, p50: round(this.percentile(50)), p95: round(this.percentile(95)), p99: round(this.percentile(99)), max: round(this.maxMs), mean: round(this.meanMs) };
  }
}

export interface OpCounts {
  invoked: number;
  ok: number;
  fail: number;
  info: number;
}

/** Latency keys: each action kind, 'login', 'read', and 'all' (every action kind, not login/read). */
export type LatencyTable = Map<string, LatencyRecorder>;

export interface HistoryAnalysis {
  latency: LatencyTable;
  latencyByPhase: Record<Phase, LatencyTable>;
  /** Action ops only (not login/read); an invoke that never completed counts as info. */
  actions: OpCounts;
  actionsByPhase: Record<Phase, OpCounts>;
  logins: OpCounts;
  bots: number;
  reconnects: number;
  desyncs: number;
  gaveUp: number;
  /** ms since run start of the first and last entries. */
  firstAt: number;
  lastAt: number;
}

const emptyCounts = (): OpCounts => ({ invoked: 0, ok: 0, fail: 0, info: 0 });

function recorder(table: LatencyTable, key: string): LatencyRecorder {
  let found = table.get(key);
  if (!found) table.set(key, (found = new LatencyRecorder()));
  return found;
}

/** One pass over the history (plus the invoke/completion pairing); phases by the invoke's intendedAt. */
export function analyzeHistory(history: ReadonlyArray<HistoryEntry>, timeline: Pick<PhaseTimeline, 'phaseOf'>): HistoryAnalysis {
  const analysis: HistoryAnalysis = {
    latency: new Map(),
    latencyByPhase: { baseline: new Map(), fault: new Map(), recovery: new Map() },
    actions: emptyCounts(),
    actionsByPhase: { baseline: emptyCounts(), fault: emptyCounts(), recovery: emptyCounts() },
    logins: emptyCounts(),
    bots: 0,
    reconnects: 0,
    desyncs: 0,
    gaveUp: 0,
    firstAt: history.length ? history[0].time : 0,
    lastAt: 0,
  };
  const processes = new Set<string>();
  for (const entry of history) {
    if (entry.time < analysis.firstAt) analysis.firstAt = entry.time;
    if (entry.time > analysis.lastAt) analysis.lastAt = entry.time;
    if (entry.process === 'nemesis') continue;
    processes.add(entry.process);
    if (entry.type === 'event') {
      if (entry.f === 'reconnected') analysis.reconnects++;
      else if (entry.f === 'desync') analysis.desyncs++;
      else if (entry.f === 'gave-up') analysis.gaveUp++;
    } else if (entry.type === 'invoke') {
      if (entry.seq !== undefined) {
        analysis.actions.invoked++;
        analysis.actionsByPhase[timeline.phaseOf(entry.intendedAt)].invoked++;
      } else if (entry.f === 'login') analysis.logins.invoked++;
    }
  }
  analysis.bots = processes.size;

  const { pairs, open } = pairOps(history);
  for (const { invoke, completion } of pairs) {
    const phase = timeline.phaseOf(invoke.intendedAt);
    const isAction = invoke.seq !== undefined;
    const counts = isAction ? analysis.actions : invoke.f === 'login' ? analysis.logins : undefined;
    if (counts) counts[completion.type as 'ok' | 'fail' | 'info']++;
    if (isAction) analysis.actionsByPhase[phase][completion.type as 'ok' | 'fail' | 'info']++;
    if (completion.type !== 'ok') continue;
    const ms = completion.time - invoke.intendedAt;
    recorder(analysis.latency, invoke.f).record(ms);
    recorder(analysis.latencyByPhase[phase], invoke.f).record(ms);
    if (isAction) {
      recorder(analysis.latency, 'all').record(ms);
      recorder(analysis.latencyByPhase[phase], 'all').record(ms);
    }
  }
  for (const invoke of open) {
    if (invoke.seq !== undefined) {
      analysis.actions.info++;
      analysis.actionsByPhase[timeline.phaseOf(invoke.intendedAt)].info++;
    } else if (invoke.f === 'login') analysis.logins.info++;
  }
  return analysis;
}

export type HistoryStats = Pick<RunStats, 'bots' | 'actions' | 'actionsPerSecond' | 'latency' | 'latencyByPhase' | 'reconnects' | 'desyncs' | 'gaveUp'>;

function tableStats(table: LatencyTable): Record<string, LatencyStats> {
  const out: Record<string, LatencyStats> = {};
  // Action kinds first, 'all' last, as the summary's readers expect.
  const keys = [...table.keys()].filter((k) => k !== 'all').sort();
  for (const key of keys) out[key] = table.get(key)!.stats();
  if (table.has('all')) out.all = table.get('all')!.stats();
  return out;
}

/**
 * The history's share of RunStats (the runner adds loadGenerator and proxyBaselineMs).
 * `durationMs` defaults to the span of the history.
 */
export function historyStats(analysis: HistoryAnalysis, durationMs = analysis.lastAt - analysis.firstAt): HistoryStats {
  const latencyByPhase: RunStats['latencyByPhase'] = {};
  for (const phase of PHASES) {
    if (analysis.latencyByPhase[phase].size > 0) latencyByPhase[phase] = tableStats(analysis.latencyByPhase[phase]);
  }
  return {
    bots: analysis.bots,
    actions: { ...analysis.actions },
    actionsPerSecond: durationMs > 0 ? Math.round((analysis.actions.ok / (durationMs / 1000)) * 100) / 100 : 0,
    latency: tableStats(analysis.latency),
    latencyByPhase,
    reconnects: analysis.reconnects,
    desyncs: analysis.desyncs,
    gaveUp: analysis.gaveUp,
  };
}
