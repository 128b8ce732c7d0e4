/**
 * `lagstorm explain` through the real CLI: bad arguments are refused with exit 3 naming the
 * argument and the fix (on a small hand-made run folder), and on a real run with a planted defect
 * (ack-before-commit under a backend crash) `explain latest` shows the bot's operations, the
 * backend's and PostgreSQL's log lines and the crash, as the HTML report does next to the check.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withReportPage } from '../reports/screenshot';
import type { RunSummary } from '../core/summary';
import { runCli } from './run-cli';

describe('lagstorm explain: bad input (exit 3, nothing else)', () => {
  let runs: string;
  const runId = '20261202T100000Z-fixture-1';
  beforeAll(() => {
    runs = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-explain-cli-'));
    const dir = path.join(runs, runId);
    fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
    const op = (index: number, type: string, seq: number, time: number) => ({ index, type, process: 'bot-1', player: 'bot-1', f: 'collect', seq, intendedAt: time, time });
    const history = [op(0, 'invoke', 1, 100), op(1, 'ok', 1, 110), op(2, 'invoke', 2, 200), op(3, 'ok', 2, 210)];
    fs.writeFileSync(path.join(dir, 'history.jsonl'), history.map((entry) => JSON.stringify(entry)).join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'logs', 'backend.log'), `${JSON.stringify({ time: '2026-12-02T10:00:00.300Z', message: 'commit failed', player: 'bot-1' })}\n`);
    const summary: Partial<RunSummary> = {
      runId,
      verdict: 'fail',
      startedAt: '2026-12-02T10:00:00.000Z',
      timelineStartedAt: '2026-12-02T10:00:00.000Z',
      finishedAt: '2026-12-02T10:00:05.000Z',
      durationMs: 5000,
      checks: [
        { name: 'acked-durable', valid: false, summary: '1 violation; first: bot-1 seq 2 lost', first: { problem: 'lost', op: history[3] }, offendingCount: 1 },
        { name: 'monotonic', valid: true, summary: 'fine' },
      ],
      faults: [],
    };
    fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary));
    fs.symlinkSync(runId, path.join(runs, 'latest'));
    fs.mkdirSync(path.join(runs, 'killed-run'));
  });
  afterAll(() => fs.rmSync(runs, { recursive: true, force: true }));

  it.each([
    ['an unknown run', ['no-such-run'], /^lagstorm: <run>: no run "no-such-run": pass a run folder \(runs\/<id>\), a run id in .*, or latest; recent runs there: 20261202T100000Z-fixture-1$/m],
    ['a run folder without summary.json', ['killed-run'], /<run>: .*killed-run has no summary\.json: it is not a finished run/],
    ['an unknown check', ['latest', '--check', 'no-such-check'], /--check: run 20261202T100000Z-fixture-1 has no check "no-such-check"; its checks are acked-durable, monotonic$/m],
    ['a check that did not fail', ['latest', '--check', 'monotonic'], /--check: check "monotonic" is valid in run .*, so it has no offending operation; failed checks: acked-durable$/m],
    ['an op index not in the history', ['latest', '--op', '99'], /--op: history #99 does not exist in run .* \(its history has #0–#3\); pass the history index of an offending operation$/m],
    ['an op that is not offending', ['latest', '--op', '1'], /--op: history #1 \(bot-1 collect\) is not an offending operation of any failed check in run .*; offending: #3 \(acked-durable\)$/m],
    ['an op that is not a number', ['latest', '--op', 'first'], /--op must be a non-negative integer/],
    ['a window that is not a duration', ['latest', '--window', 'soon'], /--window: "soon" is not a duration; write e\.g\./],
  ])('%s', async (_what, args, message) => {
    const result = await runCli(['explain', ...args, '--runs', runs]);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 3, stdout: '' });
    expect(result.stderr).toMatch(message);
  }, 30_000);

  it('explains the offending operation of a run id, with its player\'s backend line', async () => {
    const result = await runCli(['explain', runId, '--runs', runs, '--op', '3']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('check acked-durable failed: 1 violation; first: bot-1 seq 2 lost');
    expect(result.stdout).toMatch(/▶ +#3 +0\.210s ok +collect seq 2/);
    expect(result.stdout).toContain('+0.090s  logs/backend.log:1  {"time":"2026-12-02T10:00:00.300Z","message":"commit failed","player":"bot-1"}');
    expect(result.stdout).toMatch(/grafana: http:\/\/127\.0\.0\.1:3000\/d\/lagstorm-[0-9a-f]{16}\?orgId=1&from=\d+&to=\d+/);
  }, 30_000);
});

describe('lagstorm explain on a real run with a planted defect', () => {
  let runs: string;
  let summary: RunSummary;
  /** The check that caught the defect in this run: acked-durable or monotonic, whichever failed (both may). */
  let check: string;
  beforeAll(async () => {
    runs = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-explain-e2e-'));
    const run = await runCli(['run', 'games/reference/self-test/ack-before-commit.scenario.ts', '--seed', '1', '--out', runs, '--reporters', 'json,html,markdown'], { timeoutMs: 180_000 });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: '' });
    summary = JSON.parse(fs.readFileSync(path.join(runs, 'latest', 'summary.json'), 'utf8')) as RunSummary;
    const failed = summary.checks.filter((c) => c.valid === false).map((c) => c.name);
    check = ['acked-durable', 'monotonic'].find((name) => failed.includes(name)) ?? `none of acked-durable, monotonic failed (failed: ${failed.join(', ')})`;
  }, 200_000);
  afterAll(() => fs.rmSync(runs, { recursive: true, force: true }));

  it("`explain latest` shows the failed check's bot operations, backend and PostgreSQL log lines, and the crash active around it", async () => {
    // 30 s around an op of a 15 s run: PostgreSQL's start and shutdown lines are in the window too.
    const result = await runCli(['explain', 'latest', '--runs', runs, '--check', check, '--window', '30s']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const out = result.stdout;
    expect(out).toContain(`check ${check} failed: `);
    expect(out).toMatch(new RegExp(`── ${check}: history #\\d+ \\(first`));
    // The acked action (acked-durable) or the login that came back with less (monotonic), with its version.
    expect(out).toMatch(/▶ +#\d+ +[\d.]+s ok +\S+ (seq \d+ )?v\d+/);
    // The crash fault, the backend restarting with its player-tagged log lines, PostgreSQL's own lines with their times.
    expect(out).toMatch(/(ACTIVE at the operation|in the window|last fault before the window): backend-crash \(t1\)/);
    expect(out).toMatch(/backend log \(logs\/backend\.log;[^\n]*\n(?: {2}[+−][\d.]+s[ ≈] logs\/backend\.log:\d+ [^\n]*\n)+/);
    expect(out).toMatch(/logs\/backend\.log:\d+ +--- \S+ starting backend/);
    expect(out).toMatch(/logs\/backend\.log:\d+ +\{"time":"[^"]+","level":"info","message":"player logged in","player":"grinders-\d+"/);
    expect(out).toMatch(/logs\/postgresql\.log:\d+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC \[\d+\] LOG: +database system is ready to accept connections/);
    expect(out).toMatch(/logs\/postgresql\.log:\d+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC \[\d+\] LOG: +received fast shutdown request/);
    expect(out).toMatch(/grafana: http:\/\/127\.0\.0\.1:3000\/d\/lagstorm-[0-9a-f]{16}\?orgId=1&from=\d+&to=\d+/);
    expect(out).not.toMatch(/undefined|NaN/);
  }, 60_000);

  it('writes the same evidence into summary.json and summary.md', () => {
    const evidence = summary.explanations!.filter((e) => e.check === check);
    expect(evidence.length).toBeGreaterThan(0);
    expect(evidence[0].roles).toContain('first');
    expect(evidence.some((e) => e.backend.lines.length > 0 && e.postgres.files.includes('logs/postgresql.log'))).toBe(true);
    const markdown = fs.readFileSync(path.join(runs, 'latest', 'summary.md'), 'utf8');
    expect(markdown).toMatch(new RegExp(`<summary>${check}: history #\\d+ \\(first`));
    expect(markdown).toContain('lagstorm explain');
  });

  it('shows the evidence next to the offending operation in the HTML report, in Chromium', async () => {
    const mine = summary.explanations!.filter((e) => e.check === check);
    const first = mine.find((e) => e.roles.includes('first'))!;
    // Every offending operation of this defect is at or after the crash: its evidence shows the fault (in or before its window).
    const nearCrash = mine.find((e) => e.faults.some((fault) => fault.fault === 'backend-crash'));
    expect(nearCrash).toBeDefined();
    const seen = await withReportPage(path.join(runs, 'latest', 'report.html'), async (page, findings) => {
      const row = page.locator(`tr.check-invalid[data-check="${check}"]`);
      const firstOpen = await row.locator(`details.evidence[data-op="${first.index}"]`).getAttribute('open');
      const evidence = row.locator(`details.evidence[data-op="${nearCrash!.index}"]`);
      if ((await evidence.getAttribute('open')) === null) await evidence.locator('summary').click();
      return {
        findings,
        firstOpen,
        ops: await evidence.locator('tr.op-offending').innerText(),
        backendVisible: await evidence.locator('pre.backend-log').isVisible(),
        backend: await evidence.locator('pre.backend-log').innerText(),
        postgres: await evidence.locator('pre.postgres-log').innerText(),
        faults: await evidence.locator('ul.faults').innerText(),
        grafana: await evidence.locator('a.grafana-link').getAttribute('href'),
      };
    });
    expect(seen.findings).toEqual({ consoleErrors: [], blockedRequests: [] });
    expect(seen.firstOpen).not.toBeNull();
    expect(seen.ops).toContain(`#${nearCrash!.index}`);
    expect(seen.backendVisible).toBe(true);
    expect(seen.backend).toContain('logs/backend.log');
    expect(seen.postgres.length).toBeGreaterThan(0);
    expect(seen.faults).toContain('backend-crash (t1)');
    expect(seen.grafana).toBe(nearCrash!.grafana);
  }, 60_000);
});
