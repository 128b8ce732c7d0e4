/** What a bot hands to its sink: history entries without their global index (the recorder assigns it). */
import type { BotEvent, ClientOp, HistoryEntry, NemesisOp } from '../../core/history';

type WithoutIndex<T> = T extends unknown ? Omit<T, 'index'> : never;
export type HistoryDraft = WithoutIndex<HistoryEntry>;
export type ClientOpDraft = Omit<ClientOp, 'index'>;
export type BotEventDraft = Omit<BotEvent, 'index'>;
export type NemesisOpDraft = Omit<NemesisOp, 'index'>;

export interface BotSink {
  record(entry: HistoryDraft): void;
}

/** Timeouts and retry policy of a session (ms). */
export interface SessionTiming {
  /** Send a ping when nothing arrived for this long. */
  pingIntervalMs: number;
  /** No message this long after a ping: the link is dead. */
  pongTimeoutMs: number;
  /** The socket must open this soon. */
  connectTimeoutMs: number;
  /** The welcome must arrive this soon after hello. */
  helloTimeoutMs: number;
  /** An action without ack this long: info, and the link is treated as dead (reconnect, resend). */
  actionTimeoutMs: number;
  /** Full-jitter backoff: delay = random(0, min(cap, base * 2^failures)). */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Consecutive failed reconnect attempts before giving up ('gave-up' event). */
  maxReconnectAttempts: number;
  /** A buffered out-of-order version must be filled this soon, else 'desync'. */
  versionGapTimeoutMs: number;
  /** On stop: how long an in-flight op may still complete before it is recorded as info. */
  stopGraceMs: number;
  /**
   * Actions a bot may have in flight at once (pipelining, as real clients that stream actions
   * without waiting for each ack); 1 = wait for each outcome before the next send.
   */
  maxInFlight: number;
}

export const DEFAULT_TIMING: SessionTiming = {
  pingIntervalMs: 5000,
  pongTimeoutMs: 3000,
  connectTimeoutMs: 5000,
  helloTimeoutMs: 5000,
  actionTimeoutMs: 10_000,
  backoffBaseMs: 200,
  backoffCapMs: 5000,
  maxReconnectAttempts: 20,
  versionGapTimeoutMs: 2000,
  stopGraceMs: 1000,
  maxInFlight: 1,
};
