/**
 * Effect-based generic checkers: Jepsen's counter and bank, generalised to any game whose actions
 * declare their effects on per-player quantities.
 *
 * - acked-effects (counter): each (player, quantity)'s final value lies between the bounds its
 *   actions imply: ok effects must be in, info effects may be in, failed ones must not. Below the
 *   bounds an acknowledged change was lost; above, something was applied twice or created.
 * - transfers-conserved (bank): transfer-only quantities sum to their initial total, no balance negative.
 * - exactly-once-keys: no idempotency key applied twice, every acked one applied, no failed one.
 *
 * Each action (player, seq) counts once, however often it was resent: ok if any attempt was acked,
 * failed if every attempt failed, else unknown (info, or no completion at all). A seq whose
 * attempts were all refused is free again: a later invoke with it may be a different action.
 */
import type { ClientOp, HistoryEntry } from '../../core/history';
import { isActionOp, Offences, PlayerSeqTable, invalidResult, plural } from '../ops';
import type { Checker, CheckInput, EffectModel } from '../types';

type Status = 'ok' | 'fail' | 'unknown';

interface ActionRecord {
  invoke: ClientOp;
  status: Status;
  /** The first ok completion (its value is the server's result). */
  ok?: ClientOp;
  failed?: ClientOp;
  /** An attempt ended info: a later refusal of a resend cannot make it failed. */
  sawInfo?: boolean;
}

/** Every action of the history once, by (player, seq), with its settled status. */
function settleActions(history: ReadonlyArray<HistoryEntry>): ActionRecord[] {
  const table = new PlayerSeqTable<ActionRecord>();
  const records: ActionRecord[] = [];
  for (const entry of history) {
    if (!isActionOp(entry)) continue;
    let record = table.get(entry.player, entry.seq);
    if (entry.type === 'invoke') {
      if (!record || record.status === 'ok') {
        // An acked seq is never resent: a new invoke with it means the backend lost the acked action
        // (its resume reported a lower lastSeq) and the session reused the seq. Both count.
        record = { invoke: entry, status: 'unknown' };
        table.set(entry.player, entry.seq, record);
        records.push(record);
      } else if (record.status === 'fail') {
        // Every earlier attempt was refused, so the seq was never used: this invoke (a resend, or a
        // new action reusing the free seq) is what the key means from now on.
        record.invoke = entry;
        record.status = 'unknown';
      }
      continue;
    }
    if (!record) continue; // a completion without its invoke is not evidence of anything
    if (entry.type === 'ok') {
      if (!record.ok) record.ok = entry;
      record.status = 'ok';
    } else if (entry.type === 'fail') {
      record.failed ??= entry;
      if (record.status !== 'ok' && !record.sawInfo) record.status = 'fail';
    } else {
      record.sawInfo = true;
      if (record.status !== 'ok') record.status = 'unknown';
    }
  }
  return records;
}

interface Bound {
  low: number;
  high: number;
  /** The latest acked op that moved this quantity, and the action with the largest possible rise. */
  lastAcked?: ClientOp;
  biggestRise?: { op: ClientOp; max: number };
}

/** Per player, per quantity: the range the final value must lie in, from every settled action. */
type Bounds = Map<string, Map<string, Bound>>;

function boundsOf(records: ReadonlyArray<ActionRecord>, model: EffectModel, finals: Record<string, Record<string, number>>): Bounds {
  const bounds: Bounds = new Map();
  let lastPlayer: string | undefined;
  let lastRow: Map<string, Bound> | undefined;
  const boundOf = (player: string, quantity: string): Bound => {
    // Consecutive effects are mostly the same player's: remember its row.
    if (player !== lastPlayer) {
      lastRow = bounds.get(player);
      if (!lastRow) bounds.set(player, (lastRow = new Map()));
      lastPlayer = player;
    }
    let bound = lastRow!.get(quantity);
    if (!bound) {
      const initial = model.quantities[quantity]?.initial ?? 0;
      lastRow!.set(quantity, (bound = { low: initial, high: initial }));
    }
    return bound;
  };
  for (const [player, values] of Object.entries(finals)) for (const quantity of Object.keys(values)) if (model.quantities[quantity]) boundOf(player, quantity);
  for (const record of records) {
    if (record.status === 'fail') continue;
    const { invoke } = record;
    const effects = model.effectsOf(invoke.f, invoke.value, record.status === 'ok' ? (record.ok!.value ?? null) : undefined);
    for (const effect of effects) {
      if (!model.quantities[effect.quantity]) continue;
      const bound = boundOf(effect.player ?? invoke.player, effect.quantity);
      const min = typeof effect.delta === 'number' ? effect.delta : effect.delta.min;
      const max = typeof effect.delta === 'number' ? effect.delta : effect.delta.max;
      if (record.status === 'ok') {
        bound.low += min;
        bound.high += max;
        bound.lastAcked = record.ok;
      } else {
        bound.low += Math.min(0, min);
        bound.high += Math.max(0, max);
      }
      if (max > 0 && (!bound.biggestRise || max > bound.biggestRise.max)) bound.biggestRise = { op: record.ok ?? invoke, max };
    }
  }
  return bounds;
}

const settled = new WeakMap<ReadonlyArray<HistoryEntry>, ActionRecord[]>();
function actionsOf(history: ReadonlyArray<HistoryEntry>): ActionRecord[] {
  let records = settled.get(history);
  if (!records) settled.set(history, (records = settleActions(history)));
  return records;
}

function finalQuantitiesOf(input: CheckInput): Record<string, Record<string, number>> | undefined {
  if (input.final === undefined || !input.effects?.finalQuantities) return undefined;
  return input.effects.finalQuantities(input.final);
}

export interface EffectOffence {
  problem: 'below-acked' | 'above-attempted';
  player: string;
  quantity: string;
  final: number;
  low: number;
  high: number;
  /** below: the latest acked op that moved it; above: the action with the largest possible rise. */
  op?: { index: number; f: string; seq?: number; type: string };
}

const historyRef = (op: { index: number } | undefined): string => (op ? ` (history #${op.index})` : '');

const opRef = (op: ClientOp | undefined): EffectOffence['op'] => op && { index: op.index, f: op.f, seq: op.seq, type: op.type };

function describeEffect(o: EffectOffence): string {
  const range = o.low === o.high ? `exactly ${o.low}` : `between ${o.low} and ${o.high}`;
  const seq = o.op?.seq !== undefined ? ` seq ${o.op.seq}` : '';
  const where = o.op ? ` (${o.problem === 'below-acked' ? 'last acked change' : 'largest possible rise'}: ${o.op.f}${seq}, history #${o.op.index})` : '';
  const what = o.problem === 'below-acked' ? 'an acknowledged change was lost' : 'something was applied twice or created';
  return `${o.player}'s ${o.quantity} is ${o.final}, but the history says ${range}: ${what}${where}`;
}

export const ackedEffects: Checker = {
  name: 'acked-effects',
  description: "every player's final quantities lie within what its acked (must) and unknown (may) actions' declared effects allow",
  appliesTo: (features) => (features.effects ? undefined : 'the game declares no effects on quantities, or gives no final quantities'),
  check(input) {
    const finals = finalQuantitiesOf(input);
    if (!finals) return { name: 'acked-effects', valid: 'unknown', summary: 'no final state: cannot compare quantities with the acked effects' };
    const bounds = boundsOf(actionsOf(input.history), input.effects!, finals);
    const offences = new Offences<EffectOffence>();
    let checked = 0;
    for (const [player, row] of bounds) for (const [quantity, bound] of row) {
      checked++;
      const final = finals[player]?.[quantity] ?? input.effects!.quantities[quantity]?.initial ?? 0;
      if (final < bound.low) {
        const offence: EffectOffence = { problem: 'below-acked', player, quantity, final, low: bound.low, high: bound.high, op: opRef(bound.lastAcked) };
        offences.add(offence, bound.lastAcked?.index ?? Infinity, bound.low - final);
      } else if (final > bound.high) {
        const offence: EffectOffence = { problem: 'above-attempted', player, quantity, final, low: bound.low, high: bound.high, op: opRef(bound.biggestRise?.op) };
        offences.add(offence, bound.biggestRise?.op.index ?? Infinity, final - bound.high);
      }
    }
    const details = { quantitiesChecked: checked };
    if (offences.count === 0) return { name: 'acked-effects', valid: true, summary: `${plural(checked, 'player quantity', 'player quantities')} within the bounds of their declared effects`, details };
    return invalidResult('acked-effects', `${plural(offences.count, 'violation')}; first: ${describeEffect(offences.first!)}; worst: ${describeEffect(offences.worst!)}`, offences, details);
  },
};

export interface TransferOffence {
  problem: 'total-changed' | 'negative';
  quantity: string;
  player?: string;
  expected?: number;
  observed: number;
}

export const transfersConserved: Checker = {
  name: 'transfers-conserved',
  description: 'transfer-only quantities keep their total across all players, and no balance goes negative (bank)',
  appliesTo: (features) => (features.transfers ? undefined : 'the game declares no transfer-only quantity'),
  check(input) {
    const finals = finalQuantitiesOf(input);
    if (!finals) return { name: 'transfers-conserved', valid: 'unknown', summary: 'no final state: cannot sum the balances' };
    const model = input.effects!;
    const players = new Set(Object.keys(finals));
    for (const record of actionsOf(input.history)) players.add(record.invoke.player);
    const offences = new Offences<TransferOffence>();
    const totals: Record<string, { expected: number; observed: number }> = {};
    for (const [quantity, spec] of Object.entries(model.quantities)) {
      if (!spec.transferOnly) continue;
      let observed = 0;
      for (const player of players) {
        const value = finals[player]?.[quantity] ?? spec.initial ?? 0;
        observed += value;
        if (value < 0) offences.add({ problem: 'negative', quantity, player, observed: value }, 1, -value);
      }
      const expected = players.size * (spec.initial ?? 0);
      totals[quantity] = { expected, observed };
      if (observed !== expected) offences.add({ problem: 'total-changed', quantity, expected, observed }, 0, Math.abs(observed - expected) * 2);
    }
    const details = { players: players.size, totals };
    if (offences.count === 0) return { name: 'transfers-conserved', valid: true, summary: Object.entries(totals).map(([q, t]) => `${q}: ${t.observed} across ${plural(players.size, 'player')}, as started`).join('; '), details };
    const describe = (o: TransferOffence) => {
      if (o.problem === 'negative') return `${o.player}'s ${o.quantity} is ${o.observed}`;
      const expected = o.expected ?? 0;
      const gap = o.observed - expected;
      return `${o.quantity} sums to ${o.observed}, not ${expected} (${gap > 0 ? `+${gap} created` : `${gap} destroyed`})`;
    };
    return invalidResult('transfers-conserved', `${plural(offences.count, 'violation')}; first: ${describe(offences.first!)}`, offences, details);
  },
};

export interface KeyOffence {
  problem: 'applied-twice' | 'acked-not-applied' | 'failed-but-applied';
  player: string;
  seq: number;
  op?: { index: number; f: string; type: string };
}

export const exactlyOnceKeys: Checker = {
  name: 'exactly-once-keys',
  description: 'each idempotency key (player, seq) is applied at most once; every acked one is applied, no failed one',
  appliesTo: (features) => (features.appliedKeys ? undefined : 'the game lists no applied idempotency keys in its final state'),
  check(input) {
    if (input.final === undefined || !input.effects?.appliedKeys) return { name: 'exactly-once-keys', valid: 'unknown', summary: 'no final state: cannot list the applied keys' };
    const applied = new PlayerSeqTable<number>();
    const offences = new Offences<KeyOffence>();
    let count = 0;
    for (const { player, seq } of input.effects.appliedKeys(input.final)) {
      count++;
      const times = (applied.get(player, seq) ?? 0) + 1;
      applied.set(player, seq, times);
      if (times === 2) offences.add({ problem: 'applied-twice', player, seq }, count, 3);
    }
    let acked = 0;
    for (const record of actionsOf(input.history)) {
      const { player, seq } = record.invoke as ClientOp & { seq: number };
      const found = applied.get(player, seq) !== undefined;
      if (record.status === 'ok') {
        acked++;
        if (!found) offences.add({ problem: 'acked-not-applied', player, seq, op: opRef(record.ok) as KeyOffence['op'] }, record.ok!.index, 2);
      } else if (record.status === 'fail' && found) {
        offences.add({ problem: 'failed-but-applied', player, seq, op: opRef(record.failed) as KeyOffence['op'] }, record.failed!.index, 1);
      }
    }
    const details = { appliedKeys: count, ackedActions: acked };
    if (offences.count === 0) return { name: 'exactly-once-keys', valid: true, summary: `${plural(count, 'applied key')}, none twice; all ${plural(acked, 'acked action')} applied`, details };
    const describe = (o: KeyOffence) =>
      o.problem === 'applied-twice'
        ? `${o.player} seq ${o.seq} was applied twice`
        : o.problem === 'acked-not-applied'
          ? `${o.player} seq ${o.seq} was acked${historyRef(o.op)} but never applied`
          : `${o.player} seq ${o.seq} failed${historyRef(o.op)} but was applied`;
    return invalidResult('exactly-once-keys', `${plural(offences.count, 'violation')}; first: ${describe(offences.first!)}`, offences, details);
  },
};
