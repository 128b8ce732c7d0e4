/** Three-valued verdicts over a history (Jepsen): valid, invalid, or unknown when undecidable. */
import type { HistoryEntry } from '../core/history';

export type Validity = true | false | 'unknown';

export interface CheckResult {
  name: string;
  valid: Validity;
  /** One line a person reads first. */
  summary: string;
  /** The first and the worst offending operations (or rows), when invalid. */
  first?: unknown;
  worst?: unknown;
  offendingCount?: number;
  /** Error text when the checker threw (valid = 'unknown'). */
  error?: string;
  details?: Record<string, unknown>;
}

/** Final persisted state, read through the backend's admin API in one database snapshot. */
export type { FinalSnapshot } from '../games/reference/rules/snapshot';
import type { FinalSnapshot } from '../games/reference/rules/snapshot';

export interface CheckInput {
  history: ReadonlyArray<HistoryEntry>;
  final: FinalSnapshot | undefined;
  /** Scenario limits the checkers need (e.g. recovery.reconnectWithin in ms). */
  limits: { reconnectWithinMs: number };
  /** ms since run start when the last fault healed (undefined: no faults). */
  lastHealAt?: number;
  runEndAt: number;
}

export interface Checker {
  readonly name: CheckName;
  readonly description: string;
  check(input: CheckInput): CheckResult | Promise<CheckResult>;
}

export const CHECK_NAMES = ['acked-durable', 'exactly-once', 'conservation', 'no-desync', 'monotonic', 'recovery'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];
/** Checks about progress (did players get back in time), judged like SLOs; the rest are safety checks. */
export const LIVENESS_CHECKS: readonly CheckName[] = ['recovery'];
export const isLivenessCheck = (name: string): boolean => (LIVENESS_CHECKS as readonly string[]).includes(name);

export type Phase = 'baseline' | 'fault' | 'recovery';
export const PHASES: Phase[] = ['baseline', 'fault', 'recovery'];

export interface SloResult {
  metric: string;
  phase: Phase | 'run';
  /** The scenario's expression, e.g. 'p(99)<50ms'. */
  limit: string;
  observed: number | null;
  unit: 'ms' | 'ratio' | 'count' | 'value';
  ok: Validity;
  samples: number;
  /** Why the result is 'unknown' or how `observed` was derived (e.g. a lower bound). */
  note?: string;
}
