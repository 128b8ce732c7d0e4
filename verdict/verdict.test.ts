import { decideVerdict, withholdLivenessFailures } from './verdict';
import type { CheckResult, SloResult } from './types';

const check = (valid: CheckResult['valid']): CheckResult => ({ name: 'conservation', valid, summary: `conservation is ${valid}` });
const slo = (ok: SloResult['ok']): SloResult => ({ metric: 'action_rtt', phase: 'fault', limit: 'p(99)<50ms', observed: ok === 'unknown' ? null : 40, unit: 'ms', ok, samples: 3 });

describe('decideVerdict', () => {
  it('passes only when every check and SLO holds and the harness had no error', () => {
    expect(decideVerdict({ checks: [check(true)], slos: [slo(true)], errors: [] })).toEqual({ verdict: 'pass', exitCode: 0, reasons: [] });
  });

  it('fails (1) on any false check or SLO, even alongside unknowns and harness errors', () => {
    expect(decideVerdict({ checks: [check(false)], slos: [slo(true)], errors: [] })).toMatchObject({ verdict: 'fail', exitCode: 1 });
    const decision = decideVerdict({ checks: [check('unknown')], slos: [slo(false)], errors: ['toxiproxy died'] });
    expect(decision).toMatchObject({ verdict: 'fail', exitCode: 1 });
    expect(decision.reasons).toEqual(['SLO action_rtt[fault] p(99)<50ms failed: observed 40ms']);
  });

  it('is an error (2), never a pass, on an unknown check or SLO or a harness error', () => {
    expect(decideVerdict({ checks: [check('unknown')], slos: [slo(true)], errors: [] })).toMatchObject({ verdict: 'error', exitCode: 2 });
    expect(decideVerdict({ checks: [check(true)], slos: [slo('unknown')], errors: [] })).toMatchObject({ verdict: 'error', exitCode: 2 });
    const decision = decideVerdict({ checks: [check(true)], slos: [], errors: ['the final snapshot timed out'] });
    expect(decision).toMatchObject({ verdict: 'error', exitCode: 2 });
    expect(decision.reasons).toEqual(['harness error: the final snapshot timed out']);
  });
});

describe('withholdLivenessFailures', () => {
  const stoppedEarly = 'the run was stopped early';
  it('turns SLO and recovery breaches of an invalid run into unknowns, so a dead proxy gives error (2), not fail (1)', () => {
    const recovery: CheckResult = { name: 'recovery', valid: false, summary: '3 players never reconnected' };
    const withheld = withholdLivenessFailures({ checks: [check(true), recovery], slos: [slo(false), slo(true)] }, stoppedEarly);
    expect(withheld.slos.map((s) => s.ok)).toEqual(['unknown', true]);
    expect(withheld.slos[0].note).toBe('not judged: the run was stopped early');
    expect(withheld.checks.map((c) => c.valid)).toEqual([true, 'unknown']);
    expect(withheld.checks[1].summary).toMatch(/not judged.*3 players never reconnected/);
    expect(decideVerdict({ ...withheld, errors: ['toxiproxy died'] })).toMatchObject({ verdict: 'error', exitCode: 2 });
  });

  it('leaves a valid run alone, and never hides a failed safety check', () => {
    expect(withholdLivenessFailures({ checks: [], slos: [slo(false)] }, undefined).slos.map((s) => s.ok)).toEqual([false]);
    const withheld = withholdLivenessFailures({ checks: [check(false)], slos: [slo(false)] }, stoppedEarly);
    expect(decideVerdict({ ...withheld, errors: ['toxiproxy died'] })).toMatchObject({ verdict: 'fail', exitCode: 1 });
  });
});

describe('the verdict over a real history', () => {
  it('fails a run whose backend applied a resent action twice, and passes the same run without the defect', async () => {
    const { runCheckers } = await import('./run-checkers');
    const { evaluateSlos } = await import('./slo');
    const { faultWindows } = await import('./phases');
    const { HistoryBuilder } = await import('./test-history');
    const { CHECK_NAMES } = await import('./types');
    const play = (defect?: 'apply-twice') => {
      const b = new HistoryBuilder().player('a').player('b');
      b.act('a', { kind: 'collect' });
      b.act('b', { kind: 'buy', item: 'potion' }, { defect });
      b.act('a', { kind: 'gift-send', to: 'b', amount: 9 });
      b.sessionEnd('a').sessionEnd('b');
      return b.input();
    };
    for (const [defect, verdict] of [[undefined, 'pass'], ['apply-twice', 'fail']] as const) {
      const input = play(defect);
      const checks = await runCheckers(CHECK_NAMES, input);
      const slos = evaluateSlos({ action_rtt: 'p(99)<1s' }, input.history, faultWindows(input.history));
      expect(decideVerdict({ checks, slos, errors: [] }).verdict).toBe(verdict);
      if (defect) expect(checks.filter((c) => c.valid === false).map((c) => c.name)).toEqual(expect.arrayContaining(['exactly-once', 'conservation']));
    }
  });
});
