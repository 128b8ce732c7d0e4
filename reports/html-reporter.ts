/**
 * report.html: one self-contained page (no scripts, no external URLs, works offline): verdict
 * banner, checker results with offending operations, SLOs per phase, fault timeline, the agents
 * of a `--agents` run, and the panel catalogue's charts from the run's Prometheus data with fault windows shaded.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../core/summary';
import { PHASES } from '../verdict/types';
import { PANEL_CATALOGUE, panelsByRow, type CataloguePanel } from '../dashboards/catalogue';
import type { PanelSeries } from '../dashboards/prometheus-query';
import type { ReportContext, Reporter } from './reporter';
import {
  ABSENT,
  VERDICT_WORD,
  absoluteFaultWindows,
  agentCells,
  describeOperation,
  faultEffect,
  faultNotes,
  formatMs,
  onlyWarnedAbout,
  formatSloObserved,
  sloWord,
  validityWord,
} from './format';
import { escapeHtml, renderChart, renderFaultTimeline, renderLegend } from './svg-chart';
import { formatFault, formatLogLine, formatOp, runTime } from '../core/explain/format';
import type { Explanation } from '../core/explain/types';

/** Glyphs present in common text fonts (DejaVu, Liberation): emoji fonts are often missing on CI hosts. */
const HTML_VERDICT_ICON = { pass: '✔', fail: '✖', error: '⚠' } as const;

const STYLE = `
:root { color-scheme: light; --pass: #1a7f37; --fail: #cf222e; --error: #9a6700; --muted: #57606a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
main { max-width: 1240px; margin: 0 auto; padding: 16px 20px 48px; }
h1 { margin: 0; font-size: 26px; } h2 { margin: 28px 0 10px; font-size: 19px; } h3 { margin: 18px 0 8px; font-size: 15px; color: var(--muted); }
.verdict-banner { padding: 18px 20px; border-radius: 8px; color: #fff; }
.verdict-pass { background: var(--pass); } .verdict-fail { background: var(--fail); } .verdict-error { background: var(--error); }
.verdict-banner p { margin: 6px 0 0; opacity: .92; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #d0d7de; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #d8dee4; vertical-align: top; }
th { background: #f0f3f6; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.valid, .ok { color: var(--pass); font-weight: 600; } .invalid, .broken { color: var(--fail); font-weight: 600; } .unknown { color: var(--error); font-weight: 600; } .not-applicable { color: var(--muted); font-weight: 600; }
pre.op { margin: 4px 0 0; padding: 6px 8px; background: #fff5f5; border: 1px solid #ffd6d6; border-radius: 4px; white-space: pre-wrap; word-break: break-all; font-size: 12px; max-height: 220px; overflow: auto; }
.errors li { color: var(--fail); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 12px; }
figure.panel { margin: 0; background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 10px; }
figure.panel figcaption { font-weight: 600; margin-bottom: 4px; }
figure.panel code { display: block; font-size: 11px; color: var(--muted); margin-top: 4px; word-break: break-all; }
svg .grid { stroke: #eaeef2; stroke-width: 1; } svg .frame { fill: none; stroke: #d0d7de; }
svg .tick { font-size: 10px; fill: #57606a; } svg .series { fill: none; stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round; }
svg .fault-band { fill: rgba(207, 34, 46, 0.13); } svg .fault-bar { fill: rgba(207, 34, 46, 0.55); } svg .fault-bar.unhealed { fill: #9a6700; }
svg .no-data-text { font-size: 12px; fill: #8c959f; }
.fault-timeline { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; }
ul.legend { list-style: none; padding: 0; margin: 4px 0 0; display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
.note { color: var(--muted); }
details.evidence { margin: 8px 0 0; padding: 6px 8px; background: #fff; border: 1px solid #d0d7de; border-radius: 4px; }
details.evidence summary { cursor: pointer; font-weight: 600; }
details.evidence h4 { margin: 8px 0 2px; font-size: 12px; color: var(--muted); }
pre.log, pre.ops { margin: 2px 0 0; padding: 4px 6px; background: #f6f8fa; border: 1px solid #d8dee4; border-radius: 4px; white-space: pre-wrap; word-break: break-all; font-size: 11px; max-height: 260px; overflow: auto; }
table.ops { font: 11px/1.35 ui-monospace, monospace; } table.ops td { padding: 1px 6px; } tr.op-offending { background: #fff5f5; font-weight: 600; }
ul.faults { margin: 2px 0 0; padding-left: 18px; font-size: 12px; } li.fault-active { color: var(--fail); font-weight: 600; }
`;

export interface HtmlReportInput {
  summary: RunSummary;
  series?: PanelSeries[];
  catalogue?: readonly CataloguePanel[];
}

function checksSection(summary: RunSummary): string {
  if (summary.checks.length === 0) return '<p class="note">No checks ran.</p>';
  const rows = summary.checks.map((check) => {
    const word = validityWord(check.valid);
    // 'n/a' is no CSS class name.
    const css = word === 'n/a' ? 'not-applicable' : word;
    const evidence: string[] = [];
    if (check.offendingCount !== undefined) evidence.push(`<div>${check.offendingCount} offending operation(s)</div>`);
    if (check.first !== undefined) evidence.push(`<div>first:</div><pre class="op offending-op">${escapeHtml(JSON.stringify(check.first, null, 2) ?? describeOperation(check.first))}</pre>`);
    if (check.worst !== undefined && describeOperation(check.worst) !== describeOperation(check.first)) {
      evidence.push(`<div>worst:</div><pre class="op offending-op">${escapeHtml(JSON.stringify(check.worst, null, 2) ?? describeOperation(check.worst))}</pre>`);
    }
    if (check.error) evidence.push(`<pre class="op">${escapeHtml(check.error)}</pre>`);
    evidence.push(...(summary.explanations ?? []).filter((e) => e.check === check.name).map(evidenceBlock));
    return `<tr class="check check-${css}" data-check="${escapeHtml(check.name)}"><td>${escapeHtml(check.name)}</td><td class="${css}">${word}</td><td>${escapeHtml(check.summary)}${evidence.join('')}</td></tr>`;
  });
  return `<table class="checks"><thead><tr><th>Checker</th><th>Result</th><th>Summary and offending operations</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** One offending operation with every layer's evidence; the first one open. */
function evidenceBlock(e: Explanation): string {
  const ops = e.ops
    .map((op) => `<tr class="${op.offending ? 'op-offending' : 'op'}"><td>${escapeHtml(formatOp(op).slice(2))}</td></tr>`)
    .join('');
  const faults = e.faults.length ? e.faults.map((fault) => `<li class="${fault.activeAtOp ? 'fault-active' : 'fault'}">${escapeHtml(formatFault(fault))}</li>`).join('') : '<li>none</li>';
  const log = (lines: Explanation['backend'], css: string) => {
    const text = lines.files.length === 0 ? 'no log file in the run\'s logs/ folder' : lines.lines.length === 0 ? '(no lines in the window)' : lines.lines.map((line) => formatLogLine(line, e.time)).join('\n');
    return `<pre class="log ${css}">${escapeHtml(text)}${lines.omitted ? escapeHtml(`\n… ${lines.omitted} more lines in the window`) : ''}</pre>`;
  };
  const who = e.player !== undefined && e.player !== e.process ? `${e.process} (player ${e.player})` : e.process;
  return `<details class="evidence" data-op="${e.index}"${e.roles.includes('first') ? ' open' : ''}><summary>Evidence: history #${e.index} (${escapeHtml(e.roles.join(', '))}) — ${escapeHtml(who)} at ${runTime(e.time)}</summary>`
    + `<h4>The bot's operations around it</h4><table class="ops"><tbody>${ops}</tbody></table>`
    + `<h4>Faults between ${runTime(e.window.from)} and ${runTime(e.window.to)}</h4><ul class="faults">${faults}</ul>`
    + `<h4>Backend log (${escapeHtml(e.player ? `lines naming ${e.player} or no player` : 'all lines')}, time relative to the operation)</h4>${log(e.backend, 'backend-log')}`
    + `<h4>PostgreSQL log</h4>${log(e.postgres, 'postgres-log')}`
    + `<p><a class="grafana-link" href="${escapeHtml(e.grafana)}">Grafana: the run's dashboard over this window</a></p></details>`;
}

function slosSection(summary: RunSummary): string {
  if (summary.slos.length === 0) return '<p class="note">No SLOs were set.</p>';
  const parts: string[] = [];
  for (const phase of [...PHASES, 'run'] as const) {
    const slos = summary.slos.filter((slo) => slo.phase === phase);
    if (slos.length === 0) continue;
    const rows = slos.map((slo) => {
      const word = sloWord(slo.ok);
      return `<tr class="slo slo-${word}"><td>${escapeHtml(slo.metric)}</td><td><code>${escapeHtml(slo.limit)}</code></td><td class="num">${escapeHtml(formatSloObserved(slo))}</td><td class="num">${slo.samples}</td><td class="${word}">${word}</td></tr>`;
    });
    parts.push(`<h3>Phase: ${escapeHtml(phase)}</h3><table class="slos" data-phase="${phase}"><thead><tr><th>Metric</th><th>Limit</th><th>Observed</th><th>Samples</th><th>Result</th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
  }
  return parts.join('');
}

function faultsSection(summary: RunSummary, startMs: number, endMs: number): string {
  if (summary.faults.length === 0) return '<p class="note">No faults were injected.</p>';
  const windows = absoluteFaultWindows(summary);
  const rows = summary.faults.map((fault) => {
    const effectClass = fault.efficacy === undefined ? '' : fault.efficacy.bit ? 'ok' : onlyWarnedAbout(summary, fault) ? 'unknown' : 'broken';
    const effectTitle = fault.efficacy ? ` title="proved by: ${escapeHtml(fault.efficacy.proof)}"` : '';
    return `<tr><td>${escapeHtml(fault.fault)}</td><td>${escapeHtml(fault.id)}</td><td class="num">${formatMs(fault.startedAt)}</td><td class="num">${fault.stoppedAt === undefined ? 'never' : formatMs(fault.stoppedAt)}</td><td class="${fault.healed ? 'ok' : 'broken'}">${fault.healed ? 'yes' : 'no'}</td><td class="effect ${effectClass}"${effectTitle}>${escapeHtml(faultEffect(fault))}</td><td>${escapeHtml(faultNotes(fault))}</td></tr>`;
  });
  return `${renderFaultTimeline(windows, startMs, endMs)}<table class="faults"><thead><tr><th>Fault</th><th>Id</th><th>Start</th><th>Stop</th><th>Healed</th><th>Effect</th><th>Observations</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** With `--agents N`: one row per agent; empty without agents. */
function agentsSection(summary: RunSummary): string {
  if (!summary.agents?.length) return '';
  const rows = summary.agents.map((agent) => {
    const c = agentCells(agent);
    const state = agent.state ?? ABSENT;
    const css = state === 'done' ? 'ok' : state === 'lost' ? 'broken' : 'unknown';
    return `<tr class="agent" data-agent="${escapeHtml(c.index)}"><td class="num">${escapeHtml(c.index)}</td><td>${escapeHtml(c.segment)}</td><td>${escapeHtml(c.where)}</td><td class="num">${escapeHtml(c.bots)}</td><td class="num">${escapeHtml(c.entries)}</td><td class="num">${escapeHtml(c.batches)}</td><td class="num">${escapeHtml(c.clock)}</td><td class="num">${escapeHtml(c.sameMachine)}</td><td class="${css}">${escapeHtml(c.state)}</td></tr>`;
  });
  return `<h2>Agents</h2><p class="note">The bots ran as ${summary.agents.length} agents; clock offset = coordinator clock − agent clock, ± the bound it lies within.</p><table class="agents"><thead><tr><th>Agent</th><th>Segment</th><th>Where</th><th>Bots</th><th>History entries merged</th><th>Batches</th><th>Clock offset ± error</th><th>Same-machine offset</th><th>State</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function chartsSection(summary: RunSummary, series: PanelSeries[] | undefined, catalogue: readonly CataloguePanel[], startMs: number, endMs: number): string {
  if (!series || series.length === 0) return '<p class="note">No Prometheus data was collected for this run.</p>';
  const byId = new Map(series.map((panel) => [panel.panelId, panel]));
  const windows = absoluteFaultWindows(summary);
  const parts: string[] = [];
  for (const group of panelsByRow(catalogue)) {
    const figures = group.panels
      .map((panel) => byId.get(panel.id))
      .filter((panel): panel is PanelSeries => panel !== undefined)
      .map((panel) => `<figure class="panel" id="panel-${escapeHtml(panel.panelId)}"><figcaption>${escapeHtml(panel.title)}</figcaption>${renderChart(panel, { startMs, endMs, faultWindows: windows })}${renderLegend(panel)}<code>${escapeHtml(panel.expr)}</code></figure>`);
    if (figures.length > 0) parts.push(`<h3>${escapeHtml(group.row)}</h3><div class="charts">${figures.join('')}</div>`);
  }
  return parts.join('');
}

function latencySection(summary: RunSummary): string {
  const entries = Object.entries(summary.stats.latency);
  if (entries.length === 0) return '';
  const rows = entries.map(([kind, stats]) => `<tr><td>${escapeHtml(kind)}</td><td class="num">${stats.count}</td><td class="num">${formatMs(stats.p50)}</td><td class="num">${formatMs(stats.p95)}</td><td class="num">${formatMs(stats.p99)}</td><td class="num">${formatMs(stats.max)}</td></tr>`);
  return `<h2>Latency by action kind</h2><p class="note">Measured from the intended send time (no coordinated omission).</p><table class="latency"><thead><tr><th>Kind</th><th>Count</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderHtmlReport(input: HtmlReportInput): string {
  const { summary } = input;
  const catalogue = input.catalogue ?? PANEL_CATALOGUE;
  const startMs = Date.parse(summary.startedAt);
  const parsedEnd = Date.parse(summary.finishedAt);
  const endMs = Number.isFinite(parsedEnd) && parsedEnd > startMs ? parsedEnd : startMs + Math.max(1, summary.durationMs);
  const { actions, loadGenerator } = summary.stats;
  const title = `${VERDICT_WORD[summary.verdict]} — ${summary.scenario} (seed ${summary.seed})`;
  const errors = summary.errors.length > 0 ? `<h2>Harness errors</h2><ul class="errors">${summary.errors.map((e) => `<li>${escapeHtml(e)}</li>`).join('')}</ul>` : '';
  const saturated = loadGenerator.saturated ? `<p><strong>The load generator saturated</strong> (CPU peak ${(loadGenerator.cpuPeakRatio * 100).toFixed(0)} %): latencies may be overstated.</p>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lagstorm ${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
<header class="verdict-banner verdict-${summary.verdict}" data-verdict="${summary.verdict}">
<h1>${HTML_VERDICT_ICON[summary.verdict]} ${escapeHtml(title)}</h1>
<p>Run ${escapeHtml(summary.runId)} · ${escapeHtml(summary.startedAt)} · ${formatMs(summary.durationMs)} · ${summary.stats.bots} bots · ${actions.invoked} actions (ok ${actions.ok}, fail ${actions.fail}, info ${actions.info}) · ${summary.stats.actionsPerSecond.toFixed(0)} actions/s · exit ${summary.exitCode}</p>
${saturated}</header>
${errors}
<h2>Checkers</h2>${checksSection(summary)}
<h2>SLOs</h2>${slosSection(summary)}
<h2>Faults</h2>${faultsSection(summary, startMs, endMs)}
${agentsSection(summary)}
<h2>Panels</h2><p class="note">Shaded bands are fault windows. Same panels as the Grafana dashboard.</p>${chartsSection(summary, input.series, catalogue, startMs, endMs)}
${latencySection(summary)}
</main></body></html>
`;
}

export class HtmlReporter implements Reporter {
  readonly name = 'html';
  constructor(private readonly fileName = 'report.html', private readonly catalogue: readonly CataloguePanel[] = PANEL_CATALOGUE) {}

  onRunEnd(summary: RunSummary, context: ReportContext): Record<string, string> {
    const html = renderHtmlReport({ summary: { ...summary, artifacts: { ...summary.artifacts, html: this.fileName } }, series: context.series, catalogue: this.catalogue });
    writeFileSync(path.join(context.runDir, this.fileName), html);
    return { html: this.fileName };
  }
}
