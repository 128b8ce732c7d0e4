/**
 * The subset of the WHATWG WebSocket the bot core uses, so the same bot runs on `ws` in Node, on a
 * browser WebSocket, or bundled for k6. Handlers are bivariant (the React "bivarianceHack") so
 * `ws`'s WebSocket, whose handlers take richer event objects, is assignable as is.
 */
type Listener<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

export interface MessageEventLike {
  data: unknown;
}
export interface CloseEventLike {
  code: number;
  reason: string;
}

export interface WebSocketLike {
  readonly readyState: number;
  onopen: Listener<unknown> | null;
  onmessage: Listener<MessageEventLike> | null;
  onclose: Listener<CloseEventLike> | null;
  onerror: Listener<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** Non-standard (`ws`): drop the TCP connection without a closing handshake. */
  terminate?(): void;
}

export const WS_OPEN = 1;

/** Opens a socket to `url`; in Node: `(url) => new WebSocket(url, { perMessageDeflate: false })` from `ws`. */
export type WebSocketFactory = (url: string) => WebSocketLike;
