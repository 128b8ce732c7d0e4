/** The single record of a run (Chaos Toolkit's journal): summary.json and every reporter's input. */
import type { CheckResult, SloResult } from '../verdict/types';
import type { Explanation } from './explain/types';

export type Verdict = 'pass' | 'fail' | 'error';

export interface FaultRecord {
  id: string;
  fault: string;
  params: Record<string, unknown>;
  /** ms since run start */
  startedAt: number;
  stoppedAt?: number;
  healed: boolean;
  error?: string;
  observations?: Record<string, number | string>;
  /** Did it bite: its measured effect, judged after the run (absent when the inject failed). */
  efficacy?: FaultEfficacy;
}

/** A fault's measured effect: `bit` false is reported as "did not bite" (scenario `faults.ifNoEffect`). */
export interface FaultEfficacy {
  bit: boolean;
  /** What was measured, one line: "3 archive attempts failed", or why nothing was ("no WAL segment completed"). */
  effect: string;
  /** The measurement that proves this kind of fault bit (the fault's `proof`). */
  proof: string;
}

/** Faults that were injected and healed but had no measured effect. */
export function faultsWithoutEffect(faults: ReadonlyArray<FaultRecord>): FaultRecord[] {
  return faults.filter((fault) => fault.efficacy?.bit === false);
}

/** How a person reads a fault's efficacy: "bit: 3 archive attempts failed" or "did not bite: …". */
export function efficacyWords(efficacy: FaultEfficacy): string {
  return `${efficacy.bit ? 'bit' : 'did not bite'}: ${efficacy.effect}`;
}

export interface LatencyStats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface RunStats {
  bots: number;
  actions: { invoked: number; ok: number; fail: number; info: number };
  actionsPerSecond: number;
  /** ms, from the intended send time; keyed by action kind, then 'all'. */
  latency: Record<string, LatencyStats>;
  /** The same, split by phase. */
  latencyByPhase: Partial<Record<'baseline' | 'fault' | 'recovery', Record<string, LatencyStats>>>;
  reconnects: number;
  desyncs: number;
  gaveUp: number;
  /** Open-model arrivals dropped because `maxBots` were online. */
  droppedArrivals: number;
  loadGenerator: { cpuPeakRatio: number; eventLoopLagP99Ms: number; saturated: boolean };
  /** No-toxic Toxiproxy round trip measured at the start of the run (ms). */
  proxyBaselineMs?: number;
}

/** One bot agent of a run with `--agents` (agents/coordinator.ts). */
export interface AgentSummary {
  index: number;
  /** Its execution segment (`1/4:1/2`) of the even sequence. */
  segment: string;
  /** What the engine knows of it: `pid 1234`, a task, a pod. */
  where: string;
  bots: number;
  /** coordinator clock − agent clock (ms), and the bound the true offset lies within (± ms): half the best round trip. */
  clockOffsetMs?: number;
  clockErrorMs?: number;
  /** Agents on this machine only (same kernel boot id: a local process or a container here): the exact offset, from the shared monotonic clock (the estimate must lie within clockErrorMs of it). */
  sameMachineOffsetMs?: number;
  /** History batches and entries the coordinator merged from it. */
  batches: number;
  entries: number;
  /** Bytes of the accepted batches as they came over the wire (gzip of compact rows). */
  wireBytes?: number;
  state: 'starting' | 'connected' | 'ready' | 'playing' | 'done' | 'lost';
  pid?: number;
  /** Its own fleet's load-generator health (a saturated agent makes the run an error). */
  loadGenerator?: { cpuPeakRatio: number; eventLoopLagP99Ms: number; saturated: boolean };
  /** How its process ended, when the engine saw it end. */
  ended?: string;
}

export interface RunSummary {
  runId: string;
  scenario: string;
  /** The game plug-in the scenario ran ('reference', or the plug-in's own name). */
  game?: string;
  seed: number;
  verdict: Verdict;
  exitCode: 0 | 1 | 2 | 3;
  startedAt: string;
  /** Time 0 of the history and of every FaultRecord (the bots' start; the stack started before it). */
  timelineStartedAt?: string;
  finishedAt: string;
  durationMs: number;
  runDir: string;
  checks: CheckResult[];
  /** With `--agents N`: each agent, its segment and clock offset (time 0 was shifted by it). */
  agents?: AgentSummary[];
  slos: SloResult[];
  faults: FaultRecord[];
  stats: RunStats;
  /** Harness or infrastructure errors (verdict 'error'). */
  errors: string[];
  /** What did not change the verdict but a person should know (a fault that did not bite under `faults.ifNoEffect: 'warn'`). */
  warnings?: string[];
  /** Files the reporters wrote, relative to runDir. */
  artifacts: Record<string, string>;
  /** Each offending operation of a failed check with the evidence of every layer (what `lagstorm explain` prints). */
  explanations?: Explanation[];
}
