/**
 * Three-valued verdicts over a history (Jepsen): valid, invalid, or unknown when undecidable; a
 * checker whose inputs the game does not provide is not applicable ('n/a'), which is never unknown.
 */
import type { HistoryEntry } from '../core/history';
import type { Effect, GameFeatures, QuantitySpec } from '../core/game';

/** What the effect-based checkers know of the game: its quantities, each action's declared effects, and readers of its final state. */
export interface EffectModel {
  quantities: Readonly<Record<string, QuantitySpec>>;
  /** The declared effects of an action op: from its ok result, or (result undefined) what it would change if it applied. */
  effectsOf(action: string, params: unknown, result: unknown): Effect[];
  /** player → quantity → final value. */
  finalQuantities?(final: unknown): Record<string, Record<string, number>>;
  appliedKeys?(final: unknown): Iterable<{ player: string; seq: number }>;
}

/** An SLO's or a merged verdict's value: Jepsen's true / false / unknown. */
export type Validity = true | false | 'unknown';
/** A checker's value: Jepsen's three, or 'n/a' when the game lacks what the checker reads (never run, never unknown). */
export type CheckValidity = Validity | 'n/a';

export interface CheckResult {
  name: string;
  valid: CheckValidity;
  /** One line a person reads first; for 'n/a', why the checker does not apply. */
  summary: string;
  /** The first and the worst offending operations (or rows), when invalid. */
  first?: unknown;
  worst?: unknown;
  offendingCount?: number;
  /** Error text when the checker threw (valid = 'unknown'). */
  error?: string;
  details?: Record<string, unknown>;
}

export interface CheckInput {
  history: ReadonlyArray<HistoryEntry>;
  /**
   * The game's final state, whatever its final-state reader returned; undefined when the game has
   * no reader or reading failed. A game's own checkers narrow it (e.g. with a type guard).
   */
  final?: unknown;
  /** The game's effect model, for the effect-based checkers (absent: they do not apply). */
  effects?: EffectModel;
  /** Scenario limits the checkers need (e.g. recovery.reconnectWithin in ms). */
  limits: { reconnectWithinMs: number };
  /** ms since run start when the last fault healed (undefined: no faults). */
  lastHealAt?: number;
  runEndAt: number;
}

export interface Checker {
  /** Lowercase kebab-case; scenarios name it in `checks`. */
  readonly name: string;
  readonly description: string;
  /**
   * undefined when the checker applies to a game with these features, else why not (e.g. "the game
   * has no shadow model"): runCheckers then reports 'n/a' with that reason and never runs `check`.
   * Absent: always applies.
   */
  appliesTo?(features: GameFeatures): string | undefined;
  check(input: CheckInput): CheckResult | Promise<CheckResult>;
}

/** Checks about progress (did players get back in time), judged like SLOs; the rest are safety checks. */
export const LIVENESS_CHECKS: readonly string[] = ['recovery'];
export const isLivenessCheck = (name: string): boolean => LIVENESS_CHECKS.includes(name);

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
