/**
 * A second game through the full CLI: the counter test plug-in (test/fixtures/counter-game) runs
 * with a link fault and a backend crash and gets a real verdict from its own checker, and the
 * generic checkers it cannot feed show n/a. Its planted defect fails the run through that checker.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli';

const SCENARIO = path.join('test', 'fixtures', 'counter-game', 'counter.scenario.ts');

interface Summary {
  game: string;
  verdict: string;
  errors: string[];
  checks: Array<{ name: string; valid: unknown; summary: string }>;
  faults: Array<{ fault: string; healed: boolean }>;
  stats: { actions: { ok: number } };
}

describe('a game plug-in that is not the reference game', () => {
  let out: string;
  beforeEach(() => (out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-counter-'))));
  afterEach(() => fs.rmSync(out, { recursive: true, force: true }));
  const summaryOf = (): Summary => JSON.parse(fs.readFileSync(path.join(fs.realpathSync(path.join(out, 'latest')), 'summary.json'), 'utf8')) as Summary;

  it('runs through faults to a pass judged by its own checker, with n/a for what it cannot feed', async () => {
    const result = await runCli(['run', SCENARIO, '--seed', '3', '--out', out], { timeoutMs: 120_000 });
    const summary = summaryOf();
    expect({ code: result.code, verdict: summary.verdict, errors: summary.errors }).toEqual({ code: 0, verdict: 'pass', errors: [] });
    expect(summary.game).toBe('counter');
    expect(Object.fromEntries(summary.checks.map((check) => [check.name, check.valid]))).toEqual({
      counter: true,
      'acked-effects': true,
      'transfers-conserved': 'n/a',
      'exactly-once-keys': 'n/a',
      'no-desync': 'n/a',
      monotonic: 'n/a',
      recovery: true,
    });
    expect(summary.faults.map((fault) => [fault.fault, fault.healed])).toEqual([
      ['latency', true],
      ['backend-crash', true],
    ]);
    expect(summary.stats.actions.ok).toBeGreaterThan(50);
    expect(result.stdout).toMatch(/no-desync.*n\/a/);
  }, 150_000);

  it('fails the run through its checker when the backend loses acknowledged increments', async () => {
    const result = await runCli(['run', SCENARIO, '--seed', '3', '--defect', 'lost-ack', '--out', out], { timeoutMs: 120_000 });
    const summary = summaryOf();
    expect({ code: result.code, verdict: summary.verdict }).toEqual({ code: 1, verdict: 'fail' });
    const counter = summary.checks.find((check) => check.name === 'counter');
    expect(counter).toMatchObject({ valid: false, summary: expect.stringMatching(/counter\(s\) out of bounds; first: clickers-\d+'s counter is \d+, outside \[\d+, \d+\]/) });
    // The generic checker sees the same loss from the declared effects alone.
    const generic = summary.checks.find((check) => check.name === 'acked-effects');
    expect(generic).toMatchObject({ valid: false, summary: expect.stringMatching(/counter is \d+, but the history says (exactly \d+|between \d+ and \d+): an acknowledged change was lost/) });
  }, 150_000);
});
