/**
 * One violation, every layer: for each offending operation of a failed check, what the bot did
 * around it, what the backend and PostgreSQL logged in its time window, which faults were on, and
 * the run's Grafana dashboard over that window.
 */
import { runDashboardUid } from '../../reports/grafana-reporter';
import { isNemesisOp, type HistoryEntry } from '../history';
import type { FaultRecord, RunSummary } from '../summary';
import type { LogFile, TimedLine } from './log-lines';
import { HistoryIndex, locateOffences, type LocatedOffence } from './offending-ops';
import type { ContextOp, EvidenceLogLine, Explanation, FaultInWindow, LogEvidence, UnlocatedOffence } from './types';

export const DEFAULT_GRAFANA_URL = 'http://127.0.0.1:3000';

export interface ExplainOptions {
  /** Log lines and faults this long before and after the operation (default 5 s). */
  windowMs?: number;
  /** The bot's entries shown on each side of the operation (default 5). */
  opsAround?: number;
  /** At most this many log lines per layer (default 30): the closest to the operation. */
  maxLines?: number;
  /** Grafana's base URL (default $LAGSTORM_GRAFANA_URL, else http://127.0.0.1:3000). */
  grafanaUrl?: string;
  /** Only these checks (default every failed one). */
  checks?: string[];
  /** Only the offending operation with this history index. */
  op?: number;
  /** The offence text is cut to this length (default 400). */
  maxOffenceLength?: number;
}

export type RunRecord = Pick<RunSummary, 'runId' | 'checks' | 'faults' | 'startedAt' | 'finishedAt' | 'durationMs'> & Partial<Pick<RunSummary, 'timelineStartedAt'>>;

export interface ExplainInput {
  summary: RunRecord;
  history: ReadonlyArray<HistoryEntry>;
  logs: ReadonlyArray<LogFile>;
}

export interface ExplainResult {
  explanations: Explanation[];
  /** Offences that name no operation and no player: shown, but there is nothing to correlate. */
  unlocated: UnlocatedOffence[];
}

export function grafanaUrlFromEnv(): string {
  return process.env.LAGSTORM_GRAFANA_URL?.trim() || DEFAULT_GRAFANA_URL;
}

/** Epoch ms of the history's time 0. */
export function timelineZero(summary: RunRecord): number {
  return Date.parse(summary.timelineStartedAt ?? summary.startedAt);
}

export function grafanaLink(baseUrl: string, runId: string, fromEpochMs: number, toEpochMs: number): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}/d/${runDashboardUid(runId)}?orgId=1&from=${Math.floor(fromEpochMs)}&to=${Math.ceil(toEpochMs)}`;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function contextOps(history: HistoryIndex, entry: HistoryEntry, around: number): ContextOp[] {
  const positions = history.positionsOf('process', entry.process);
  const at = positions.findIndex((position) => history.history[position] === entry);
  const from = Math.max(0, at - around);
  return positions.slice(from, at + around + 1).map((position) => {
    const e = history.history[position] as HistoryEntry & { seq?: number; version?: number; error?: string; value?: unknown };
    return {
      index: e.index,
      type: e.type,
      f: e.f,
      ...(e.seq !== undefined ? { seq: e.seq } : {}),
      time: e.time,
      ...(e.value !== undefined ? { value: e.value } : {}),
      ...(e.version !== undefined ? { version: e.version } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      offending: e === entry,
    };
  });
}

/** Tokens that may be player ids in a log line (JSON quotes, spaces and punctuation split them). */
function tokens(text: string): string[] {
  return text.match(/[\w.:@-]+/g) ?? [];
}

function logEvidence(
  logs: ReadonlyArray<LogFile>,
  role: LogFile['role'],
  window: { from: number; to: number },
  zero: number,
  focus: { time: number; player?: string; players: ReadonlySet<string> },
  maxLines: number,
): LogEvidence {
  const files = logs.filter((log) => log.role === role);
  const picked: EvidenceLogLine[] = [];
  // Whether a backend line is the player's own, or names no player (a crash, a failed commit); lines naming only other players are left out.
  const decide = (text: string): { keep: boolean; mine: boolean } => {
    if (role !== 'backend' || focus.player === undefined) return { keep: true, mine: false };
    const named = tokens(text).filter((token) => focus.players.has(token));
    const mine = named.includes(focus.player);
    return { mine, keep: mine || named.length === 0 };
  };
  for (const log of files) {
    // A line without a time of its own (a stack trace) goes with the timed line above it.
    let above: TimedLine | undefined;
    let aboveDecision: { keep: boolean; mine: boolean } | undefined;
    for (const line of log.lines as TimedLine[]) {
      if (line.epochMs === undefined) continue;
      if (!line.approx) {
        above = line;
        aboveDecision = undefined;
      }
      const at = line.epochMs - zero;
      if (at < window.from || at > window.to) continue;
      const decision = line.approx ? (aboveDecision ??= above ? decide(above.text) : { keep: true, mine: false }) : (aboveDecision = decide(line.text));
      if (!decision.keep) continue;
      picked.push({ file: log.file, line: line.line, at, approx: line.approx, player: decision.mine, text: line.text });
    }
  }
  let kept = picked;
  if (picked.length > maxLines) {
    // Keep the player's lines first, then the closest in time to the operation.
    kept = [...picked].sort((a, b) => Number(b.player) - Number(a.player) || Math.abs(a.at - focus.time) - Math.abs(b.at - focus.time)).slice(0, maxLines);
    kept.sort((a, b) => a.at - b.at || a.file.localeCompare(b.file) || a.line - b.line);
  }
  return { files: files.map((log) => log.file), lines: kept, omitted: picked.length - kept.length };
}

/** Faults from summary.faults, plus any the history shows that the summary lacks (an interrupted run). */
function faultRecords(summary: RunRecord, history: ReadonlyArray<HistoryEntry>): FaultRecord[] {
  const records = [...summary.faults];
  const known = new Set(records.map((fault) => fault.id));
  const started = new Map<string, FaultRecord>();
  for (const entry of history) {
    if (!isNemesisOp(entry) || known.has(entry.value.id)) continue;
    if (entry.f === 'fault-start') started.set(entry.value.id, { id: entry.value.id, fault: entry.value.fault, params: entry.value.params, startedAt: entry.time, healed: false });
    else {
      const fault = started.get(entry.value.id);
      if (fault) fault.stoppedAt = entry.time;
    }
  }
  return [...records, ...started.values()];
}

function faultsIn(faults: ReadonlyArray<FaultRecord>, window: { from: number; to: number }, time: number): FaultInWindow[] {
  const shown = (fault: FaultRecord, extra: Partial<FaultInWindow> = {}): FaultInWindow => ({
    id: fault.id,
    fault: fault.fault,
    startedAt: fault.startedAt,
    ...(fault.stoppedAt !== undefined ? { stoppedAt: fault.stoppedAt } : {}),
    activeAtOp: fault.startedAt <= time && (fault.stoppedAt ?? Infinity) >= time,
    ...extra,
    ...(fault.params && Object.keys(fault.params).length ? { params: fault.params } : {}),
    ...(fault.observations ? { observations: fault.observations } : {}),
  });
  const overlapping = faults.filter((fault) => fault.startedAt <= window.to && (fault.stoppedAt ?? Infinity) >= window.from);
  if (overlapping.length > 0) return overlapping.map((fault) => shown(fault));
  // Nothing in the window: the last fault that ended before it is the likely cause of a violation seen after recovery.
  const before = faults.filter((fault) => fault.stoppedAt !== undefined && fault.stoppedAt < window.from).sort((a, b) => b.stoppedAt! - a.stoppedAt!)[0];
  return before ? [shown(before, { beforeWindow: true })] : [];
}

/** A history entry nested in an offence is shown as its index: the bot's operations list shows it in full. */
function shortenEntries(key: string, value: unknown): unknown {
  const entry = value as { index?: unknown; process?: unknown; type?: unknown } | null;
  if (key !== '' && entry && typeof entry === 'object' && typeof entry.index === 'number' && typeof entry.process === 'string' && typeof entry.type === 'string') return `history #${entry.index}`;
  return value;
}

function offenceText(offence: unknown, max: number): string {
  let text: string;
  try {
    text = typeof offence === 'string' ? offence : (JSON.stringify(offence, shortenEntries) ?? String(offence));
  } catch {
    text = String(offence);
  }
  return cut(text, max);
}

export function explainRun(input: ExplainInput, options: ExplainOptions = {}): ExplainResult {
  const windowMs = options.windowMs ?? 5_000;
  const around = options.opsAround ?? 5;
  const maxLines = options.maxLines ?? 30;
  const maxOffence = options.maxOffenceLength ?? 400;
  const grafanaUrl = options.grafanaUrl ?? grafanaUrlFromEnv();
  const zero = timelineZero(input.summary);
  const history = new HistoryIndex(input.history);
  const faults = faultRecords(input.summary, input.history);
  const checks = input.summary.checks.filter((check) => !options.checks || options.checks.includes(check.name));

  const located = locateOffences(checks, history);
  // One explanation per (check, operation): several offences of a check may point at the same op.
  const byOp = new Map<string, LocatedOffence[]>();
  const unlocated: UnlocatedOffence[] = [];
  for (const item of located) {
    if (!item.entry) {
      if (options.op === undefined) unlocated.push({ check: item.check, roles: item.roles, offence: offenceText(item.offence, maxOffence) });
      continue;
    }
    if (options.op !== undefined && item.entry.index !== options.op) continue;
    const key = `${item.check}\u0000${item.entry.index}`;
    byOp.set(key, [...(byOp.get(key) ?? []), item]);
  }

  const explanations = [...byOp.values()].map((items): Explanation => {
    const { entry, check, anchor } = items[0];
    const time = entry!.time;
    const player = 'player' in entry! && typeof entry.player === 'string' ? entry.player : undefined;
    // Not clamped at 0: the stack starts (and logs) before the bots' time 0.
    const window = { from: time - windowMs, to: time + windowMs };
    const focus = { time, player, players: history.players };
    return {
      check,
      index: entry!.index,
      roles: [...new Set(items.flatMap((item) => item.roles))],
      anchor: anchor!,
      offence: items.map((item) => offenceText(item.offence, maxOffence)).join('\n'),
      process: entry!.process,
      ...(player !== undefined ? { player } : {}),
      time,
      window,
      ops: contextOps(history, entry!, around),
      backend: logEvidence(input.logs, 'backend', window, zero, focus, maxLines),
      postgres: logEvidence(input.logs, 'postgres', window, zero, focus, maxLines),
      faults: faultsIn(faults, window, time),
      grafana: grafanaLink(grafanaUrl, input.summary.runId, zero + window.from, zero + window.to),
    };
  });
  return { explanations, unlocated };
}
