import type { FaultRecord } from '../core/summary';
import { decideVerdict, withholdLivenessFailures } from './verdict';
import type { CheckResult, SloResult } from './types';

const check = (valid: CheckResult['valid']): CheckResult => ({ name: 'conservation', valid, summary: `conservation is ${valid}` });
const slo = (ok: SloResult['ok']): SloResult => ({ metric: 'action_rtt', phase: 'fault', limit: 'p(99)<50ms', observed: ok === 'unknown' ? null : 40, unit: 'ms', ok, samples: 3 });

describe('decideVerdict', () => {
  it('passes only when every check and SLO holds and the harness had no error', () => {
    expect(decideVerdict({ checks: [check(true)], slos: [slo(true)], errors: [] })).toEqual({ verdict: 'pass', exitCode: 0, reasons: [], warnings: [] });
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

describe('decideVerdict with faults that did not bite', () => {
  const fault = (id: string, bit: boolean | undefined): FaultRecord => ({
    id,
    fault: 'failing-archiver',
    params: {},
    startedAt: 0,
    stoppedAt: 2000,
    healed: true,
    ...(bit === undefined ? {} : { efficacy: { bit, effect: bit ? '3 archive attempts failed' : 'no archive attempt failed', proof: 'pg_stat_archiver.failed_count' } }),
  });

  it('is an error (2) by default: the run did not test what it claims', () => {
    const decision = decideVerdict({ checks: [check(true)], slos: [slo(true)], errors: [], faults: [fault('t1', true), fault('t2', false)] });
    expect(decision).toMatchObject({ verdict: 'error', exitCode: 2, warnings: [] });
    expect(decision.reasons).toEqual(['fault t2 (failing-archiver) did not bite: no archive attempt failed']);
  });

  it("is only a warning under ifNoEffect 'warn', and a fault that bit (or was not judged) weighs nothing", () => {
    const decision = decideVerdict({ checks: [check(true)], slos: [slo(true)], errors: [], faults: [fault('t1', true), fault('t2', false)], ifNoEffect: 'warn' });
    expect(decision).toEqual({ verdict: 'pass', exitCode: 0, reasons: [], warnings: ['fault t2 (failing-archiver) did not bite: no archive attempt failed'] });
    expect(decideVerdict({ checks: [check(true)], slos: [], errors: [], faults: [fault('t1', true), fault('t3', undefined)] })).toMatchObject({ verdict: 'pass', exitCode: 0 });
  });

  it('never hides a failed check: fail (1) stays fail', () => {
    expect(decideVerdict({ checks: [check(false)], slos: [], errors: [], faults: [fault('t2', false)] })).toMatchObject({ verdict: 'fail', exitCode: 1 });
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

describe("checks that do not apply ('n/a')", () => {
  const notApplicable: CheckResult = { name: 'no-desync', valid: 'n/a', summary: 'not applicable: the game has no shadow model' };

  it('pass a run whose only non-pass is n/a (exit 0), never as unknown', () => {
    expect(decideVerdict({ checks: [check(true), notApplicable], slos: [slo(true)], errors: [] })).toEqual({ verdict: 'pass', exitCode: 0, reasons: [], warnings: [] });
    expect(decideVerdict({ checks: [notApplicable], slos: [], errors: [] })).toEqual({ verdict: 'pass', exitCode: 0, reasons: [], warnings: [] });
  });

  it('hide neither a failure nor an unknown beside them', () => {
    expect(decideVerdict({ checks: [notApplicable, check(false)], slos: [], errors: [] })).toMatchObject({ verdict: 'fail', exitCode: 1, reasons: ['check conservation failed: conservation is false'] });
    expect(decideVerdict({ checks: [notApplicable, check('unknown')], slos: [], errors: [] })).toMatchObject({ verdict: 'error', exitCode: 2, reasons: ['check conservation is unknown: conservation is unknown'] });
  });

  it('stay n/a when liveness failures are withheld', () => {
    const recoveryNa: CheckResult = { name: 'recovery', valid: 'n/a', summary: 'not applicable: no reason' };
    const withheld = withholdLivenessFailures({ checks: [notApplicable, recoveryNa], slos: [] }, 'the run was stopped early');
    expect(withheld.checks.map((c) => c.valid)).toEqual(['n/a', 'n/a']);
    expect(decideVerdict({ ...withheld, errors: [] }).exitCode).toBe(0);
  });
});
