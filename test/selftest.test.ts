/**
 * The verdict proves itself: `lagstorm selftest` runs every planted backend defect through its
 * scenario (must fail through the intended checker/SLO) and the correct backend through the same
 * scenarios over two seeds (must pass). Then the HTML report of a real failing run is checked in
 * a real browser. Last, the same self-test on the containers runtime must give every row the same
 * verdict for the same seed (the process rows above are reused, not run twice).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFECTS as COLYSEUS_DEFECTS } from '../games/colyseus/server/defects';
import { DEFECTS } from '../games/reference/server/defects';
import type { SelfTestRow } from '../core/selftest';
import { withReportPage } from '../reports/screenshot';
import { ensureImages } from '../stack/images/images';
import { runCli, type CliResult } from './run-cli';

/** Every bundled game's planted defects: the reference game's and the Colyseus example's. */
const ALL_DEFECTS = [...DEFECTS, ...Object.keys(COLYSEUS_DEFECTS)];

/** The process runtime's rows: checked here, then compared with the containers runtime's below. */
let rows: SelfTestRow[] = [];

describe('lagstorm selftest (real stack, every planted defect)', () => {
  let out: string;
  let result: CliResult;

  beforeAll(async () => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-selftest-'));
    result = await runCli(['selftest', '--seeds', '1,2', '--json', path.join(out, 'selftest.json'), '--out', path.join(out, 'runs')], { timeoutMs: 25 * 60_000 });
    rows = JSON.parse(fs.readFileSync(path.join(out, 'selftest.json'), 'utf8')) as SelfTestRow[];
  }, 26 * 60_000);
  // Keep the runs of a failed self-test for inspection (their paths are in the failure message).
  afterAll(() => {
    if (rows.length > 0 && rows.every((row) => row.ok)) fs.rmSync(out, { recursive: true, force: true });
  });

  it('catches every planted defect through its intended checker or SLO', () => {
    const defectRows = rows.filter((row) => row.expected === 'fail');
    expect(defectRows.map((row) => row.defect).sort()).toEqual([...ALL_DEFECTS].sort());
    for (const row of defectRows) {
      const expected = row.expectedCatcher.split(' | ');
      const caught = row.caughtBy.some((name) => expected.includes(name));
      // On a miss, show what did fail (or the run's first error) and where the run folder was.
      expect({ defect: row.defect, verdict: row.verdict, caught, ...(caught ? {} : { caughtBy: row.caughtBy, runDir: row.runDir }) }).toEqual({ defect: row.defect, verdict: 'fail', caught: true });
    }
  });

  it('passes the correct backend through the same scenarios over two seeds', () => {
    const controls = rows.filter((row) => row.expected === 'pass');
    expect(controls).toHaveLength(ALL_DEFECTS.length * 2);
    expect(controls.filter((row) => row.verdict !== 'pass').map((row) => `${row.case} seed ${row.seed}: ${row.verdict} (${row.caughtBy.join(', ')})`)).toEqual([]);
  });

  it('prints the table, exits 0 and says how many behaved as expected', () => {
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/defect\s+seed\s+expected catcher\s+caught by\s+verdict\s+ok\s+seconds/);
    expect(result.stdout).toContain(`selftest: ${rows.length}/${rows.length} as expected`);
  });

  it("shows a real failing run's failing checker and its operations in the HTML report, in Chromium", async () => {
    const failing = rows.find((row) => row.defect === 'ack-before-commit')!;
    const summary = JSON.parse(fs.readFileSync(path.join(failing.runDir, 'summary.json'), 'utf8')) as { checks: Array<{ name: string; valid: unknown; summary: string }> };
    // Whichever checker caught it in this run (acked-durable, monotonic or no-desync) must be shown with its operations.
    const invalid = summary.checks.find((check) => check.valid === false)!;
    expect(invalid).toBeDefined();
    const reportPath = path.join(failing.runDir, 'report.html');
    const seen = await withReportPage(reportPath, async (page, findings) => {
      await page.screenshot({ path: path.join(failing.runDir, 'report.png'), fullPage: true });
      const check = page.locator(`tr.check-invalid[data-check="${invalid.name}"]`);
      return {
        findings,
        banner: await page.locator('header.verdict-banner h1').innerText(),
        checkText: await check.innerText(),
        offendingVisible: await check.locator('pre.offending-op').first().isVisible(),
        charts: await page.$$eval('svg.chart', (svgs) => svgs.map((svg) => ({ panel: svg.getAttribute('data-panel'), points: Array.from(svg.querySelectorAll('path.series')).reduce((n, p) => n + Number(p.getAttribute('data-points')), 0), bands: svg.querySelectorAll('rect.fault-band').length }))),
      };
    });
    expect(seen.findings).toEqual({ consoleErrors: [], blockedRequests: [] });
    expect(seen.banner).toMatch(/FAIL — selftest-ack-before-commit \(seed 1\)/);
    expect(seen.checkText).toContain(invalid.summary.slice(0, 80));
    expect(seen.offendingVisible).toBe(true);
    const empty = seen.charts.filter((chart) => chart.points === 0).map((chart) => chart.panel);
    expect(empty).toEqual([]);
    for (const chart of seen.charts) expect(chart.bands).toBe(1); // one backend-crash window
    expect(fs.statSync(path.join(failing.runDir, 'report.png')).size).toBeGreaterThan(50_000);
  });
});

describe('lagstorm selftest --runtime containers (same seeds, same verdicts)', () => {
  let containersOut: string;
  let containerRows: SelfTestRow[] = [];
  let containersResult: CliResult;
  const key = (row: SelfTestRow) => `${row.game} ${row.defect} seed ${row.seed}${row.expected === 'pass' ? ` (${row.case})` : ''}`;

  beforeAll(async () => {
    await ensureImages();
    containersOut = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-selftest-containers-'));
    const json = path.join(containersOut, 'selftest.json');
    containersResult = await runCli(['selftest', '--runtime', 'containers', '--seeds', '1,2', '--json', json, '--out', path.join(containersOut, 'runs')], { timeoutMs: 30 * 60_000 });
    containerRows = JSON.parse(fs.readFileSync(json, 'utf8')) as SelfTestRow[];
  }, 45 * 60_000);
  afterAll(() => {
    if (containerRows.length > 0 && containerRows.every((row) => row.ok)) fs.rmSync(containersOut, { recursive: true, force: true });
  });

  it('ran every row on containers (and the process rows on processes)', () => {
    expect(containerRows.map((row) => row.runtime)).toEqual(containerRows.map(() => 'containers'));
    expect(rows.map((row) => row.runtime)).toEqual(rows.map(() => 'process'));
    expect(containerRows.map(key).sort()).toEqual(rows.map(key).sort());
  });

  it('gives every row the verdict the process runtime gave it for the same seed', () => {
    const onProcess = new Map<string, SelfTestRow>(rows.map((row) => [key(row), row]));
    const outcome = (row: SelfTestRow | undefined) => (row ? `${row.verdict}${row.ok ? '' : ' NOT OK'} (${row.caughtBy.join(', ')})` : 'no such row');
    // Caught-by lists may differ (a second checker also failing); the verdict and whether it is as expected may not.
    const differing = containerRows
      .filter((row) => row.verdict !== onProcess.get(key(row))?.verdict || row.ok !== onProcess.get(key(row))?.ok)
      .map((row) => ({ row: key(row), containers: outcome(row), process: outcome(onProcess.get(key(row))), runDir: row.runDir }));
    expect(differing).toEqual([]);
    expect(containersResult.code).toBe(0);
  });
});
