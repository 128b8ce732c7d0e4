import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConsoleReporter } from './console-reporter';
import { createDefaultReporters } from './index';
import { renderJunit } from './junit-reporter';
import { JsonReporter } from './json-reporter';
import { renderHtmlReport } from './html-reporter';
import { renderMarkdown } from './markdown-reporter';
import { ReporterMultiplexer, type ProgressSample, type Reporter } from './reporter';
import { agentsFixture, failingRunSummary } from './test-fixtures';
import type { AgentSummary, RunSummary } from '../core/summary';

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '&') {
      out += text[i];
      continue;
    }
    const end = text.indexOf(';', i);
    const entity = text.slice(i + 1, end);
    if (!(entity in ENTITIES)) throw new Error(`unknown entity &${entity};`);
    out += ENTITIES[entity];
    i = end;
  }
  return out;
}

/** A small, strict, regex-free XML reader: enough to prove junit.xml is well formed and count it. */
function parseXml(xml: string): XmlElement {
  let i = xml.startsWith('<?xml') ? xml.indexOf('?>') + 2 : 0;
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt === -1) break;
    const top = stack[stack.length - 1];
    const between = xml.slice(i, lt);
    if (between.includes('>')) throw new Error(`stray '>' before ${lt}`);
    top.text += decode(between);
    const gt = xml.indexOf('>', lt);
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const closed = stack.pop();
      if (closed?.name !== tag.slice(1)) throw new Error(`</${tag.slice(1)}> closes <${closed?.name}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const space = body.indexOf(' ');
    const element: XmlElement = { name: space === -1 ? body : body.slice(0, space), attributes: {}, children: [], text: '' };
    let rest = space === -1 ? '' : body.slice(space);
    while (rest.trim() !== '') {
      rest = rest.trimStart();
      const eq = rest.indexOf('="');
      const close = rest.indexOf('"', eq + 2);
      if (eq === -1 || close === -1) throw new Error(`bad attribute in <${tag}>`);
      element.attributes[rest.slice(0, eq)] = decode(rest.slice(eq + 2, close));
      rest = rest.slice(close + 1);
    }
    top.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  return root;
}

describe('junit reporter', () => {
  it('writes suites whose counts match the summary and parses back', () => {
    const summary = failingRunSummary('/tmp/x');
    summary.checks[1].summary = 'tricky <chars> & "quotes" \u0001 \'apos\' ]]>';
    const doc = parseXml(renderJunit(summary));
    const [suites] = doc.children;
    expect(suites.name).toBe('testsuites');
    const byName = Object.fromEntries(suites.children.map((suite) => [suite.attributes.name, suite]));
    expect(Object.keys(byName)).toEqual(['checks', 'slos']);

    const checks = byName.checks;
    expect(Number(checks.attributes.tests)).toBe(summary.checks.length);
    expect(Number(checks.attributes.failures)).toBe(summary.checks.filter((c) => c.valid === false).length);
    expect(Number(checks.attributes.errors)).toBe(summary.checks.filter((c) => c.valid === 'unknown').length);
    const durable = checks.children.find((c) => c.attributes.name === 'acked-durable');
    expect(durable?.children[0].name).toBe('failure');
    expect(durable?.children[0].attributes.message).toBe(summary.checks[0].summary);
    expect(durable?.children[0].text).toContain('"player":"p-0007"');
    expect(checks.children.find((c) => c.attributes.name === 'recovery')?.children[0].name).toBe('error');
    expect(checks.children.find((c) => c.attributes.name === 'exactly-once')?.children).toEqual([]);
    expect(checks.children.find((c) => c.attributes.name === 'exactly-once')?.attributes.name).toBe('exactly-once');

    const slos = byName.slos;
    expect(Number(slos.attributes.tests)).toBe(summary.slos.length);
    expect(Number(slos.attributes.failures)).toBe(summary.slos.filter((s) => s.ok === false).length);
    expect(Number(slos.attributes.errors)).toBe(summary.slos.filter((s) => s.ok === 'unknown').length);
    const broken = slos.children.filter((c) => c.children[0]?.name === 'failure');
    expect(broken.map((c) => c.attributes.name)).toEqual(['action-latency p(99)<200ms [fault]']);

    expect(Number(suites.attributes.tests)).toBe(summary.checks.length + summary.slos.length);
    expect(Number(suites.attributes.failures)).toBe(2);
    expect(Number(suites.attributes.errors)).toBe(2);
  });

  it('adds a harness suite with errors when the harness failed', () => {
    const summary: RunSummary = { ...failingRunSummary('/tmp/x'), verdict: 'error', exitCode: 2, errors: ['toxiproxy did not start: port 8474 in use'] };
    const suites = parseXml(renderJunit(summary)).children[0];
    const harness = suites.children.find((suite) => suite.attributes.name === 'harness');
    expect(harness?.attributes.errors).toBe('1');
    expect(harness?.children[0].children[0].attributes.message).toContain('port 8474');
  });
});

describe('markdown reporter', () => {
  it('starts with the verdict line, then tables for checks, SLOs per phase and faults', () => {
    const summary = failingRunSummary('/tmp/x');
    summary.checks[2].summary = 'sources | sinks';
    const markdown = renderMarkdown(summary);
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('## ❌ FAIL — smoke (seed 42)');
    expect(markdown).toContain('| ❌ | acked-durable | invalid |');
    expect(markdown).toMatch(/#### Phase: fault[\s\S]*\| ❌ \| action-latency \| `p\(99\)<200ms` \| 1\.84 s \| 2100 \|/);
    expect(markdown).toContain('| backend-crash | f2 | 60.00 s | 64.00 s | yes |  | downtimeMs=3900 |');
    // a cell with a pipe must not break the table
    expect(markdown).toContain('| ✅ | conservation | valid | sources \\| sinks |');
  });

  it('says PASS for a passing run', () => {
    const summary: RunSummary = { ...failingRunSummary('/tmp/x'), verdict: 'pass', exitCode: 0 };
    expect(renderMarkdown(summary).split('\n')[0]).toBe('## ✅ PASS — smoke (seed 42)');
  });
});

describe('ReporterMultiplexer', () => {
  const sample: ProgressSample = { elapsedMs: 1000, botsOnline: 3, actionsPerSecond: 10, p99Ms: 5, errors: 0, activeFaults: [] };

  it('isolates reporters that throw synchronously or reject, and keeps calling the others', async () => {
    const seen: string[] = [];
    const throwsSync: Reporter = {
      name: 'sync-thrower',
      onProgress: () => {
        throw new Error('sync boom');
      },
      onRunEnd: () => {
        throw new Error('sync end boom');
      },
    };
    const rejects: Reporter = {
      name: 'async-thrower',
      onProgress: async () => {
        throw new Error('async boom');
      },
      onFault: () => Promise.reject(new Error('fault boom')),
    };
    const healthy: Reporter = {
      name: 'healthy',
      onProgress: (s) => void seen.push(`progress ${s.elapsedMs}`),
      onFault: (e) => void seen.push(`fault ${e.id}`),
      onRunEnd: () => {
        seen.push('end');
        return { healthy: 'healthy.txt' };
      },
    };
    const mux = new ReporterMultiplexer([throwsSync, rejects, healthy]);
    await expect(mux.onProgress(sample)).resolves.toBeUndefined();
    await expect(mux.onFault({ type: 'start', id: 'f1', fault: 'latency', atMs: 5 })).resolves.toBeUndefined();
    const files = await mux.onRunEnd(failingRunSummary('/tmp/x'), { runDir: '/tmp/x' });
    expect(seen).toEqual(['progress 1000', 'fault f1', 'end']);
    expect(files).toEqual({ healthy: 'healthy.txt' });
    expect(mux.reporterErrors).toEqual([
      { reporter: 'sync-thrower', hook: 'onProgress', message: 'sync boom' },
      { reporter: 'async-thrower', hook: 'onProgress', message: 'async boom' },
      { reporter: 'async-thrower', hook: 'onFault', message: 'fault boom' },
      { reporter: 'sync-thrower', hook: 'onRunEnd', message: 'sync end boom' },
    ]);
  });

  it('gives up on a reporter that never finishes, and still runs the next one', async () => {
    const ran: string[] = [];
    const mux = new ReporterMultiplexer([{ name: 'hung', onRunEnd: () => new Promise(() => undefined) }, { name: 'next', onRunEnd: () => void ran.push('next') }], { hookTimeoutMs: 50 });
    await mux.onRunEnd(failingRunSummary('/tmp/x'), { runDir: '/tmp/x' });
    expect(ran).toEqual(['next']);
    expect(mux.reporterErrors).toEqual([{ reporter: 'hung', hook: 'onRunEnd', message: 'onRunEnd did not finish within 50 ms' }]);
  });

  it('is itself a reporter and tolerates reporters without hooks', async () => {
    const inner = new ReporterMultiplexer([{}]);
    const outer = new ReporterMultiplexer([inner, { name: 'empty' }]);
    await outer.onRunStart({ runId: 'r', scenario: 's', seed: 1, runDir: '/tmp', startedAt: '2026-01-01T00:00:00Z' });
    await outer.onProgress(sample);
    expect(outer.reporterErrors).toEqual([]);
  });
});

describe('console reporter', () => {
  it('prints plain periodic progress lines without a TTY and the verdict at the end', async () => {
    let output = '';
    const reporter = new ConsoleReporter({ output: { write: (chunk: string) => (output += chunk) }, tty: false, plainIntervalMs: 10_000 });
    reporter.onRunStart({ runId: 'r1', scenario: 'smoke', seed: 42, runDir: '/runs/r1', startedAt: '2026-01-01T00:00:00Z' });
    for (let elapsed = 0; elapsed <= 25_000; elapsed += 1000) {
      reporter.onProgress({ elapsedMs: elapsed, botsOnline: 20, actionsPerSecond: 81.4, p99Ms: elapsed > 20_000 ? 1840 : 12.4, errors: 3, activeFaults: elapsed > 20_000 ? ['latency'] : [] });
    }
    reporter.onFault({ type: 'start', id: 'f1', fault: 'latency', atMs: 30_000 });
    const summary = { ...failingRunSummary('/runs/r1'), artifacts: { html: 'report.html' } };
    reporter.onRunEnd(summary, { runDir: '/runs/r1' });
    expect(output).not.toContain('\x1b');
    expect(output).not.toContain('\r');
    const lines = output.trimEnd().split('\n');
    const progress = lines.filter((line) => line.includes('actions/s'));
    expect(progress).toEqual([
      '[0.00 ms] bots 20 | 81 actions/s | p99 12 ms | errors 3 | faults none',
      '[10.00 s] bots 20 | 81 actions/s | p99 12 ms | errors 3 | faults none',
      '[20.00 s] bots 20 | 81 actions/s | p99 12 ms | errors 3 | faults none',
    ]);
    expect(lines).toContain('[30.00 s] fault started: latency (f1)');
    expect(lines).toContain('verdict: FAIL (exit 1) — smoke, seed 42, 2.0 min');
    expect(lines.some((line) => line.startsWith('  ✗ check acked-durable invalid:'))).toBe(true);
    expect(lines).toContain('  ✗ SLO action-latency p(99)<200ms [fault]: observed 1.84 s');
    expect(lines[lines.length - 1]).toBe('report: /runs/r1/report.html');
  });

  it('rewrites one live line in a TTY and clears it before other lines', () => {
    let output = '';
    const reporter = new ConsoleReporter({ output: { write: (chunk: string) => (output += chunk) }, tty: true });
    reporter.onProgress({ elapsedMs: 1000, botsOnline: 1, actionsPerSecond: 1, p99Ms: null, errors: 0, activeFaults: [] });
    reporter.onProgress({ elapsedMs: 2000, botsOnline: 2, actionsPerSecond: 1, p99Ms: null, errors: 0, activeFaults: [] });
    reporter.onFault({ type: 'stop', id: 'f1', fault: 'latency', atMs: 2500 });
    expect(output.split('\r\x1b[2K')).toHaveLength(4);
    expect(output.endsWith('fault stopped: latency (f1)\n')).toBe(true);
  });
});

describe('default reporters', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lagstorm-reports-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('write every file, and summary.json lists them', async () => {
    let output = '';
    const mux = createDefaultReporters({ console: { output: { write: (chunk: string) => (output += chunk) }, tty: false } });
    const summary = failingRunSummary(dir);
    const files = await mux.onRunEnd(summary, { runDir: dir });
    expect(mux.reporterErrors).toEqual([]);
    expect(files).toEqual({ html: 'report.html', junit: 'junit.xml', markdown: 'summary.md', grafana: 'dashboard.json', grafanaAnnotations: 'grafana-annotations.json', json: 'summary.json' });
    const written = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as RunSummary;
    expect(written.artifacts).toEqual(files);
    expect(written.checks).toEqual(summary.checks);
    expect(output).toContain(`report: ${path.join(dir, 'report.html')}`);
    const annotations = JSON.parse(readFileSync(path.join(dir, 'grafana-annotations.json'), 'utf8')) as Array<{ time: number; timeEnd: number; tags: string[] }>;
    expect(annotations.map((a) => [a.time, a.timeEnd])).toEqual([
      [Date.parse(summary.startedAt) + 30_000, Date.parse(summary.startedAt) + 50_000],
      [Date.parse(summary.startedAt) + 60_000, Date.parse(summary.startedAt) + 64_000],
    ]);
  });
});

describe("a checker that does not apply to the game ('n/a')", () => {
  const reason = 'not applicable: the game has no shadow model (its client records no desync findings)';
  /** A passing run whose only non-pass is an n/a check. */
  function passingWithNa(runDir: string): RunSummary {
    const summary = failingRunSummary(runDir);
    return {
      ...summary,
      verdict: 'pass',
      exitCode: 0,
      checks: [
        { name: 'conservation', valid: true, summary: 'gold conserved' },
        { name: 'no-desync', valid: 'n/a', summary: reason },
      ],
      slos: summary.slos.filter((slo) => slo.ok === true),
    };
  }

  it('is a skipped testcase with the reason in junit, neither a failure nor an error', () => {
    const suites = parseXml(renderJunit(passingWithNa('/tmp/x'))).children[0];
    const checks = suites.children.find((suite) => suite.attributes.name === 'checks')!;
    expect(checks.attributes).toMatchObject({ tests: '2', failures: '0', errors: '0', skipped: '1' });
    const na = checks.children.find((c) => c.attributes.name === 'no-desync')!;
    expect(na.children.map((c) => [c.name, c.attributes.message])).toEqual([['skipped', reason]]);
    expect(suites.attributes).toMatchObject({ failures: '0', errors: '0', skipped: '1' });
  });

  it('reads n/a with the reason in markdown and on the console, never as a failing check', () => {
    expect(renderMarkdown(passingWithNa('/tmp/x'))).toContain(`| ➖ | no-desync | n/a | ${reason} |`);
    let output = '';
    new ConsoleReporter({ output: { write: (chunk: string) => (output += chunk) }, tty: false }).onRunEnd(passingWithNa('/runs/r1'), { runDir: '/runs/r1' });
    const lines = output.trimEnd().split('\n');
    expect(lines[0]).toBe('verdict: PASS (exit 0) — smoke, seed 42, 2.0 min');
    expect(lines).toContain(`  – check no-desync n/a: ${reason}`);
    expect(lines.filter((line) => line.includes('✗'))).toEqual([]);
  });

  it('keeps n/a and the reason in summary.json and shows them in the HTML report', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lagstorm-reports-na-'));
    try {
      const summary = passingWithNa(dir);
      await new JsonReporter().onRunEnd(summary, { runDir: dir });
      const written = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as RunSummary;
      expect(written.checks[1]).toEqual({ name: 'no-desync', valid: 'n/a', summary: reason });
      const html = renderHtmlReport({ summary });
      expect(html).toContain(`<tr class="check check-not-applicable" data-check="no-desync"><td>no-desync</td><td class="not-applicable">n/a</td><td>${reason}</td></tr>`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the evidence of an offending operation', () => {
  const withEvidence = (runDir: string): RunSummary => {
    const summary = failingRunSummary(runDir);
    const line = (file: string, at: number, text: string, player = false) => ({ file, line: 3, at, approx: false, player, text });
    summary.explanations = [
      {
        check: 'acked-durable',
        index: 4812,
        roles: ['first', 'worst'],
        anchor: 'operation',
        offence: '{"problem":"lost","op":"history #4812"}',
        process: 'bot-7',
        player: 'p-0007',
        time: 61_219,
        window: { from: 56_219, to: 66_219 },
        ops: [
          { index: 4811, type: 'invoke', f: 'buy', seq: 31, time: 61_204, value: { item: 'sword' }, offending: false },
          { index: 4812, type: 'ok', f: 'buy', seq: 31, time: 61_219, version: 44, offending: true },
        ],
        backend: { files: ['logs/backend.log'], lines: [line('logs/backend.log', 61_400, '{"message":"write-behind flush failed","players":["p-0007"]}', true)], omitted: 2 },
        postgres: { files: ['logs/postgresql.log'], lines: [line('logs/postgresql.log', 62_000, '2026-11-03 10:01:02.000 UTC [9] LOG:  database system was interrupted')], omitted: 0 },
        faults: [{ id: 't2', fault: 'backend-crash', startedAt: 61_300, stoppedAt: 64_000, activeAtOp: false }],
        grafana: 'http://127.0.0.1:3000/d/lagstorm-abc?orgId=1&from=1&to=2',
      },
    ];
    return summary;
  };

  it('is in summary.md for the first and worst operation, with every layer, and how to get the rest', () => {
    const markdown = renderMarkdown(withEvidence('/runs/r1'));
    expect(markdown).toContain('<details><summary>acked-durable: history #4812 (first, worst) — bot-7 at 61.219s</summary>');
    expect(markdown).toMatch(/▶ +#4812 +61\.219s ok +buy seq 31 v44/);
    expect(markdown).toContain('+0.181s  logs/backend.log:3  {"message":"write-behind flush failed","players":["p-0007"]}');
    expect(markdown).toContain('+0.781s  logs/postgresql.log:3  2026-11-03 10:01:02.000 UTC [9] LOG:  database system was interrupted');
    expect(markdown).toContain('in the window: backend-crash (t2) 61.300s → 64.000s');
    expect(markdown).toContain('grafana: http://127.0.0.1:3000/d/lagstorm-abc?orgId=1&from=1&to=2');
    expect(markdown).toContain('All of them: `lagstorm explain /runs/r1`');
    expect(renderMarkdown(failingRunSummary('/runs/r1'))).not.toContain('Evidence of the offending operations');
  });

  it('is in report.html next to its check, and the console names the command', () => {
    const html = renderHtmlReport({ summary: withEvidence('/runs/r1') });
    const row = html.slice(html.indexOf('data-check="acked-durable"'), html.indexOf('data-check="exactly-once"'));
    expect(row).toContain('<details class="evidence" data-op="4812" open>');
    expect(row).toMatch(/<tr class="op-offending"><td> +#4812 +61\.219s ok +buy seq 31 v44<\/td><\/tr>/);
    expect(row).toContain('<pre class="log backend-log">+0.181s  logs/backend.log:3  {&quot;message&quot;:&quot;write-behind flush failed&quot;');
    expect(row).toContain('… 2 more lines in the window');
    expect(row).toContain('<a class="grafana-link" href="http://127.0.0.1:3000/d/lagstorm-abc?orgId=1&amp;from=1&amp;to=2">');
    let output = '';
    new ConsoleReporter({ output: { write: (chunk: string) => (output += chunk) }, tty: false }).onRunEnd(withEvidence('/runs/r1'), { runDir: '/runs/r1' });
    expect(output).toContain('      evidence of every layer (bot, backend, PostgreSQL, faults, Grafana): lagstorm explain /runs/r1\n');
  });
});

describe('a fault that did not bite', () => {
  const noEffect = 'no archive attempt failed: no WAL segment was completed while it held (0 segments waiting)';
  /** A passing run but for one fault that had no measured effect; `warned`: the scenario only warns (faults.ifNoEffect 'warn'). */
  function withToothlessFault(runDir: string, warned: boolean): RunSummary {
    const summary = failingRunSummary(runDir);
    const reason = `fault f3 (failing-archiver) did not bite: ${noEffect}`;
    return {
      ...summary,
      verdict: warned ? 'pass' : 'error',
      exitCode: warned ? 0 : 2,
      checks: summary.checks.filter((check) => check.valid === true),
      slos: summary.slos.filter((slo) => slo.ok === true),
      faults: [
        { ...summary.faults[1], efficacy: { bit: true, effect: 'backend down 3900 ms (pid 41 → pid 97)', proof: 'backend measured down' } },
        {
          id: 'f3',
          fault: 'failing-archiver',
          params: {},
          startedAt: 70_000,
          stoppedAt: 71_500,
          healed: true,
          observations: { failedCount: 0, readyFiles: 0, walFilesPiledUp: 0 },
          efficacy: { bit: false, effect: noEffect, proof: 'archive attempts that failed (pg_stat_archiver.failed_count)' },
        },
      ],
      ...(warned ? { warnings: [reason] } : {}),
    };
  }

  it('is an error testcase in junit (skipped when only warned), and a fault that bit passes', () => {
    for (const warned of [false, true]) {
      const suites = parseXml(renderJunit(withToothlessFault('/tmp/x', warned))).children[0];
      const faults = suites.children.find((suite) => suite.attributes.name === 'faults')!;
      expect(faults.children.map((c) => [c.attributes.name, c.children[0]?.name ?? 'pass'])).toEqual([
        ['f2 backend-crash', 'pass'],
        ['f3 failing-archiver', warned ? 'skipped' : 'error'],
      ]);
      expect(faults.children[1].children[0].attributes.message).toContain(`did not bite: ${noEffect}`);
      expect(suites.attributes).toMatchObject({ failures: '0', errors: warned ? '0' : '1' });
    }
  });

  it('shows the effect of every fault in markdown, the console and the HTML report', () => {
    const summary = withToothlessFault('/runs/r1', false);
    const markdown = renderMarkdown(summary);
    expect(markdown).toContain('| backend-crash | f2 | 60.00 s | 64.00 s | yes | bit: backend down 3900 ms (pid 41 → pid 97) | downtimeMs=3900 |');
    expect(markdown).toContain(`| failing-archiver | f3 | 70.00 s | 71.50 s | yes | **did not bite: ${noEffect}** | failedCount=0; readyFiles=0; walFilesPiledUp=0 |`);

    let output = '';
    new ConsoleReporter({ output: { write: (chunk: string) => (output += chunk) }, tty: false }).onRunEnd(summary, { runDir: '/runs/r1' });
    expect(output).toContain('  ✓ fault f2 backend-crash bit: backend down 3900 ms (pid 41 → pid 97)\n');
    expect(output).toContain(`  ✗ fault f3 failing-archiver did not bite: ${noEffect} (proved by: archive attempts that failed (pg_stat_archiver.failed_count))\n`);

    const html = renderHtmlReport({ summary });
    expect(html).toContain(`<td class="effect broken" title="proved by: archive attempts that failed (pg_stat_archiver.failed_count)">did not bite: ${noEffect}</td>`);
    expect(html).toContain('<td class="effect ok" title="proved by: backend measured down">bit: backend down 3900 ms (pid 41 → pid 97)</td>');
  });

  it('reads as a warning, not a failure, when the scenario only warns', () => {
    const summary = withToothlessFault('/runs/r1', true);
    let output = '';
    new ConsoleReporter({ output: { write: (chunk: string) => (output += chunk) }, tty: false }).onRunEnd(summary, { runDir: '/runs/r1' });
    expect(output).toContain(`  ~ warning: fault f3 failing-archiver did not bite: ${noEffect}`);
    expect(output).not.toContain('✗');
    expect(renderMarkdown(summary)).toContain(`### Warnings\n\n- fault f3 (failing-archiver) did not bite: ${noEffect}\n`);
    expect(renderHtmlReport({ summary })).toContain('<td class="effect unknown"');
  });
});

describe('the agents of a --agents run', () => {
  const withAgents = (): RunSummary => ({ ...failingRunSummary('/tmp/x'), agents: agentsFixture() });
  /** An agent as an older or cut-short summary.json may hold it: only its index and segment. */
  const sparse = (): RunSummary => ({ ...failingRunSummary('/tmp/x'), agents: [{ index: 2, segment: '2/3:1' } as AgentSummary] });

  it('are a table in summary.md, one row per agent, "—" for what an agent lacks', () => {
    const markdown = renderMarkdown(withAgents());
    const section = markdown.slice(markdown.indexOf('### Agents'));
    expect(section.split('\n').slice(0, 6)).toEqual([
      '### Agents',
      '',
      '| Agent | Segment | Where | Bots | History entries merged | Batches | Clock offset ± error | Same-machine offset | State |',
      '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
      '| 0 | 0:1/2 | pid 4242 | 10 | 4810 | 480 | 1.30 ms ± 2.00 ms | 0.00 ms | done (exited with code 0) |',
      '| 1 | 1/2:1 | pid 4243 | 10 | 96 | 12 | — | — | lost (killed by SIGKILL) |',
    ]);
    expect(renderMarkdown(sparse())).toContain('| 2 | 2/3:1 | — | — | — | — | — | — | — |');
    expect(renderMarkdown(sparse())).not.toContain('undefined');
  });

  it('are a suite "agents" in junit.xml with no testcases: one property and one system-out line per agent', () => {
    const suites = parseXml(renderJunit(withAgents())).children[0];
    const agents = suites.children.find((suite) => suite.attributes.name === 'agents');
    expect(agents?.attributes).toMatchObject({ tests: '0', failures: '0', errors: '0' });
    const lines = [
      'agent 0: segment 0:1/2, pid 4242, 10 bots, 4810 history entries merged in 480 batches, clock offset 1.30 ms ± 2.00 ms (same machine: 0.00 ms), done (exited with code 0)',
      'agent 1: segment 1/2:1, pid 4243, 10 bots, 96 history entries merged in 12 batches, clock offset —, lost (killed by SIGKILL)',
    ];
    const properties = agents!.children.find((child) => child.name === 'properties')!;
    expect(properties.children.map((property) => [property.attributes.name, property.attributes.value])).toEqual([
      ['agent.0', lines[0]],
      ['agent.1', lines[1]],
    ]);
    expect(agents!.children.find((child) => child.name === 'system-out')?.text).toBe(lines.join('\n'));
    // The agents add no testcase: the totals are the checks' and SLOs' alone.
    expect(Number(suites.attributes.tests)).toBe(withAgents().checks.length + withAgents().slos.length);
    expect(renderJunit(sparse())).not.toContain('undefined');
  });

  it('leave no trace in summary.md or junit.xml of a run without agents', () => {
    const summary = failingRunSummary('/tmp/x');
    expect(renderMarkdown(summary)).not.toContain('Agents');
    expect(parseXml(renderJunit(summary)).children[0].children.map((suite) => suite.attributes.name)).not.toContain('agents');
    expect(renderMarkdown({ ...summary, agents: [] })).not.toContain('Agents');
  });
});
