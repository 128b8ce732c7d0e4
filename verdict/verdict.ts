/**
 * The run's verdict: any failed check or SLO → 'fail' (exit 1); else any unknown check or SLO, any
 * harness error, or (by default) a fault that did not bite → 'error' (exit 2), never a pass; else
 * 'pass' (exit 0). A check that does not apply to the game ('n/a') weighs nothing: it is never unknown.
 */
import { efficacyWords, faultsWithoutEffect, type FaultRecord, type Verdict } from '../core/summary';
import { isLivenessCheck, type CheckResult, type SloResult } from './types';
import { ExitCode } from '../core/exit-codes';

export interface VerdictDecision {
  verdict: Verdict;
  exitCode: 0 | 1 | 2;
  /** One line per reason the verdict is not 'pass'. */
  reasons: string[];
  /** What did not weigh on the verdict but should be read (faults that did not bite, under 'warn'). */
  warnings: string[];
}

/** What a fault that did not bite does to the verdict (scenario `faults.ifNoEffect`). */
export type NoEffectPolicy = 'error' | 'warn';

export function decideVerdict(input: {
  checks: ReadonlyArray<CheckResult>;
  slos: ReadonlyArray<SloResult>;
  errors: ReadonlyArray<string>;
  /** Judged faults: one with `efficacy.bit` false did not bite. */
  faults?: ReadonlyArray<FaultRecord>;
  ifNoEffect?: NoEffectPolicy;
}): VerdictDecision {
  // The run did not test what it claims when a fault had no effect: as undecidable as an unknown check.
  const toothless = faultsWithoutEffect(input.faults ?? []).map((fault) => `fault ${fault.id} (${fault.fault}) ${efficacyWords(fault.efficacy!)}`);
  const warnings = (input.ifNoEffect ?? 'error') === 'warn' ? toothless : [];
  const failed: string[] = [];
  const undecided: string[] = [];
  for (const check of input.checks) {
    if (check.valid === false) failed.push(`check ${check.name} failed: ${check.summary}`);
    else if (check.valid !== true && check.valid !== 'n/a') undecided.push(`check ${check.name} is unknown: ${check.summary}`);
  }
  for (const slo of input.slos) {
    const label = `SLO ${slo.metric}[${slo.phase}] ${slo.limit}`;
    if (slo.ok === false) failed.push(`${label} failed: observed ${slo.observed === null ? 'no value' : `${slo.observed}${slo.unit === 'ms' ? 'ms' : ''}`}`);
    else if (slo.ok !== true) undecided.push(`${label} is unknown${slo.note ? `: ${slo.note}` : ''}`);
  }
  if (warnings.length === 0) undecided.push(...toothless);
  if (failed.length) return { verdict: 'fail', exitCode: ExitCode.verdictFailed, reasons: failed, warnings };
  const errors = input.errors.map((error) => `harness error: ${error}`);
  if (undecided.length || errors.length) return { verdict: 'error', exitCode: ExitCode.harnessError, reasons: [...errors, ...undecided], warnings };
  return { verdict: 'pass', exitCode: ExitCode.pass, reasons: [], warnings };
}

/**
 * Liveness measured on a run that was stopped early or whose load generator saturated says nothing
 * about the backend: an SLO or `recovery` breach there becomes 'unknown' (verdict 'error', never a
 * false 'fail'). Safety checks (nothing lost, nothing twice, conservation…) still fail such a run.
 */
export function withholdLivenessFailures(
  input: { checks: ReadonlyArray<CheckResult>; slos: ReadonlyArray<SloResult> },
  reason: string | undefined,
): { checks: CheckResult[]; slos: SloResult[] } {
  if (!reason) return { checks: [...input.checks], slos: [...input.slos] };
  const note = `not judged: ${reason}`;
  return {
    checks: input.checks.map((check) => (isLivenessCheck(check.name) && check.valid === false ? { ...check, valid: 'unknown', summary: `${note} (was: ${check.summary})` } : check)),
    slos: input.slos.map((slo) => (slo.ok === false ? { ...slo, ok: 'unknown', note } : slo)),
  };
}
