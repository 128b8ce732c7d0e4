/**
 * junit.xml for CI test tabs: suite "checks" (one testcase per checker) and suite "slos" (one per
 * SLO and phase); invalid/broken → <failure>, unknown → <error>, a checker that does not apply to
 * the game (n/a) → <skipped> with the reason; suite "faults" (one per judged fault: a fault that did
 * not bite → <error>, or <skipped> when the scenario only warns); harness errors get a "harness" suite.
 * A `--agents` run adds a suite "agents" with no testcases: one property and one system-out line per
 * agent (a lost agent is already a harness error).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentSummary, RunSummary } from '../core/summary';
import type { ReportContext, Reporter } from './reporter';
import { agentCells, agentLine, faultEffect, faultNotes, formatSloObserved, offendingLines, onlyWarnedAbout, sloLabel } from './format';

/** Escapes text for XML attributes and content, dropping characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex -- removing the control characters XML 1.0 cannot carry
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

interface Case {
  classname: string;
  name: string;
  outcome: { kind: 'pass' } | { kind: 'skipped'; message: string } | { kind: 'failure' | 'error'; message: string; type: string; body: string };
}

function renderSuite(name: string, cases: Case[], timestamp: string, seconds: number): string {
  const failures = cases.filter((c) => c.outcome.kind === 'failure').length;
  const errors = cases.filter((c) => c.outcome.kind === 'error').length;
  const skipped = cases.filter((c) => c.outcome.kind === 'skipped').length;
  const lines = [`  <testsuite name="${escapeXml(name)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" timestamp="${escapeXml(timestamp)}" time="${seconds.toFixed(3)}">`];
  for (const testCase of cases) {
    const open = `    <testcase classname="${escapeXml(testCase.classname)}" name="${escapeXml(testCase.name)}" time="0"`;
    if (testCase.outcome.kind === 'pass') {
      lines.push(`${open}/>`);
      continue;
    }
    if (testCase.outcome.kind === 'skipped') {
      lines.push(`${open}>`, `      <skipped message="${escapeXml(testCase.outcome.message)}"/>`, '    </testcase>');
      continue;
    }
    const { kind, message, type, body } = testCase.outcome;
    lines.push(`${open}>`, `      <${kind} message="${escapeXml(message)}" type="${escapeXml(type)}">${escapeXml(body)}</${kind}>`, '    </testcase>');
  }
  lines.push('  </testsuite>');
  return lines.join('\n');
}

/** The agents as a suite of no testcases: CI tabs show its system-out, tools read its properties. */
function renderAgentsSuite(agents: AgentSummary[], timestamp: string, seconds: number): string {
  const lines = agents.map(agentLine);
  return [
    `  <testsuite name="agents" tests="0" failures="0" errors="0" skipped="0" timestamp="${escapeXml(timestamp)}" time="${seconds.toFixed(3)}">`,
    '    <properties>',
    ...agents.map((agent, i) => `      <property name="agent.${escapeXml(agentCells(agent).index)}" value="${escapeXml(lines[i])}"/>`),
    '    </properties>',
    `    <system-out>${escapeXml(lines.join('\n'))}</system-out>`,
    '  </testsuite>',
  ].join('\n');
}

export function renderJunit(summary: RunSummary): string {
  const seconds = summary.durationMs / 1000;
  const checks: Case[] = summary.checks.map((check) => {
    const body = [check.summary, ...offendingLines(check)].join('\n');
    if (check.valid === true) return { classname: 'lagstorm.checks', name: check.name, outcome: { kind: 'pass' } };
    if (check.valid === 'n/a') return { classname: 'lagstorm.checks', name: check.name, outcome: { kind: 'skipped', message: check.summary } };
    if (check.valid === false) return { classname: 'lagstorm.checks', name: check.name, outcome: { kind: 'failure', message: check.summary, type: 'invalid', body } };
    return { classname: 'lagstorm.checks', name: check.name, outcome: { kind: 'error', message: check.summary, type: 'unknown', body } };
  });
  const slos: Case[] = summary.slos.map((slo) => {
    const body = `${sloLabel(slo)}: observed ${formatSloObserved(slo)} over ${slo.samples} samples`;
    const base = { classname: `lagstorm.slos.${slo.phase}`, name: sloLabel(slo) };
    if (slo.ok === true) return { ...base, outcome: { kind: 'pass' } };
    if (slo.ok === false) return { ...base, outcome: { kind: 'failure', message: `${slo.limit} broken: observed ${formatSloObserved(slo)}`, type: 'slo-broken', body } };
    return { ...base, outcome: { kind: 'error', message: `${slo.limit} undecided: ${formatSloObserved(slo)}`, type: 'unknown', body } };
  });
  // Did each fault bite: a fault with no measured effect is an error (the run did not test what it claims), or skipped when the scenario only warns.
  const faults: Case[] = summary.faults
    .filter((fault) => fault.efficacy !== undefined)
    .map((fault) => {
      const efficacy = fault.efficacy!;
      const base = { classname: 'lagstorm.faults', name: `${fault.id} ${fault.fault}` };
      if (efficacy.bit) return { ...base, outcome: { kind: 'pass' } };
      const message = faultEffect(fault);
      if (onlyWarnedAbout(summary, fault)) return { ...base, outcome: { kind: 'skipped', message: `${message} (warning only: faults.ifNoEffect is 'warn')` } };
      return { ...base, outcome: { kind: 'error', message, type: 'did-not-bite', body: `${message}\nproved by: ${efficacy.proof}\nobservations: ${faultNotes(fault)}` } };
    });
  const suites = [renderSuite('checks', checks, summary.startedAt, seconds), renderSuite('slos', slos, summary.startedAt, seconds)];
  if (faults.length > 0) suites.push(renderSuite('faults', faults, summary.startedAt, seconds));
  const harness: Case[] = summary.errors.map((error, index) => ({
    classname: 'lagstorm.harness',
    name: `harness error ${index + 1}`,
    outcome: { kind: 'error', message: error, type: 'harness-error', body: error },
  }));
  if (harness.length > 0) suites.push(renderSuite('harness', harness, summary.startedAt, seconds));
  if (summary.agents?.length) suites.push(renderAgentsSuite(summary.agents, summary.startedAt, seconds));
  const all = [...checks, ...slos, ...faults, ...harness];
  const failures = all.filter((c) => c.outcome.kind === 'failure').length;
  const errors = all.filter((c) => c.outcome.kind === 'error').length;
  const skipped = all.filter((c) => c.outcome.kind === 'skipped').length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(`lagstorm ${summary.scenario} (seed ${summary.seed})`)}" tests="${all.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds.toFixed(3)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

export class JunitReporter implements Reporter {
  readonly name = 'junit';
  constructor(private readonly fileName = 'junit.xml') {}

  onRunEnd(summary: RunSummary, context: ReportContext): Record<string, string> {
    writeFileSync(path.join(context.runDir, this.fileName), renderJunit(summary));
    return { junit: this.fileName };
  }
}
