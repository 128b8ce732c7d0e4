/**
 * Did each fault bite, through the real CLI on the real stack: a fault held too briefly to bite
 * (failing-archiver for 1.5 s, no WAL segment completed) and a latency toxic on a link no bot uses
 * are reported "did not bite" and make the verdict error (exit 2); the latency on the bots' link
 * is reported with its measured effect. Under `faults.ifNoEffect: 'warn'` the same run passes with
 * warnings.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunSummary } from '../core/summary';
import { runCli } from './run-cli';

const scenario = (ifNoEffect: 'error' | 'warn') => ({
  name: `efficacy-${ifNoEffect}`,
  duration: '6s',
  recovery: { window: '2s', reconnectWithin: '5s' },
  bots: { grinders: { profile: 'grinder', count: 6, ramp: '500ms' } }, // IPv4 only: nobody crosses bots-backend-v6
  faults: {
    ifNoEffect,
    timeline: [
      { at: '1s', duration: '2s', fault: 'latency', params: { link: 'bots-backend', latency: 80 } },
      { at: '1s', duration: '1500ms', fault: 'failing-archiver' },
      { at: '3500ms', duration: '1500ms', fault: 'latency', params: { link: 'bots-backend-v6', latency: 80 } },
    ],
  },
});

describe('fault efficacy through lagstorm run (real stack)', () => {
  let out: string;
  beforeEach(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-efficacy-'));
  });
  afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

  async function run(ifNoEffect: 'error' | 'warn') {
    const file = path.join(out, `efficacy-${ifNoEffect}.json`);
    fs.writeFileSync(file, JSON.stringify(scenario(ifNoEffect)));
    const result = await runCli(['run', file, '--seed', '5', '--out', out]);
    const runDir = fs.realpathSync(path.join(out, 'latest'));
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as RunSummary;
    return { result, runDir, summary };
  }

  it('reports the faults that did not bite, with what was measured, and the verdict is error (exit 2)', async () => {
    const { result, runDir, summary } = await run('error');
    expect({ code: result.code, verdict: summary.verdict, errors: summary.errors, failing: summary.checks.filter((c) => c.valid !== true && c.valid !== 'n/a').map((c) => c.name) }).toEqual({
      code: 2,
      verdict: 'error',
      errors: [],
      failing: [],
    });
    const [latency, archiver, idleLink] = summary.faults;
    expect(latency).toMatchObject({ id: 't1', fault: 'latency', healed: true, efficacy: { bit: true, effect: expect.stringMatching(/^\d+(\.\d)? K?B crossed bots-backend while delayed by 80 ms \(downstream\)$/) } });
    expect(archiver).toMatchObject({
      id: 't2',
      fault: 'failing-archiver',
      healed: true,
      observations: { failedCount: 0 },
      efficacy: { bit: false, effect: expect.stringMatching(/^no archive attempt failed: no WAL segment was completed while it held/), proof: 'archive attempts that failed while it held (pg_stat_archiver.failed_count)' },
    });
    expect(idleLink).toMatchObject({ id: 't3', fault: 'latency', observations: { bytesThroughLink: 0 }, efficacy: { bit: false, effect: 'no data crossed bots-backend-v6 while the toxic was on' } });
    expect(summary.warnings).toBeUndefined();

    expect(result.stdout).toMatch(/✓ fault t1 latency bit: .* crossed bots-backend while delayed by 80 ms/);
    expect(result.stdout).toContain('✗ fault t2 failing-archiver did not bite: no archive attempt failed');
    expect(result.stdout).toContain('✗ fault t3 latency did not bite: no data crossed bots-backend-v6 while the toxic was on');
    expect(fs.readFileSync(path.join(runDir, 'summary.md'), 'utf8')).toContain('| failing-archiver | t2 |');
    expect(fs.readFileSync(path.join(runDir, 'summary.md'), 'utf8')).toMatch(/\| \*\*did not bite: no archive attempt failed[^|]*\*\* \|/);
    const junit = fs.readFileSync(path.join(runDir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuite name="faults" tests="3" failures="0" errors="2"/);
    expect(junit).toContain('<testcase classname="lagstorm.faults" name="t2 failing-archiver" time="0">');
    expect(fs.readFileSync(path.join(runDir, 'report.html'), 'utf8')).toContain('<td class="effect broken" title="proved by: archive attempts that failed while it held (pg_stat_archiver.failed_count)">did not bite: no archive attempt failed');
  }, 120_000);

  it("passes with warnings when the scenario says faults.ifNoEffect: 'warn'", async () => {
    const { result, summary } = await run('warn');
    expect({ code: result.code, verdict: summary.verdict, errors: summary.errors }).toEqual({ code: 0, verdict: 'pass', errors: [] });
    expect(summary.faults.map((fault) => fault.efficacy?.bit)).toEqual([true, false, false]);
    expect(summary.warnings).toEqual([expect.stringMatching(/^fault t2 \(failing-archiver\) did not bite: /), 'fault t3 (latency) did not bite: no data crossed bots-backend-v6 while the toxic was on']);
    expect(result.stdout).toContain('~ warning: fault t2 failing-archiver did not bite');
  }, 120_000);
});
