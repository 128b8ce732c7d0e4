/**
 * Wire messages (JSON over WebSocket) between a game client (a bot) and the reference backend.
 * The prose specification is backend/PROTOCOL.md; these types are its machine-readable half.
 */
import type { Action, ActionResult, PlayerState } from './model';

export const PROTOCOL_VERSION = 1;

export type ClientMessage =
  | { t: 'hello'; playerId: string; resumeToken?: string; protocol?: number }
  | { t: 'action'; seq: number; action: Action }
  | { t: 'read' }
  | { t: 'ping'; id: number };

/** Typed errors; backend/PROTOCOL.md says which of them guarantee "not applied". */
export const ERROR_CODES = [
  'malformed', // not JSON, unknown type, bad fields
  'not-logged-in', // action before hello
  'bad-token', // resume token does not match
  'out-of-order', // seq skips ahead of lastSeq + 1
  'overloaded', // load shed: queue full, try later
  'unavailable', // database unreachable after retries
  'shutting-down', // draining on SIGTERM
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export type ServerMessage =
  | { t: 'welcome'; state: PlayerState; checksum: string; resumeToken: string; resumed: boolean; serverTime: number }
  | {
      t: 'ack';
      seq: number;
      result: ActionResult;
      version: number;
      checksum: string;
      /** true when this seq was applied before and this is the stored original result */
      duplicate: boolean;
      serverTime: number;
    }
  | { t: 'push'; kind: 'gift-received'; from: string; amount: number; version: number; checksum: string; serverTime: number }
  | { t: 'state'; state: PlayerState; checksum: string }
  | { t: 'error'; code: ErrorCode; message: string; seq?: number; expectedSeq?: number; retryable: boolean }
  | { t: 'pong'; id: number; serverTime: number };
