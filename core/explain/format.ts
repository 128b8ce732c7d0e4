/** The evidence of one offending operation as plain text: `lagstorm explain` prints it, summary.md embeds it. */
import type { ContextOp, EvidenceLogLine, Explanation, FaultInWindow, LogEvidence, UnlocatedOffence } from './types';

/** Run time as seconds with ms ("12.345s"). */
export function runTime(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

function offset(ms: number): string {
  return `${ms >= 0 ? '+' : '−'}${(Math.abs(ms) / 1000).toFixed(3)}s`;
}

function compact(value: unknown, max = 160): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function formatOp(op: ContextOp): string {
  const parts = [`#${op.index}`.padStart(7), runTime(op.time).padStart(9), op.type.padEnd(6), op.f];
  if (op.seq !== undefined) parts.push(`seq ${op.seq}`);
  if (op.version !== undefined) parts.push(`v${op.version}`);
  if (op.error !== undefined) parts.push(`error: ${compact(op.error, 120)}`);
  if (op.value !== undefined) parts.push(compact(op.value));
  return `${op.offending ? '▶' : ' '} ${parts.join(' ')}`;
}

export function formatFault(fault: FaultInWindow): string {
  const stop = fault.stoppedAt === undefined ? 'never stopped' : runTime(fault.stoppedAt);
  const observations = fault.observations ? ` — ${Object.entries(fault.observations).map(([key, value]) => `${key}=${value}`).join(', ')}` : '';
  const where = fault.activeAtOp ? 'ACTIVE at the operation' : fault.beforeWindow ? 'last fault before the window' : 'in the window';
  return `${where}: ${fault.fault} (${fault.id}) ${runTime(fault.startedAt)} → ${stop}${fault.params ? ` ${compact(fault.params, 120)}` : ''}${observations}`;
}

export function formatLogLine(line: EvidenceLogLine, opTime: number): string {
  return `${offset(line.at - opTime)}${line.approx ? '≈' : ' '} ${line.file}:${line.line}  ${compact(line.text, 400)}`;
}

function logSection(title: string, evidence: LogEvidence, opTime: number, what: string): string[] {
  if (evidence.files.length === 0) return [`${title}: no log file in the run's logs/ folder`];
  const header = `${title} (${evidence.files.join(', ')}; ${what}${evidence.omitted ? `; ${evidence.omitted} more lines left out` : ''}):`;
  if (evidence.lines.length === 0) return [header, '  (no lines in the window)'];
  return [header, ...evidence.lines.map((line) => `  ${formatLogLine(line, opTime)}`)];
}

export function formatExplanation(e: Explanation): string {
  const who = e.player !== undefined && e.player !== e.process ? `${e.process} (player ${e.player})` : e.process;
  const anchor = e.anchor === 'operation' ? '' : e.anchor === 'player-seq' ? ' (the action the offence names by player and seq)' : " (the offence names only a player: its last operation)";
  const out = [
    `── ${e.check}: history #${e.index} (${e.roles.join(', ')}) — ${who} at ${runTime(e.time)}${anchor}`,
    ...e.offence.split('\n').map((offence) => `offence: ${offence}`),
    `bot operations around it (${e.process}):`,
    ...e.ops.map((op) => `  ${formatOp(op)}`),
    `faults in the window ${runTime(e.window.from)} – ${runTime(e.window.to)}:`,
    ...(e.faults.length ? e.faults.map((fault) => `  ${formatFault(fault)}`) : ['  none']),
    ...logSection('backend log', e.backend, e.time, e.player !== undefined ? `lines naming ${e.player} or no player, times relative to the operation` : 'times relative to the operation'),
    ...logSection('postgres log', e.postgres, e.time, 'times relative to the operation'),
    `grafana: ${e.grafana}`,
  ];
  return out.join('\n');
}

export function formatUnlocated(item: UnlocatedOffence): string {
  return `── ${item.check} (${item.roles.join(', ')}): names no operation and no player, nothing to correlate\noffence: ${item.offence}`;
}
