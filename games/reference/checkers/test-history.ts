/**
 * Test helper for the reference game's checkers: a tiny in-memory backend plus bots that write a Jepsen-style history and the final
 * snapshot with the real shared game logic (applyAction, checksum), so tests never hand-type
 * checksums. Planted defects model the bugs the checkers exist to catch.
 */
import type { BotEvent, ClientOp, HistoryEntry, NemesisOp } from '../../../core/history';
import type { CheckInput } from '../../../verdict/types';
import { faultWindows } from '../../../verdict/phases';
import type { FinalSnapshot } from '../rules/snapshot';
import { applyAction, applyGiftReceived, newPlayer, STARTING_GOLD, type Action, type ActionResult, type PlayerState } from '../rules/model';
import { checksum } from '../rules/checksum';

export type PlantedDefect =
  /** The server applies the action twice but logs it once (a resent action not deduplicated). */
  | 'apply-twice'
  /** The recipient of a gift is credited twice. */
  | 'double-credit'
  /** The server acks, then crashes before the commit: nothing is persisted. */
  | 'ack-before-commit';

export interface ActOptions {
  outcome?: 'ok' | 'fail' | 'info';
  /** For info (or a buggy fail): did the action reach the database anyway? (default false) */
  applied?: boolean;
  /** Invoke time; default: the builder's clock. */
  at?: number;
  /** ms the actual send lagged the intended send (coordinated omission shows up here). */
  sendLag?: number;
  latency?: number;
  seq?: number;
  defect?: PlantedDefect;
  process?: string;
}

/** A CheckInput whose final state is (typed as) the reference's snapshot, so tests can tamper with it. */
export type ReferenceCheckInput = CheckInput & { final: FinalSnapshot | undefined };

type Pending = { entry: Omit<HistoryEntry, 'index'>; order: number };

export class HistoryBuilder {
  /** The builder's clock (ms since run start); each call advances it past what it wrote. */
  now = 0;
  private readonly entries: Pending[] = [];
  private readonly states = new Map<string, PlayerState>();
  private readonly rows: FinalSnapshot['actions'] = [];
  private readonly gifts: FinalSnapshot['gifts'] = [];
  private faultCount = 0;

  /** Registers a player (newPlayer on the server) and starts its bot's session. */
  player(id: string, process = id): this {
    this.states.set(id, newPlayer(id));
    this.event({ process, player: id, f: 'session-start', time: this.now });
    return this;
  }

  state(id: string): PlayerState {
    const state = this.states.get(id);
    if (!state) throw new Error(`unknown player ${id}: call builder.player('${id}') first`);
    return state;
  }

  act(player: string, action: Action, options: ActOptions = {}): { invoke: ClientOp; completion: ClientOp; seq: number } {
    const { outcome = 'ok', latency = 5, sendLag = 0, defect, process = player } = options;
    const before = this.state(player);
    const seq = options.seq ?? before.lastSeq + 1;
    const at = options.at ?? this.now;
    const invoke: ClientOp = { index: -1, type: 'invoke', process, player, f: action.kind, seq, value: action, intendedAt: at - sendLag, time: at };
    const completion: ClientOp = { index: -1, type: outcome, process, player, f: action.kind, seq, intendedAt: at - sendLag, time: at + latency };
    const applies = outcome === 'ok' || options.applied === true;
    if (applies) {
      const { result, version, sum } = this.serverApply(player, action, seq, defect);
      if (outcome === 'ok') Object.assign(completion, { value: result, version, checksum: sum });
    }
    if (outcome === 'fail') completion.error = 'overloaded';
    if (outcome === 'info') completion.error = 'timeout: no ack';
    this.push(invoke);
    this.push(completion);
    this.now = Math.max(this.now, at + latency + 1);
    return { invoke, completion, seq };
  }

  /** A session hello → welcome; the welcome reports the server's current state. */
  login(player: string, options: { at?: number; latency?: number; resumed?: boolean; process?: string; outcome?: 'ok' | 'fail' | 'info' } = {}): { invoke: ClientOp; completion: ClientOp } {
    const { latency = 3, resumed = true, process = player, outcome = 'ok' } = options;
    const at = options.at ?? this.now;
    const state = this.state(player);
    const invoke: ClientOp = { index: -1, type: 'invoke', process, player, f: 'login', intendedAt: at, time: at };
    const completion: ClientOp = { index: -1, type: outcome, process, player, f: 'login', intendedAt: at, time: at + latency };
    if (outcome === 'ok') {
      const sum = checksum(state);
      Object.assign(completion, { value: { version: state.version, lastSeq: state.lastSeq, checksum: sum, resumed }, version: state.version, checksum: sum });
    } else {
      completion.error = 'connection refused';
    }
    this.push(invoke);
    this.push(completion);
    this.now = Math.max(this.now, at + latency + 1);
    return { invoke, completion };
  }

  /** A fault window [start, stop) in the nemesis' own entries. */
  fault(start: number, stop: number, fault = 'latency'): string {
    const id = `f${++this.faultCount}`;
    const value = { id, fault, target: 'client-link', params: {} };
    this.push({ index: -1, type: 'info', process: 'nemesis', f: 'fault-start', time: start, value } satisfies NemesisOp);
    this.push({ index: -1, type: 'info', process: 'nemesis', f: 'fault-stop', time: stop, value } satisfies NemesisOp);
    return id;
  }

  event(event: Omit<BotEvent, 'index' | 'type'>): this {
    this.push({ index: -1, type: 'event', ...event });
    return this;
  }

  /** The bot's final shadow model; by default it agrees with the server. */
  sessionEnd(player: string, options: { pendingInfo?: number; shadow?: PlayerState; at?: number; process?: string } = {}): this {
    const shadow = options.shadow ?? this.state(player);
    const time = options.at ?? this.now;
    this.event({ process: options.process ?? player, player, f: 'session-end', time, value: { version: shadow.version, checksum: checksum(shadow), pendingInfo: options.pendingInfo ?? 0 } });
    this.now = Math.max(this.now, time + 1);
    return this;
  }

  /** A gift credited to `to` without any sender's action: gold from nothing. */
  creditGiftFromNowhere(from: string, to: string, amount: number, senderSeq = 999): this {
    const credited = applyGiftReceived(this.state(to), amount);
    this.states.set(to, credited);
    this.gifts.push({ from, to, amount, senderSeq, recipientVersion: credited.version });
    return this;
  }

  /** Sorts by time (stable: an invoke stays before its completion), numbers the entries, takes the snapshot. */
  build(): { history: HistoryEntry[]; final: FinalSnapshot } {
    const sorted = [...this.entries].sort((a, b) => a.entry.time - b.entry.time || a.order - b.order);
    // Numbered in place, so the ops act() returned carry their history index.
    const history = sorted.map(({ entry }, index) => Object.assign(entry, { index }) as HistoryEntry);
    return { history, final: this.snapshot() };
  }

  /** A CheckInput over this history; lastHealAt comes from the nemesis entries. */
  input(options: Partial<Omit<ReferenceCheckInput, 'history'>> = {}): ReferenceCheckInput {
    const { history, final } = this.build();
    const lastHealAt = faultWindows(history).lastHealAt;
    return { history, final, limits: { reconnectWithinMs: 10_000 }, lastHealAt, runEndAt: this.now, ...options };
  }

  snapshot(): FinalSnapshot {
    const players = [...this.states.values()].map((state) => ({ state: structuredClone(state), checksum: checksum(state) }));
    const byReason: Record<string, number> = { 'starting-grant': STARTING_GOLD * players.length };
    let sources = byReason['starting-grant'];
    let sinks = 0;
    for (const row of this.rows) {
      if (row.result.outcome !== 'applied') continue;
      for (const entry of row.result.ledger) {
        byReason[entry.reason] = (byReason[entry.reason] ?? 0) + entry.amount;
        if (entry.kind === 'source') sources += entry.amount;
        else sinks += entry.amount;
      }
    }
    const totalGold = players.reduce((sum, p) => sum + p.state.gold, 0);
    return {
      takenAt: new Date(0).toISOString(),
      players,
      actions: structuredClone(this.rows),
      gifts: structuredClone(this.gifts),
      ledger: { sources, sinks, byReason },
      totalGold,
    };
  }

  private serverApply(player: string, action: Action, seq: number, defect: PlantedDefect | undefined): { result: ActionResult; version: number; sum: string } {
    // Idempotent seqs, like the real backend: a resend gets the stored original result.
    const stored = this.rows.find((row) => row.player === player && row.seq === seq);
    if (stored && !defect) return { result: stored.result, version: stored.version, sum: stored.checksum };
    const before = this.state(player);
    const first = applyAction(before, action, seq);
    const result = first.result;
    let state = first.state;
    if (defect === 'ack-before-commit') return { result, version: state.version, sum: checksum(state) };
    if (defect === 'apply-twice') state = applyAction(state, action, seq).state;
    this.states.set(player, state);
    this.rows.push({ player, seq, action, result, version: state.version, checksum: checksum(state) });
    if (action.kind === 'gift-send' && result.outcome === 'applied') {
      const credits = defect === 'double-credit' ? 2 : 1;
      for (let i = 0; i < credits; i++) {
        const credited = applyGiftReceived(this.state(action.to), action.amount);
        this.states.set(action.to, credited);
        this.gifts.push({ from: player, to: action.to, amount: action.amount, senderSeq: seq, recipientVersion: credited.version });
      }
    }
    return { result, version: state.version, sum: checksum(state) };
  }

  private push(entry: Omit<HistoryEntry, 'index'> | HistoryEntry): void {
    this.entries.push({ entry, order: this.entries.length });
  }
}
