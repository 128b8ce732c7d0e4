/**
 * The generic checkers (they work on any game, from the history and the game's features) and the
 * catalog a run picks from: these plus the game's own.
 */
import type { Checker } from '../types';
import { ackedEffects, exactlyOnceKeys, transfersConserved } from './effects';
import { noDesync, noDesyncChecker } from './no-desync';
import { monotonic } from './monotonic';
import { recovery } from './recovery';

/** Every generic checker, in report order. */
export const GENERIC_CHECKERS: ReadonlyArray<Checker> = [ackedEffects, transfersConserved, exactlyOnceKeys, noDesync, monotonic, recovery];

export interface CheckerCatalog {
  /** Every checker a scenario of this game may name: the game's own first, then the generic ones. */
  readonly names: ReadonlyArray<string>;
  get(name: string): Checker | undefined;
}

/**
 * The checkers of one game: the generic ones plus the game's own. A game checker named like a
 * generic one takes its place (a refinement, e.g. a no-desync that also compares final shadows with
 * the game's final state). Throws when the game lists two checkers under one name: a plug-in bug.
 */
export function checkerCatalog(gameCheckers: ReadonlyArray<Checker> = []): CheckerCatalog {
  const own = new Map<string, Checker>();
  for (const checker of gameCheckers) {
    if (own.has(checker.name)) throw new Error(`the game lists two checkers named "${checker.name}": give each checker its own name`);
    own.set(checker.name, checker);
  }
  const generic = new Set(GENERIC_CHECKERS.map((checker) => checker.name));
  const ordered = [...gameCheckers.filter((checker) => !generic.has(checker.name)), ...GENERIC_CHECKERS.map((checker) => own.get(checker.name) ?? checker)];
  const byName = new Map(ordered.map((checker) => [checker.name, checker]));
  return { names: ordered.map((checker) => checker.name), get: (name) => byName.get(name) };
}

export { ackedEffects, transfersConserved, exactlyOnceKeys, noDesync, noDesyncChecker, monotonic, recovery };
