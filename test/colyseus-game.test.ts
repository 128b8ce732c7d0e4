/**
 * A third-party game server, tested for real: the Colyseus example (games/colyseus) through the
 * real CLI. The correct server passes a run with latency, database link cuts and a backend crash,
 * judged by the generic effect checkers alone; each planted defect fails its self-test scenario
 * through the generic checker that must catch it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readHistoryAll } from '../core/history-file';
import { runCli } from './run-cli';

const GAME = path.join('games', 'colyseus');

interface Summary {
  game: string;
  verdict: string;
  errors: string[];
  checks: Array<{ name: string; valid: unknown; summary: string }>;
  faults: Array<{ fault: string; healed: boolean }>;
  stats: { actions: { ok: number }; reconnects: number };
}

describe('the Colyseus example game', () => {
  let out: string;
  beforeEach(() => (out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-colyseus-'))));
  afterEach(() => fs.rmSync(out, { recursive: true, force: true }));
  const summaryOf = (): Summary => JSON.parse(fs.readFileSync(path.join(fs.realpathSync(path.join(out, 'latest')), 'summary.json'), 'utf8')) as Summary;
  const validity = (summary: Summary) => Object.fromEntries(summary.checks.map((check) => [check.name, check.valid]));

  it('passes latency, database link cuts and a crash with the correct server, judged by the generic checkers', async () => {
    const result = await runCli(['run', path.join(GAME, 'colyseus.scenario.ts'), '--seed', '3', '--out', out], { timeoutMs: 150_000 });
    const summary = summaryOf();
    expect({ code: result.code, verdict: summary.verdict, errors: summary.errors }).toEqual({ code: 0, verdict: 'pass', errors: [] });
    expect(summary.game).toBe('colyseus');
    expect(validity(summary)).toEqual({
      'acked-effects': true,
      'transfers-conserved': true,
      'exactly-once-keys': true,
      'no-desync': 'n/a',
      monotonic: 'n/a',
      recovery: true,
    });
    expect(summary.faults.map((fault) => [fault.fault, (fault as { params?: { link?: string } }).params?.link, fault.healed])).toEqual([
      ['latency', 'bots-backend', true],
      ['link-down', 'backend-db', true],
      ['link-down', 'bots-backend', true],
      ['backend-crash', undefined, true],
      ['link-down', 'backend-db', true],
    ]);
    expect(summary.stats.actions.ok).toBeGreaterThan(200);
    expect(summary.stats.reconnects).toBeGreaterThan(0);
    // Logins through Colyseus: fresh joins, and after the cut players' link, reconnects to held seats.
    const logins = (await readHistoryAll(fs.realpathSync(path.join(out, 'latest'))))
      .filter((entry) => entry.f === 'login' && entry.type === 'ok')
      .map((entry) => (entry.value as { resumed: boolean }).resumed);
    expect(logins.filter((resumed) => !resumed).length).toBeGreaterThanOrEqual(14);
    expect(logins.filter((resumed) => resumed).length).toBeGreaterThan(0);
  }, 180_000);

  it('catches save-on-leave: a crash loses acknowledged changes (acked-effects, exactly-once-keys)', async () => {
    const result = await runCli(['run', path.join(GAME, 'self-test', 'save-on-leave.scenario.ts'), '--seed', '1', '--out', out], { timeoutMs: 150_000 });
    const summary = summaryOf();
    expect({ code: result.code, verdict: summary.verdict }).toEqual({ code: 1, verdict: 'fail' });
    // After the crash bots reuse the lost seqs for other actions, so a quantity may land below or above its bounds.
    expect(summary.checks.find((check) => check.name === 'acked-effects')).toMatchObject({ valid: false, summary: expect.stringMatching(/an acknowledged change was lost|something was applied twice or created/) });
    expect(summary.checks.find((check) => check.name === 'exactly-once-keys')).toMatchObject({ valid: false, summary: expect.stringMatching(/was acked \(history #\d+\) but never applied/) });
  }, 180_000);

  it('catches nonatomic-transfer: a cut database link between the legs destroys gems (transfers-conserved)', async () => {
    const result = await runCli(['run', path.join(GAME, 'self-test', 'nonatomic-transfer.scenario.ts'), '--seed', '1', '--out', out], { timeoutMs: 150_000 });
    const summary = summaryOf();
    expect({ code: result.code, verdict: summary.verdict }).toEqual({ code: 1, verdict: 'fail' });
    expect(summary.checks.find((check) => check.name === 'transfers-conserved')).toMatchObject({ valid: false, summary: expect.stringMatching(/gems sums to \d+, not \d+ \(-\d+ destroyed\)/) });
  }, 180_000);
});
