/**
 * The evidence for one offending operation of a failed check, from every layer of the run: the
 * bot's own operations around it, the backend's and PostgreSQL's log lines in its time window, the
 * faults active then, and a Grafana link to that range. Written to summary.json (`explanations`),
 * rendered by the reports and printed by `lagstorm explain`.
 */

/** How the operation was found from the checker's offence. */
export type Anchor =
  /** The offence names a history entry (its `op`, `event` or itself carries the history `index`). */
  | 'operation'
  /** The offence names a player and a seq: that action's completion (or invoke). */
  | 'player-seq'
  /** The offence names only a player: its last operation in the history. */
  | 'player-last-op';

export interface ContextOp {
  index: number;
  /** invoke / ok / fail / info, or 'event' for a bot event (desync, reconnected...). */
  type: string;
  f: string;
  seq?: number;
  /** ms since the run's start. */
  time: number;
  value?: unknown;
  version?: number;
  error?: string;
  /** This is the offending operation itself. */
  offending: boolean;
}

export interface EvidenceLogLine {
  /** The log file, relative to the run folder (e.g. logs/backend.log). */
  file: string;
  /** 1-based line number in that file. */
  line: number;
  /** ms since the run's start. */
  at: number;
  /** The line carries no timestamp of its own: `at` is the last timestamped line's above it. */
  approx: boolean;
  /** The line names the offending operation's player. */
  player: boolean;
  text: string;
}

export interface LogEvidence {
  files: string[];
  lines: EvidenceLogLine[];
  /** Lines in the window left out to keep the evidence short (the furthest from the operation). */
  omitted: number;
}

export interface FaultInWindow {
  id: string;
  fault: string;
  /** ms since the run's start. */
  startedAt: number;
  /** Absent: never stopped. */
  stoppedAt?: number;
  /** The fault was on when the offending operation happened. */
  activeAtOp: boolean;
  /** No fault overlaps the window: this is the last one that ended before it (a violation seen after recovery often comes from it). */
  beforeWindow?: boolean;
  params?: Record<string, unknown>;
  observations?: Record<string, number | string>;
}

export interface Explanation {
  check: string;
  /** The history index of the offending operation. */
  index: number;
  /** first / worst / example: which of the check's offences point at it. */
  roles: string[];
  anchor: Anchor;
  /** The checker's offence, as it recorded it (cut short). */
  offence: string;
  process: string;
  player?: string;
  /** ms since the run's start. */
  time: number;
  /** The time window the log lines and faults are taken from (ms since the run's start). */
  window: { from: number; to: number };
  /** The bot's entries around the operation (same process), in history order. */
  ops: ContextOp[];
  backend: LogEvidence;
  postgres: LogEvidence;
  faults: FaultInWindow[];
  /** The run's Grafana dashboard over the window. */
  grafana: string;
}

/** An offence of a failed check that names no operation and no player (e.g. a total that changed). */
export interface UnlocatedOffence {
  check: string;
  roles: string[];
  offence: string;
}
