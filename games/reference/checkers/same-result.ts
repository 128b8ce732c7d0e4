import type { ActionResult } from '../rules/model';

/** Structural equality of two reference action results (cheaper than canonical JSON on a million rows). */
export function sameResult(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return false;
  const x = a as ActionResult;
  const y = b as ActionResult;
  if (x.outcome !== y.outcome) return false;
  if (x.outcome === 'rejected') return x.reason === (y as typeof x).reason;
  const yApplied = y as typeof x;
  if (x.goldDelta !== yApplied.goldDelta) return false;
  const xl = x.ledger ?? [];
  const yl = yApplied.ledger ?? [];
  if (xl.length !== yl.length) return false;
  for (let i = 0; i < xl.length; i++) {
    if (xl[i].kind !== yl[i].kind || xl[i].reason !== yl[i].reason || xl[i].amount !== yl[i].amount) return false;
  }
  return true;
}
