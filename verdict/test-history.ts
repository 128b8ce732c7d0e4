/**
 * Test helper for the generic checkers: bots against a tiny game-less server that only counts
 * (each applied action bumps the player's version; lastSeq follows the seqs), writing a Jepsen-style
 * history. Action names are whatever the test says: the generic checkers know no game. There is no
 * final state unless a test passes one.
 */
import type { BotEvent, ClientOp, HistoryEntry, NemesisOp } from '../core/history';
import type { CheckInput } from './types';
import { faultWindows } from './phases';

export interface ActOptions {
  outcome?: 'ok' | 'fail' | 'info';
  /** For info (or a buggy fail): did the action reach the server anyway? (default false) */
  applied?: boolean;
  /** Invoke time; default: the builder's clock. */
  at?: number;
  /** ms the actual send lagged the intended send (coordinated omission shows up here). */
  sendLag?: number;
  latency?: number;
  seq?: number;
  /** The server acks, then crashes before the commit: the ack's version is lost. */
  defect?: 'ack-before-commit';
  process?: string;
}

interface ServerState {
  version: number;
  lastSeq: number;
  /** seq → version of the actions the server applied (a resend gets the original's). */
  applied: Map<number, number>;
}

type Pending = { entry: Omit<HistoryEntry, 'index'>; order: number };

/** A stand-in for a game's checksum of a player's state: the generic checkers only compare them. */
export const fakeChecksum = (player: string, version: number): string => `${player}@${version}`;

export class HistoryBuilder {
  /** The builder's clock (ms since run start); each call advances it past what it wrote. */
  now = 0;
  private readonly entries: Pending[] = [];
  private readonly states = new Map<string, ServerState>();
  private faultCount = 0;

  /** Registers a player on the server and starts its bot's session. */
  player(id: string, process = id): this {
    this.states.set(id, { version: 0, lastSeq: 0, applied: new Map() });
    this.event({ process, player: id, f: 'session-start', time: this.now });
    return this;
  }

  state(id: string): { version: number; lastSeq: number } {
    const state = this.states.get(id);
    if (!state) throw new Error(`unknown player ${id}: call builder.player('${id}') first`);
    return state;
  }

  /** One action named `action` (or `action.kind`, recorded as the invoke's value). */
  act(player: string, action: string | { kind: string; [param: string]: unknown }, options: ActOptions = {}): { invoke: ClientOp; completion: ClientOp; seq: number } {
    const { outcome = 'ok', latency = 5, sendLag = 0, defect, process = player } = options;
    const state = this.states.get(player);
    if (!state) throw new Error(`unknown player ${player}: call builder.player('${player}') first`);
    const f = typeof action === 'string' ? action : action.kind;
    const seq = options.seq ?? state.lastSeq + 1;
    const at = options.at ?? this.now;
    const invoke: ClientOp = { index: -1, type: 'invoke', process, player, f, seq, value: typeof action === 'string' ? undefined : action, intendedAt: at - sendLag, time: at };
    const completion: ClientOp = { index: -1, type: outcome, process, player, f, seq, intendedAt: at - sendLag, time: at + latency };
    if (outcome === 'ok' || options.applied === true) {
      let version = state.applied.get(seq);
      if (version === undefined) {
        version = state.version + 1;
        if (defect !== 'ack-before-commit') {
          state.version = version;
          state.lastSeq = Math.max(state.lastSeq, seq);
          state.applied.set(seq, version);
        }
      }
      if (outcome === 'ok') Object.assign(completion, { value: { outcome: 'applied' }, version, checksum: fakeChecksum(player, version) });
    }
    if (outcome === 'fail') completion.error = 'overloaded';
    if (outcome === 'info') completion.error = 'timeout: no ack';
    this.push(invoke);
    this.push(completion);
    this.now = Math.max(this.now, at + latency + 1);
    return { invoke, completion, seq };
  }

  /** A session hello → welcome; the welcome reports the server's current version and lastSeq. */
  login(player: string, options: { at?: number; latency?: number; resumed?: boolean; process?: string; outcome?: 'ok' | 'fail' | 'info' } = {}): { invoke: ClientOp; completion: ClientOp } {
    const { latency = 3, resumed = true, process = player, outcome = 'ok' } = options;
    const at = options.at ?? this.now;
    const state = this.state(player);
    const invoke: ClientOp = { index: -1, type: 'invoke', process, player, f: 'login', intendedAt: at, time: at };
    const completion: ClientOp = { index: -1, type: outcome, process, player, f: 'login', intendedAt: at, time: at + latency };
    if (outcome === 'ok') {
      const sum = fakeChecksum(player, state.version);
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

  /** The bot's final shadow; by default it agrees with the server. */
  sessionEnd(player: string, options: { pendingInfo?: number; shadow?: { version: number; checksum: string }; at?: number; process?: string } = {}): this {
    const version = this.state(player).version;
    const shadow = options.shadow ?? { version, checksum: fakeChecksum(player, version) };
    const time = options.at ?? this.now;
    this.event({ process: options.process ?? player, player, f: 'session-end', time, value: { version: shadow.version, checksum: shadow.checksum, pendingInfo: options.pendingInfo ?? 0 } });
    this.now = Math.max(this.now, time + 1);
    return this;
  }

  /** Sorts by time (stable: an invoke stays before its completion) and numbers the entries. */
  build(): { history: HistoryEntry[] } {
    const sorted = [...this.entries].sort((a, b) => a.entry.time - b.entry.time || a.order - b.order);
    // Numbered in place, so the ops act() returned carry their history index.
    return { history: sorted.map(({ entry }, index) => Object.assign(entry, { index }) as HistoryEntry) };
  }

  /** A CheckInput over this history (no final state unless given); lastHealAt comes from the nemesis entries. */
  input(options: Partial<Omit<CheckInput, 'history'>> = {}): CheckInput {
    const { history } = this.build();
    const lastHealAt = faultWindows(history).lastHealAt;
    return { history, limits: { reconnectWithinMs: 10_000 }, lastHealAt, runEndAt: this.now, ...options };
  }

  private push(entry: Omit<HistoryEntry, 'index'> | HistoryEntry): void {
    this.entries.push({ entry, order: this.entries.length });
  }
}
