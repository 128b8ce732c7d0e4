/**
 * One small interface per fault, in the spirit of Toxiproxy's Toxic: inject returns a handle
 * whose heal() is idempotent and always safe to call. Contract: chaos/CREATING_FAULTS.md.
 */
import type { ZodType } from 'zod';
import type { Capability, SystemUnderTest } from '../stack/system-under-test';

/** What a fault gets: the system under test (only through the capabilities it declared) and a log. */
export interface FaultTarget {
  sut: SystemUnderTest;
  log: (line: string) => void;
}

export interface FaultHandle {
  /** Undo the fault completely; idempotent; never throws for "already healed". */
  heal(): Promise<void>;
  /** Measured facts about the fault (downtime ms, bytes retained, ...), merged into the run summary; `Fault.judge` reads them. */
  readonly observations?: Record<string, number | string>;
}

/** Whether a fault bit: `effect` says what was measured (or why nothing was), in one line. */
export interface Efficacy {
  bit: boolean;
  effect: string;
}

/**
 * What the bots saw while a fault was on (from the history, the fault's window plus a short
 * grace for timeouts that land just after): the generic evidence a fault may judge by when it
 * cannot measure its effect itself (a link's connections cut, say).
 */
export interface BotsWindow {
  /** Actions that completed in the window, by outcome. */
  actions: { ok: number; fail: number; info: number };
  /** Involuntary reconnects that started in the window: bots whose link dropped. */
  linksLost: number;
  /** Login / resume attempts in the window that failed or were cut off. */
  loginsFailed: number;
  /** Sessions that ended or reconnected (voluntarily too) in the window: connections that closed. */
  closes: number;
}

/** What a fault is judged on: its params, its handle's observations, and (in a run) what the bots saw. */
export interface FaultEvidence<P = Record<string, unknown>> {
  params: P;
  observations: Readonly<Record<string, number | string>>;
  /** Absent when no bots played (a nemesis run on its own). */
  bots?: BotsWindow;
}

export interface Fault<P = Record<string, unknown>> {
  /** Registry key used in scenarios, e.g. 'latency', 'packet-loss', 'backend-crash', 'checkpoint-storm'. */
  readonly type: string;
  readonly family: 'toxiproxy' | 'kernel' | 'process' | 'wal';
  readonly description: string;
  /** Strict params schema with defaults; scenario validation reports its errors with their path. */
  readonly params: ZodType<P>;
  /** Faults needing root (nft, loop mounts, cgroups) say so; the runner checks before starting. */
  readonly requiresRoot?: boolean;
  /**
   * The SUT capabilities this fault needs with these params (e.g. `service:backend:kill`,
   * `database:wal-dir`, `link:bots-backend`). A scenario asking a runtime for a fault it cannot do
   * is refused before anything starts (registry.ts `faultProblems`), and inject refuses too.
   */
  requires(params: P): Capability[];
  /** What the fault hits, for the history ('bots-backend', 'postgres', ...); defaults to the family. */
  targetOf?(params: P): string;
  /**
   * What the fault holds alone while active (a PostgreSQL setting, a process, the pg_wal volume).
   * Two faults sharing a lock must not overlap: the first heal would undo the second fault.
   */
  locks?(params: P): string[];
  inject(target: FaultTarget, params: P, signal: AbortSignal): Promise<FaultHandle>;
  /** The measured effect that proves this fault bit, one line (e.g. 'archive attempts failed (pg_stat_archiver.failed_count)'). */
  readonly proof: string;
  /**
   * Did it bite? Judged after heal from measurements only (never from the params alone): false is
   * reported as "did not bite", and by default makes the run an error (scenario `faults.ifNoEffect`).
   */
  judge(evidence: FaultEvidence<P>): Efficacy;
}
