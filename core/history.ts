/**
 * The run's history, Jepsen-style: every client action is an `invoke` followed by exactly one
 * completion (`ok` took effect, `fail` did not, `info` unknown: it may take effect any time later).
 * Faults are entries of the `nemesis` process in the same history. Written as history.jsonl.gz
 * (core/history-file.ts).
 */
export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/**
 * What a client op did: an action name of the game ('collect', 'gift-send', ...), or one of the
 * harness's own: 'login' (log in or resume) and whatever the game's client records itself ('read').
 * An action is the op that carries a `seq`.
 */
export type ClientOpKind = string;

export interface ClientOp {
  /** Position in the merged history, assigned when the history is sealed. */
  index: number;
  type: OpType;
  process: string; // the bot id
  player: string;
  f: ClientOpKind;
  /** Client sequence number of an action (absent for login/read). */
  seq?: number;
  /** The action's parameters on invoke; the server's result on completion. */
  value?: unknown;
  /** ms since run start: when the op should have been sent (no coordinated omission). */
  intendedAt: number;
  /** ms since run start: when it was actually sent (invoke) or completed (completion). */
  time: number;
  /** On ok: the player's state version and checksum the server returned. */
  version?: number;
  checksum?: string;
  /** On fail/info: why. */
  error?: string;
}

export interface NemesisOp {
  index: number;
  type: 'info';
  process: 'nemesis';
  f: 'fault-start' | 'fault-stop';
  /** ms since run start. */
  time: number;
  value: { id: string; fault: string; target: string; params: Record<string, unknown>; error?: string };
}

/** Bot-side findings that are not operations but checkers need: desyncs, give-ups, reconnects. */
export interface BotEvent {
  index: number;
  type: 'event';
  process: string;
  player: string;
  f: 'desync' | 'gave-up' | 'reconnected' | 'session-start' | 'session-end';
  time: number;
  value?: unknown;
}

export type HistoryEntry = ClientOp | NemesisOp | BotEvent;

export function isClientOp(entry: HistoryEntry): entry is ClientOp {
  return entry.type !== 'event' && entry.process !== 'nemesis';
}
export function isNemesisOp(entry: HistoryEntry): entry is NemesisOp {
  return entry.process === 'nemesis';
}
