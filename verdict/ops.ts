/**
 * Small shared pieces of the checkers (the generic ones and a game's own): which ops are actions, a
 * (player, seq) table, pairing invokes with completions, and a collector that keeps the first and
 * the worst offence in O(1).
 */
import { isClientOp, type ClientOp, type HistoryEntry } from '../core/history';
import type { CheckResult } from './types';

/**
 * An action is a client op that carries a seq (its idempotency key), whatever the game names it;
 * the harness's `login` and a client's own reads carry none.
 */
export function isActionOp(entry: HistoryEntry): entry is ClientOp & { seq: number } {
  return isClientOp(entry) && entry.seq !== undefined;
}

/**
 * A (player, seq) → value table: one array per player indexed by seq. Seqs are small, dense
 * integers, so this avoids building a million string keys (V8 falls back to a dictionary for
 * sparse or odd indices, so any seq still works).
 */
export class PlayerSeqTable<T> {
  private readonly byPlayer = new Map<string, T[]>();
  private lastPlayer: string | undefined;
  private lastRow: T[] | undefined;

  get(player: string, seq: number): T | undefined {
    return this.row(player, false)?.[seq];
  }

  set(player: string, seq: number, value: T): void {
    this.row(player, true)![seq] = value;
  }

  /** Consecutive lookups are mostly for the same player: remember the last row. */
  private row(player: string, create: boolean): T[] | undefined {
    if (player === this.lastPlayer) return this.lastRow;
    let row = this.byPlayer.get(player);
    if (!row) {
      if (!create) return undefined;
      this.byPlayer.set(player, (row = []));
    }
    this.lastPlayer = player;
    this.lastRow = row;
    return row;
  }
}

export interface PairedOp {
  invoke: ClientOp;
  completion: ClientOp;
}

/**
 * Pairs every completion with its invoke (same process+player+f+seq) in one pass. Invokes left
 * without a completion are `open`: Jepsen treats them as info (outcome unknown). A bot has only a
 * few ops in flight, so a short per-process list beats building a string key per op.
 */
export function pairOps(history: ReadonlyArray<HistoryEntry>): { pairs: PairedOp[]; open: ClientOp[]; orphanCompletions: number } {
  const pending = new Map<string, ClientOp[]>();
  const pairs: PairedOp[] = [];
  const open: ClientOp[] = [];
  let orphanCompletions = 0;
  let lastProcess: string | undefined;
  let lastList: ClientOp[] | undefined;
  for (const entry of history) {
    if (entry.type === 'event' || entry.process === 'nemesis') continue;
    const op = entry as ClientOp;
    let list: ClientOp[] | undefined;
    if (op.process === lastProcess) list = lastList;
    else {
      list = pending.get(op.process);
      if (!list) pending.set(op.process, (list = []));
      lastProcess = op.process;
      lastList = list;
    }
    const at = findPending(list!, op);
    if (op.type === 'invoke') {
      // Re-invoked before completing: the older invoke can never be completed now.
      if (at >= 0) open.push(takeAt(list!, at));
      list!.push(op);
    } else if (at < 0) orphanCompletions++;
    else pairs.push({ invoke: takeAt(list!, at), completion: op });
  }
  for (const list of pending.values()) open.push(...list);
  return { pairs, open, orphanCompletions };
}

function findPending(list: ClientOp[], op: ClientOp): number {
  for (let i = list.length - 1; i >= 0; i--) {
    const candidate = list[i];
    if (candidate.f === op.f && candidate.seq === op.seq && candidate.player === op.player) return i;
  }
  return -1;
}

function takeAt(list: ClientOp[], i: number): ClientOp {
  const op = list[i];
  list[i] = list[list.length - 1];
  list.pop();
  return op;
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
