/** Shared wording and number formatting for every reporter, so they all say the same thing. */
import { efficacyWords, type AgentSummary, type FaultRecord, type RunSummary, type Verdict } from '../core/summary';
import type { CheckResult, CheckValidity, SloResult, Validity } from '../verdict/types';

export const VERDICT_WORD: Record<Verdict, string> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR' };
export const VERDICT_ICON: Record<Verdict, string> = { pass: '✅', fail: '❌', error: '⚠️' };

export type ValidityWord = 'valid' | 'invalid' | 'unknown' | 'n/a';

/** 'n/a': the checker does not apply to the game (its summary says why); it is never 'unknown'. */
export function validityWord(valid: CheckValidity): ValidityWord {
  return valid === true ? 'valid' : valid === false ? 'invalid' : valid === 'n/a' ? 'n/a' : 'unknown';
}

export function sloWord(ok: Validity): 'ok' | 'broken' | 'unknown' {
  return ok === true ? 'ok' : ok === false ? 'broken' : 'unknown';
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (Math.abs(ms) >= 120_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (Math.abs(ms) >= 10) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function formatSloObserved(slo: SloResult): string {
  if (slo.observed === null) return 'no data';
  switch (slo.unit) {
    case 'ms':
      return formatMs(slo.observed);
    case 'ratio':
      return `${(slo.observed * 100).toFixed(2)} %`;
    case 'count':
      return String(slo.observed);
    case 'value':
      return String(Math.round(slo.observed * 1000) / 1000);
  }
}

/** "p(99)<50ms on action-latency [fault]": how a person names one SLO. */
export function sloLabel(slo: SloResult): string {
  return `${slo.metric} ${slo.limit} [${slo.phase}]`;
}

/** Checks that failed or could not decide (not those that pass or do not apply). */
export function failingChecks(summary: RunSummary): CheckResult[] {
  return summary.checks.filter((check) => check.valid !== true && check.valid !== 'n/a');
}

/** Checks that do not apply to the game, each with its reason in `summary`. */
export function notApplicableChecks(summary: RunSummary): CheckResult[] {
  return summary.checks.filter((check) => check.valid === 'n/a');
}

export function failingSlos(summary: RunSummary): SloResult[] {
  return summary.slos.filter((slo) => slo.ok !== true);
}

/** Compact one-line JSON of an offending operation, cut to maxLength. */
export function describeOperation(op: unknown, maxLength = 400): string {
  if (op === undefined) return '';
  let text: string;
  try {
    text = typeof op === 'string' ? op : JSON.stringify(op) ?? String(op);
  } catch {
    text = String(op);
  }
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

/** The offending operations of a check, as lines ("first: …", "worst: …"). */
export function offendingLines(check: CheckResult): string[] {
  const lines: string[] = [];
  if (check.offendingCount !== undefined) lines.push(`offending operations: ${check.offendingCount}`);
  if (check.first !== undefined) lines.push(`first: ${describeOperation(check.first)}`);
  if (check.worst !== undefined && describeOperation(check.worst) !== describeOperation(check.first)) lines.push(`worst: ${describeOperation(check.worst)}`);
  if (check.error) lines.push(`error: ${check.error}`);
  return lines;
}

/** A fault's effect as every report words it: "bit: …", "did not bite: …", or '' when not judged (its inject failed). */
export function faultEffect(fault: FaultRecord): string {
  return fault.efficacy ? efficacyWords(fault.efficacy) : '';
}

/** A fault that did not bite, when the run only warns about it (scenario `faults.ifNoEffect: 'warn'`). */
export function onlyWarnedAbout(summary: RunSummary, fault: FaultRecord): boolean {
  return (summary.warnings ?? []).some((warning) => warning.startsWith(`fault ${fault.id} (`));
}

/** The observations as "key=value; …", after the fault's error if any. */
export function faultNotes(fault: FaultRecord): string {
  return [fault.error ? `error: ${fault.error}` : '', ...Object.entries(fault.observations ?? {}).map(([key, value]) => `${key}=${value}`)].filter(Boolean).join('; ');
}

/** What a report prints for a field the summary lacks (an agent lost before its clock was measured). */
export const ABSENT = '—';

/** One agent of a `--agents` run as every report words it; absent fields read "—", never "undefined". */
export interface AgentCells {
  index: string;
  segment: string;
  where: string;
  bots: string;
  batches: string;
  entries: string;
  /** "1.30 ms ± 2.00 ms": the estimated offset and its bound. */
  clock: string;
  /** The exact offset when the agent shares this machine's kernel (local engine, swarm here), else "—". */
  sameMachine: string;
  /** "done (exited with code 0)", "lost (killed by SIGKILL)". */
  state: string;
}

function present(value: string | number | undefined | null, format: (value: number) => string = String): string {
  if (value === undefined || value === null || value === '') return ABSENT;
  return typeof value === 'number' ? format(value) : value;
}

export function agentCells(agent: AgentSummary): AgentCells {
  const offset = present(agent.clockOffsetMs, formatMs);
  return {
    index: present(agent.index),
    segment: present(agent.segment),
    where: present(agent.where),
    bots: present(agent.bots),
    batches: present(agent.batches),
    entries: present(agent.entries),
    clock: offset === ABSENT ? ABSENT : `${offset} ± ${present(agent.clockErrorMs, formatMs)}`,
    sameMachine: present(agent.sameMachineOffsetMs, formatMs),
    state: agent.ended ? `${present(agent.state)} (${agent.ended})` : present(agent.state),
  };
}

/** One agent as one line (JUnit, logs): "agent 0: segment 0:1/2, pid 4242, 3 bots, …". */
export function agentLine(agent: AgentSummary): string {
  const cells = agentCells(agent);
  const sameMachine = cells.sameMachine === ABSENT ? '' : ` (same machine: ${cells.sameMachine})`;
  return `agent ${cells.index}: segment ${cells.segment}, ${cells.where}, ${cells.bots} bots, ${cells.entries} history entries merged in ${cells.batches} batches, clock offset ${cells.clock}${sameMachine}, ${cells.state}`;
}

export interface AbsoluteFaultWindow {
  id: string;
  fault: string;
  startMs: number;
  /** The fault's stop, or the run's end when it never stopped. */
  endMs: number;
  stopped: boolean;
  healed: boolean;
  error?: string;
}

/** Fault windows in epoch ms (FaultRecord times are ms since run start). */
export function absoluteFaultWindows(summary: RunSummary): AbsoluteFaultWindow[] {
  const runStart = Date.parse(summary.timelineStartedAt ?? summary.startedAt);
  const runEnd = Number.isFinite(Date.parse(summary.finishedAt)) ? Date.parse(summary.finishedAt) : runStart + summary.durationMs;
  return summary.faults.map((fault: FaultRecord) => ({
    id: fault.id,
    fault: fault.fault,
    startMs: runStart + fault.startedAt,
    endMs: fault.stoppedAt === undefined ? runEnd : runStart + fault.stoppedAt,
    stopped: fault.stoppedAt !== undefined,
    healed: fault.healed,
    error: fault.error,
  }));
}

/** Value formatting by Grafana unit id, for chart axes. */
export function formatByUnit(value: number, unit: string): string {
  const abs = Math.abs(value);
  const trim = (n: number, digits: number): string => n.toFixed(digits).replace(/\.?0+$/, '');
  switch (unit) {
    case 's':
      if (abs === 0) return '0';
      if (abs < 1e-3) return `${trim(value * 1e6, 0)} µs`;
      if (abs < 1) return `${trim(value * 1000, 1)} ms`;
      return `${trim(value, 2)} s`;
    case 'bytes':
    case 'Bps': {
      const suffix = unit === 'Bps' ? '/s' : '';
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let scaled = value;
      let index = 0;
      while (Math.abs(scaled) >= 1024 && index < units.length - 1) {
        scaled /= 1024;
        index++;
      }
      return `${trim(scaled, 1)} ${units[index]}${suffix}`;
    }
    case 'percentunit':
      return `${trim(value * 100, 1)} %`;
    case 'ops':
      return `${compact(value)}/s`;
    default:
      return compact(value);
  }
}

function compact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(1)}G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  if (abs === 0 || abs >= 10) return value.toFixed(0);
  return value.toFixed(abs >= 1 ? 1 : 2);
}
