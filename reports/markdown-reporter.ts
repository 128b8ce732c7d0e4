/** summary.md: verdict first, then tables; sized for a GitHub step summary ($GITHUB_STEP_SUMMARY). */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../core/summary';
import { PHASES } from '../verdict/types';
import type { ReportContext, Reporter } from './reporter';
import { VERDICT_ICON, VERDICT_WORD, agentCells, describeOperation, faultEffect, faultNotes, formatMs, formatSloObserved, sloWord, validityWord } from './format';
import { formatExplanation, runTime } from '../core/explain/format';

function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function code(text: string): string {
  return text === '' ? '' : `\`${text.replace(/`/g, "'")}\``;
}

const RESULT_ICON = { valid: '✅', invalid: '❌', unknown: '❔', 'n/a': '➖', ok: '✅', broken: '❌' } as const;

export function renderMarkdown(summary: RunSummary): string {
  const out: string[] = [];
  out.push(`## ${VERDICT_ICON[summary.verdict]} ${VERDICT_WORD[summary.verdict]} — ${summary.scenario} (seed ${summary.seed})`, '');
  const { actions } = summary.stats;
  out.push(
    `Run \`${summary.runId}\` · ${formatMs(summary.durationMs)} · ${summary.stats.bots} bots · ${actions.invoked} actions (ok ${actions.ok}, fail ${actions.fail}, info ${actions.info}) · ${summary.stats.actionsPerSecond.toFixed(0)} actions/s · exit ${summary.exitCode}`,
    '',
  );
  if (summary.stats.loadGenerator.saturated) {
    out.push(`> ⚠️ The load generator saturated (CPU peak ${(summary.stats.loadGenerator.cpuPeakRatio * 100).toFixed(0)} %): latencies may be overstated.`, '');
  }
  if (summary.errors.length > 0) {
    out.push('### Harness errors', '', ...summary.errors.map((error) => `- ${error.replace(/\r?\n/g, ' ')}`), '');
  }
  if (summary.warnings?.length) out.push('### Warnings', '', ...summary.warnings.map((warning) => `- ${warning.replace(/\r?\n/g, ' ')}`), '');

  out.push('### Checks', '');
  if (summary.checks.length === 0) out.push('_No checks ran._', '');
  else {
    out.push('| | Check | Result | Summary | First offending operation |', '| --- | --- | --- | --- | --- |');
    for (const check of summary.checks) {
      const word = validityWord(check.valid);
      const offending = check.first !== undefined ? code(describeOperation(check.first, 200)) : check.error ? cell(check.error) : '';
      out.push(`| ${RESULT_ICON[word]} | ${cell(check.name)} | ${word} | ${cell(check.summary)} | ${cell(offending)} |`);
    }
    out.push('');
    out.push(...evidenceSection(summary));
  }

  out.push('### SLOs', '');
  if (summary.slos.length === 0) out.push('_No SLOs were set._', '');
  for (const phase of [...PHASES, 'run'] as const) {
    const slos = summary.slos.filter((slo) => slo.phase === phase);
    if (slos.length === 0) continue;
    out.push(`#### Phase: ${phase}`, '', '| | Metric | Limit | Observed | Samples |', '| --- | --- | --- | --- | ---: |');
    for (const slo of slos) {
      out.push(`| ${RESULT_ICON[sloWord(slo.ok)]} | ${cell(slo.metric)} | ${code(slo.limit)} | ${cell(formatSloObserved(slo))} | ${slo.samples} |`);
    }
    out.push('');
  }

  out.push('### Faults', '');
  if (summary.faults.length === 0) out.push('_No faults were injected._', '');
  else {
    out.push('| Fault | Id | Start | Stop | Healed | Effect | Notes |', '| --- | --- | ---: | ---: | --- | --- | --- |');
    for (const fault of summary.faults) {
      const effect = fault.efficacy?.bit === false ? `**${cell(faultEffect(fault))}**` : cell(faultEffect(fault));
      out.push(`| ${cell(fault.fault)} | ${cell(fault.id)} | ${formatMs(fault.startedAt)} | ${fault.stoppedAt === undefined ? 'never' : formatMs(fault.stoppedAt)} | ${fault.healed ? 'yes' : '**no**'} | ${effect} | ${cell(faultNotes(fault))} |`);
    }
    out.push('');
  }

  out.push(...agentsSection(summary));

  const latency = summary.stats.latency.all;
  if (latency) {
    out.push('### Latency (all actions, from the intended send time)', '', '| p50 | p95 | p99 | max | count |', '| ---: | ---: | ---: | ---: | ---: |');
    out.push(`| ${formatMs(latency.p50)} | ${formatMs(latency.p95)} | ${formatMs(latency.p99)} | ${formatMs(latency.max)} | ${latency.count} |`, '');
  }
  return out.join('\n');
}

/** With `--agents N`: one row per agent (nothing without agents). */
function agentsSection(summary: RunSummary): string[] {
  if (!summary.agents?.length) return [];
  const rows = summary.agents.map((agent) => {
    const c = agentCells(agent);
    return `| ${c.index} | ${cell(c.segment)} | ${cell(c.where)} | ${c.bots} | ${c.entries} | ${c.batches} | ${c.clock} | ${c.sameMachine} | ${cell(c.state)} |`;
  });
  return [
    '### Agents',
    '',
    '| Agent | Segment | Where | Bots | History entries merged | Batches | Clock offset ± error | Same-machine offset | State |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
  ];
}

/** The first and the worst offending operation of each failed check with every layer's evidence; the others by index. */
function evidenceSection(summary: RunSummary): string[] {
  const explanations = summary.explanations ?? [];
  if (explanations.length === 0) return [];
  const out = ['#### Evidence of the offending operations', ''];
  for (const check of [...new Set(explanations.map((e) => e.check))]) {
    const mine = explanations.filter((e) => e.check === check);
    for (const e of mine.filter((x) => x.roles.includes('first') || x.roles.includes('worst'))) {
      out.push(`<details><summary>${check}: history #${e.index} (${e.roles.join(', ')}) — ${e.process} at ${runTime(e.time)}</summary>`, '', '```text', formatExplanation(e).replace(/```/g, "'''"), '```', '', '</details>', '');
    }
    const others = mine.filter((x) => !x.roles.includes('first') && !x.roles.includes('worst')).map((x) => `#${x.index}`);
    if (others.length) out.push(`Other offending operations of ${check}: ${others.join(', ')} — \`lagstorm explain ${summary.runDir} --check ${check} --op N\``, '');
  }
  out.push(`All of them: \`lagstorm explain ${summary.runDir}\``, '');
  return out;
}

export interface MarkdownReporterOptions {
  fileName?: string;
  /** Also append to this file (GitHub's $GITHUB_STEP_SUMMARY); default: the env var when set. */
  stepSummaryPath?: string | null;
}

export class MarkdownReporter implements Reporter {
  readonly name = 'markdown';
  private readonly fileName: string;
  private readonly stepSummaryPath: string | null;

  constructor(options: MarkdownReporterOptions = {}) {
    this.fileName = options.fileName ?? 'summary.md';
    this.stepSummaryPath = options.stepSummaryPath === undefined ? (process.env.GITHUB_STEP_SUMMARY ?? null) : options.stepSummaryPath;
  }

  onRunEnd(summary: RunSummary, context: ReportContext): Record<string, string> {
    const markdown = renderMarkdown(summary);
    writeFileSync(path.join(context.runDir, this.fileName), markdown);
    if (this.stepSummaryPath) appendFileSync(this.stepSummaryPath, markdown + '\n');
    return { markdown: this.fileName };
  }
}
