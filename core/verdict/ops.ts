/**
 * Small shared pieces of the checkers: which ops are actions, keys for (player, seq), pairing
 * invokes with completions, and a collector that keeps the first and the worst offence in O(1).
 */
import type { ClientOp, HistoryEntry } from '../history';
import type { CheckResult } from './types';
import type { ActionResult } from '../../backend/shared/model';

export const ACTION_OPS = new Set<string>(['collect', 'buy', 'upgrade', 'gift-send']);

export function isActionOp(entry: HistoryEntry): entry is ClientOp {
  return entry.type !== 'event' && entry.process !== 'nemesis' && ACTION_OPS.has(entry.f);
}

export function isCompletion(entry: HistoryEntry): entry is ClientOp {
  return (entry.type === 'ok' || entry.type === 'fail' || entry.type === 'info') && entry.process !== 'nemesis';
}

/** One key per (player, seq); the NUL byte cannot occur in a player id that came through JSON text we wrote. */
export function seqKey(player: string, seq: number): string {
  return `${player}\u0000${seq}`;
}

function pairKey(op: ClientOp): string {
  return `${op.process}\u0000${op.player}\u0000${op.f}\u0000${op.seq ?? ''}`;
}

export interface PairedOp {
  invoke: ClientOp;
  completion: ClientOp;
}

/**
 * Pairs every completion with its invoke (same process+player+f+seq) in one pass. Invokes left
 * without a completion are `open`: Jepsen treats them as info (outcome unknown).
 */
export function pairOps(history: ReadonlyArray<HistoryEntry>): { pairs: PairedOp[]; open: ClientOp[]; orphanCompletions: number } {
  const pending = new Map<string, ClientOp>();
  const pairs: PairedOp[] = [];
  let orphanCompletions = 0;
  for (const entry of history) {
    if (entry.type === 'event' || entry.process === 'nemesis') continue;
    const op = entry as ClientOp;
    const key = pairKey(op);
    if (op.type === 'invoke') {
      pending.set(key, op);
      continue;
    }
    const invoke = pending.get(key);
    if (!invoke) {
      orphanCompletions++;
      continue;
    }
    pending.delete(key);
    pairs.push({ invoke, completion: op });
  }
  return { pairs, open: [...pending.values()], orphanCompletions };
}

/** Structural equality of two action results (cheaper than canonical JSON on a million rows). */
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

/**
 * Keeps the count, the first (lowest order, e.g. history index) and the worst (highest severity)
 * offence, plus a few examples, without storing them all.
 */
export class Offences<T> {
  count = 0;
  first: T | undefined;
  worst: T | undefined;
  readonly examples: T[] = [];
  private firstOrder = Infinity;
  private worstSeverity = -Infinity;
  private worstOrder = Infinity;

  constructor(private readonly maxExamples = 10) {}

  add(item: T, order: number, severity = 0): void {
    this.count++;
    if (order < this.firstOrder) {
      this.firstOrder = order;
      this.first = item;
    }
    if (severity > this.worstSeverity || (severity === this.worstSeverity && order < this.worstOrder)) {
      this.worstSeverity = severity;
      this.worstOrder = order;
      this.worst = item;
    }
    if (this.examples.length < this.maxExamples) this.examples.push(item);
  }
}

export function invalidResult<T>(name: string, summary: string, offences: Offences<T>, details: Record<string, unknown> = {}): CheckResult {
  return {
    name,
    valid: false,
    summary,
    first: offences.first,
    worst: offences.worst,
    offendingCount: offences.count,
    details: { ...details, examples: offences.examples },
  };
}

export function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}
