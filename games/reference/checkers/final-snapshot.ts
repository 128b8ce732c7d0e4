/**
 * The reference game's checkers read its FinalSnapshot (the admin API's /admin/snapshot). The
 * verdict hands every checker the game's final state as `unknown`; this narrows it, cheaply (the
 * shape of the top level only: a snapshot holds a million rows).
 */
import type { FinalSnapshot } from '../rules/snapshot';

/** Why `value` is not a reference FinalSnapshot, or undefined when it is one. */
export function snapshotProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}, not an object`;
  const v = value as Record<string, unknown>;
  const missing = (['players', 'actions', 'gifts'] as const).filter((key) => !Array.isArray(v[key]));
  if (missing.length) return `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not a list`;
  const ledger = v.ledger as Record<string, unknown> | null | undefined;
  if (!ledger || typeof ledger !== 'object' || typeof ledger.sources !== 'number' || typeof ledger.sinks !== 'number') return 'ledger.sources and ledger.sinks are not numbers';
  if (typeof v.totalGold !== 'number') return 'totalGold is not a number';
  return undefined;
}

export function isFinalSnapshot(value: unknown): value is FinalSnapshot {
  return snapshotProblem(value) === undefined;
}

/** The summary of a reference checker given a final state that is not the reference's snapshot. */
export function notASnapshot(value: unknown): string {
  return `the final state is not the reference game's FinalSnapshot (${snapshotProblem(value)}): is this checker listed for another game?`;
}
