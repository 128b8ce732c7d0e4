/** Live progress in a terminal (one rewritten line), plain periodic lines elsewhere (CI logs). */
import path from 'node:path';
import type { RunSummary } from '../core/summary';
import type { FaultEvent, ProgressSample, ReportContext, Reporter, RunStartInfo } from './reporter';
import { VERDICT_WORD, failingChecks, failingSlos, faultEffect, formatMs, notApplicableChecks, formatSloObserved, offendingLines, onlyWarnedAbout, sloLabel, validityWord } from './format';

export interface ConsoleOutput {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface ConsoleReporterOptions {
  /** Default process.stdout. */
  output?: ConsoleOutput;
  /** Default output.isTTY. */
  tty?: boolean;
  /** Without a TTY, print at most one progress line per this much run time; default 10 s. */
  plainIntervalMs?: number;
}

export function formatProgress(sample: ProgressSample): string {
  const p99 = sample.p99Ms === null ? '—' : formatMs(sample.p99Ms);
  const faults = sample.activeFaults.length > 0 ? sample.activeFaults.join(',') : 'none';
  return `[${formatMs(sample.elapsedMs)}] bots ${sample.botsOnline} | ${sample.actionsPerSecond.toFixed(0)} actions/s | p99 ${p99} | errors ${sample.errors} | faults ${faults}`;
}

export class ConsoleReporter implements Reporter {
  readonly name = 'console';
  private readonly output: ConsoleOutput;
  private readonly tty: boolean;
  private readonly plainIntervalMs: number;
  private lastPlainAt = -Infinity;
  private liveLineShown = false;

  constructor(options: ConsoleReporterOptions = {}) {
    this.output = options.output ?? process.stdout;
    this.tty = options.tty ?? Boolean(this.output.isTTY);
    this.plainIntervalMs = options.plainIntervalMs ?? 10_000;
  }

  private line(text: string): void {
    this.clearLive();
    this.output.write(`${text}\n`);
  }

  private clearLive(): void {
    if (this.tty && this.liveLineShown) {
      this.output.write('\r\x1b[2K');
      this.liveLineShown = false;
    }
  }

  onRunStart(info: RunStartInfo): void {
    this.line(`lagstorm: run ${info.runId} — scenario ${info.scenario}, seed ${info.seed}, output ${info.runDir}`);
  }

  onProgress(sample: ProgressSample): void {
    if (this.tty) {
      this.output.write(`\r\x1b[2K${formatProgress(sample)}`);
      this.liveLineShown = true;
      return;
    }
    if (sample.elapsedMs - this.lastPlainAt < this.plainIntervalMs) return;
    this.lastPlainAt = sample.elapsedMs;
    this.line(formatProgress(sample));
  }

  onFault(event: FaultEvent): void {
    this.line(`[${formatMs(event.atMs)}] fault ${event.type === 'start' ? 'started' : 'stopped'}: ${event.fault} (${event.id})`);
  }

  onRunEnd(summary: RunSummary, context: ReportContext): void {
    this.line(`verdict: ${VERDICT_WORD[summary.verdict]} (exit ${summary.exitCode}) — ${summary.scenario}, seed ${summary.seed}, ${formatMs(summary.durationMs)}`);
    for (const check of failingChecks(summary)) {
      this.line(`  ✗ check ${check.name} ${validityWord(check.valid)}: ${check.summary}`);
      const offending = offendingLines(check)[0];
      if (offending) this.line(`      ${offending}`);
    }
    if (summary.explanations?.length) this.line(`      evidence of every layer (bot, backend, PostgreSQL, faults, Grafana): lagstorm explain ${context.runDir}`);
    for (const check of notApplicableChecks(summary)) this.line(`  – check ${check.name} n/a: ${check.summary}`);
    for (const slo of failingSlos(summary)) {
      this.line(`  ✗ SLO ${sloLabel(slo)}: observed ${formatSloObserved(slo)}`);
    }
    for (const error of summary.errors) this.line(`  ! ${error}`);
    for (const fault of summary.faults.filter((f) => f.efficacy !== undefined)) {
      const mark = fault.efficacy!.bit ? '✓' : onlyWarnedAbout(summary, fault) ? '~ warning:' : '✗';
      this.line(`  ${mark} fault ${fault.id} ${fault.fault} ${faultEffect(fault)}${fault.efficacy!.bit ? '' : ` (proved by: ${fault.efficacy!.proof})`}`);
    }
    const report = summary.artifacts.html ?? summary.artifacts.markdown ?? summary.artifacts.json;
    this.line(`report: ${report ? path.join(context.runDir, report) : context.runDir}`);
  }
}
