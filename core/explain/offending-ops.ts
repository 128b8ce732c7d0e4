/**
 * Which history entry each offence of a failed check points at. Checkers record offences in their
 * own shapes (verdict/ops.ts keeps the first, the worst and a few examples); an offence is located
 * by, in order: a history `index` on itself or on its `op` / `event`; a player and a seq (its own,
 * its log `row`'s or its replay `divergence.row`'s, or a gift's sender and senderSeq); a player alone
 * (its last operation).
 */
import type { CheckResult } from '../../verdict/types';
import { isClientOp, type HistoryEntry } from '../history';
import type { Anchor } from './types';

export interface LocatedOffence {
  check: string;
  roles: string[];
  offence: unknown;
  /** The entry it points at, or undefined when the offence names no operation and no player. */
  entry?: HistoryEntry;
  anchor?: Anchor;
}

type Loose = Record<string, unknown> | undefined;

const asObject = (value: unknown): Loose => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined);
const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const asNumber = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) ? value : undefined);

/** The offences a failed check recorded, each once (first, worst and examples often coincide), with their roles. */
export function offencesOf(check: CheckResult): Array<{ offence: unknown; roles: string[] }> {
  const found: Array<{ offence: unknown; roles: string[]; key: string }> = [];
  const add = (offence: unknown, role: string) => {
    if (offence === undefined) return;
    const key = JSON.stringify(offence) ?? String(offence);
    const same = found.find((item) => item.key === key);
    if (same) {
      if (!same.roles.includes(role)) same.roles.push(role);
    } else found.push({ offence, roles: [role], key });
  };
  add(check.first, 'first');
  add(check.worst, 'worst');
  const examples = asObject(check.details)?.examples;
  if (Array.isArray(examples)) for (const example of examples) add(example, 'example');
  return found.map(({ offence, roles }) => ({ offence, roles }));
}

/** Looks entries up by history index and by player, building each table once. */
export class HistoryIndex {
  private byPlayer?: Map<string, number[]>;
  private byProcess?: Map<string, number[]>;
  readonly players = new Set<string>();

  constructor(readonly history: ReadonlyArray<HistoryEntry>) {
    for (const entry of history) if ('player' in entry && typeof entry.player === 'string') this.players.add(entry.player);
  }

  at(index: number): HistoryEntry | undefined {
    const entry = this.history[index];
    // history.jsonl is numbered by position; fall back to a search if a file was edited by hand.
    return entry?.index === index ? entry : this.history.find((candidate) => candidate.index === index);
  }

  /** Positions (in `history`) of the entries of one player's or one process's ops and events. */
  positionsOf(key: 'player' | 'process', id: string): number[] {
    const table = key === 'player' ? (this.byPlayer ??= this.group('player')) : (this.byProcess ??= this.group('process'));
    return table.get(id) ?? [];
  }

  private group(key: 'player' | 'process'): Map<string, number[]> {
    const table = new Map<string, number[]>();
    this.history.forEach((entry, position) => {
      if (entry.process === 'nemesis') return;
      const id = (entry as { player?: string; process: string })[key];
      if (id === undefined) return;
      let list = table.get(id);
      if (!list) table.set(id, (list = []));
      list.push(position);
    });
    return table;
  }
}

function entryNamedBy(offence: Loose, history: HistoryIndex): HistoryEntry | undefined {
  for (const candidate of [offence, asObject(offence?.op), asObject(offence?.event)]) {
    const index = asNumber(candidate?.index);
    if (index === undefined) continue;
    const entry = history.at(index);
    if (entry && entry.process !== 'nemesis') return entry;
  }
  return undefined;
}

/** The action (player, seq): its ok completion, else its last completion, else its invoke. */
function actionEntry(history: HistoryIndex, player: string, seq: number): HistoryEntry | undefined {
  let best: HistoryEntry | undefined;
  for (const position of history.positionsOf('player', player)) {
    const entry = history.history[position];
    if (!isClientOp(entry) || entry.seq !== seq) continue;
    if (entry.type === 'ok') return entry;
    if (!best || entry.type !== 'invoke') best = entry;
  }
  return best;
}

export function locateOffence(offence: unknown, history: HistoryIndex): { entry: HistoryEntry; anchor: Anchor } | undefined {
  const loose = asObject(offence);
  const named = entryNamedBy(loose, history);
  if (named) return { entry: named, anchor: 'operation' };
  const gift = asObject(loose?.gift);
  // A log row the offence names, or the row where a replay first diverged (the reference's exactly-once).
  const row = asObject(loose?.row) ?? asObject(asObject(loose?.divergence)?.row);
  const keys: Array<[string | undefined, number | undefined]> = [
    [asString(gift?.from), asNumber(gift?.senderSeq)],
    [asString(loose?.player) ?? asString(row?.player), asNumber(loose?.seq) ?? asNumber(row?.seq)],
  ];
  for (const [player, seq] of keys) {
    if (player === undefined || seq === undefined) continue;
    const entry = actionEntry(history, player, seq);
    if (entry) return { entry, anchor: 'player-seq' };
  }
  const player = asString(loose?.player);
  if (player !== undefined) {
    const positions = history.positionsOf('player', player);
    for (let i = positions.length - 1; i >= 0; i--) {
      const entry = history.history[positions[i]];
      if (isClientOp(entry)) return { entry, anchor: 'player-last-op' };
    }
  }
  return undefined;
}

/** Every offence of every failed check (or only `checks`), located in the history. */
export function locateOffences(checks: ReadonlyArray<CheckResult>, history: HistoryIndex): LocatedOffence[] {
  return checks
    .filter((check) => check.valid === false)
    .flatMap((check) =>
      offencesOf(check).map(({ offence, roles }) => {
        const located = locateOffence(offence, history);
        return { check: check.name, roles, offence, ...(located ?? {}) };
      }),
    );
}
