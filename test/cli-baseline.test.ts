/**
 * `lagstorm run --baseline`: a release gate against a past run of the same scenario, through the
 * real binary and real stacks. The "slow build" is the same scenario with the backend lingering
 * 60 ms before every group commit, so its regression is real, not faked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli';

/** This file's runs: the real binary, two minutes each at most. */
const lagstorm = (args: string[], timeoutMs = 120_000) => runCli(args, { timeoutMs });

describe('lagstorm run --baseline (real stacks)', () => {
  let dir: string;
  const scenario = (name: string, backendArgs: string[] = []) => {
    const file = path.join(dir, `${name}-${backendArgs.length ? 'slow' : 'fast'}.json`);
    fs.writeFileSync(
      file,
      JSON.stringify({ name, duration: '4s', recovery: { window: '1s' }, bots: { grinders: { profile: 'grinder', count: 6, ramp: '300ms' } }, checks: ['conservation'], backend: { args: backendArgs } }),
    );
    return file;
  };
  const summaryOf = (out: string) => JSON.parse(fs.readFileSync(path.join(fs.realpathSync(path.join(out, 'latest')), 'summary.json'), 'utf8'));
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-baseline-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('passes a build like the baseline and fails one whose action latency regressed, naming the metric', async () => {
    const out = path.join(dir, 'runs');
    const first = await lagstorm(['run', scenario('gate'), '--seed', '2', '--out', out, '--reporters', 'json']);
    expect(first.code).toBe(0);
    const baselineDir = fs.realpathSync(path.join(out, 'latest'));

    // Same build again: within a generous tolerance (CI machines are noisy; the slow build is ~10x).
    const same = await lagstorm(['run', scenario('gate'), '--seed', '2', '--out', out, '--reporters', 'json', '--baseline', baselineDir, '--max-regression', '200', '--regression-floor', '20']);
    const sameSummary = summaryOf(out);
    if (same.code !== 0) console.error(same.stdout, JSON.stringify(sameSummary.slos, null, 2));
    expect(same.code).toBe(0);
    expect(sameSummary.slos.map((slo: { metric: string }) => slo.metric)).toEqual(expect.arrayContaining(['baseline:action_rtt.p50', 'baseline:action_rtt.p99', 'baseline:error_ratio']));

    const slow = await lagstorm(['run', scenario('gate', ['--group-commit-ms', '60']), '--seed', '2', '--out', out, '--reporters', 'json', '--baseline', path.join(baselineDir, 'summary.json'), '--max-regression', '200', '--regression-floor', '20']);
    const slowSummary = summaryOf(out);
    expect(slow.code).toBe(1);
    expect(slowSummary.verdict).toBe('fail');
    const broken = slowSummary.slos.filter((slo: { ok: unknown }) => slo.ok === false).map((slo: { metric: string; phase: string }) => `${slo.metric}[${slo.phase}]`);
    expect(broken).toContain('baseline:action_rtt.p50[baseline]');
  }, 240_000);

  it.each([
    ['a missing baseline', (d: string) => ['--baseline', path.join(d, 'nope')], /--baseline: .*nope\/summary\.json not found; pass a finished run folder/],
    ['a file that is not a summary', (d: string) => ['--baseline', path.join(d, 'not-a-summary.json')], /--baseline: .*not-a-summary\.json is not a lagstorm run summary to compare with \(runId: .*\)/],
    ['a run that failed', (d: string) => ['--baseline', path.join(d, 'failed-summary.json')], /verdict: the baseline run did not pass; gate against a passing run/],
    ['a run of another scenario', (d: string) => ['--baseline', path.join(d, 'other-summary.json')], /--baseline is a run of scenario "other", this is "gate": compare runs of the same scenario/],
    ['--max-regression without --baseline', () => ['--max-regression', '10'], /--max-regression only applies with --baseline <run>/],
  ])('%s: exit 3 naming the flag, and nothing run', async (_case, flags, message) => {
    const summary = { runId: 'x', scenario: 'other', verdict: 'pass', stats: { actions: { invoked: 10, fail: 0 }, latencyByPhase: {} }, slos: [] };
    fs.writeFileSync(path.join(dir, 'not-a-summary.json'), JSON.stringify({ hello: 1 }));
    fs.writeFileSync(path.join(dir, 'other-summary.json'), JSON.stringify(summary));
    fs.writeFileSync(path.join(dir, 'failed-summary.json'), JSON.stringify({ ...summary, scenario: 'gate', verdict: 'fail' }));
    const out = path.join(dir, 'bad-runs');
    const result = await lagstorm(['run', scenario('gate'), '--out', out, ...flags(dir)]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(message);
    expect(fs.existsSync(out)).toBe(false);
  });
});
