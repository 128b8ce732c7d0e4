/**
 * Runs the selected checkers over one history. A checker whose inputs the game does not provide
 * reports 'n/a' with the reason and never runs. A checker that throws (or returns garbage) yields
 * 'unknown' with the error: one broken checker never crashes the verdict.
 */
import type { GameFeatures } from '../core/game';
import type { Checker, CheckInput, CheckResult, CheckValidity, Validity } from './types';
import { checkerCatalog } from './checkers';

export interface RunCheckersOptions {
  /** What the game provides (gameFeatures(game)); decides which checkers apply. */
  features: GameFeatures;
  /** The game's own checkers (game.checkers), beside the generic ones. */
  checkers?: ReadonlyArray<Checker>;
}

export async function runCheckers(names: ReadonlyArray<string>, input: CheckInput, options: RunCheckersOptions): Promise<CheckResult[]> {
  const catalog = checkerCatalog(options.checkers);
  const results: CheckResult[] = [];
  for (const name of names) {
    const checker = catalog.get(name);
    if (!checker) {
      results.push({ name, valid: 'unknown', summary: `no checker named "${name}"`, error: `unknown checker "${name}"; known: ${catalog.names.join(', ')}` });
      continue;
    }
    const started = performance.now();
    let result: CheckResult;
    try {
      const notApplicable = checker.appliesTo?.(options.features);
      if (notApplicable !== undefined) {
        results.push({ name, valid: 'n/a', summary: `not applicable: ${notApplicable}` });
        continue;
      }
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

/** Jepsen's merge: false > unknown > true; 'n/a' is no evidence either way and is left out (an empty list is valid). */
export function mergeValidity(values: ReadonlyArray<CheckValidity>): Validity {
  let worst: Validity = true;
  for (const value of values) if (value !== 'n/a' && RANK[String(value)] > RANK[String(worst)]) worst = value;
  return worst;
}
