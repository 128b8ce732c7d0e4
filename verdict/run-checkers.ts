/**
 * Runs the selected checkers over one history. A checker that throws (or returns garbage) yields
 * 'unknown' with the error: one broken checker never crashes the verdict.
 */
import type { Checker, CheckInput, CheckName, CheckResult, Validity } from './types';
import { CHECKERS } from './checkers';

export async function runCheckers(names: ReadonlyArray<CheckName>, input: CheckInput, registry: Readonly<Record<string, Checker>> = CHECKERS): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const name of names) {
    const checker = registry[name];
    const started = performance.now();
    if (!checker) {
      results.push({ name, valid: 'unknown', summary: `no checker named "${name}"`, error: `unknown checker "${name}"; known: ${Object.keys(registry).join(', ')}` });
      continue;
    }
    let result: CheckResult;
    try {
      result = await checker.check(input);
      if (!result || (result.valid !== true && result.valid !== false && result.valid !== 'unknown')) {
        throw new Error(`returned ${JSON.stringify(result?.valid)} instead of true, false or 'unknown'`);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      result = { name, valid: 'unknown', summary: `checker crashed: ${message}`, error: error instanceof Error && error.stack ? error.stack : message };
    }
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    results.push({ ...result, name, details: { ...result.details, durationMs } });
  }
  return results;
}

const RANK: Record<string, number> = { false: 2, unknown: 1, true: 0 };

/** Jepsen's merge: false > unknown > true (an empty list is valid). */
export function mergeValidity(values: ReadonlyArray<Validity>): Validity {
  let worst: Validity = true;
  for (const value of values) if (RANK[String(value)] > RANK[String(worst)]) worst = value;
  return worst;
}
