/**
 * A GameClient for the most common game protocol: JSON messages over one WebSocket, each request
 * carrying an id its reply echoes. The plug-in says what a login and an action request look like
 * and how to read a reply; the helper does the link: open through `context.openWebSocket`, the
 * connect and login timeouts, matching replies to requests by id, an optional heartbeat, and a
 * dead link settling every pending request as info (its effect is unknown) after `onLinkLost`.
 * Action timeouts are the bot session's. No Node APIs: it runs where the bot core runs.
 */
import { LoginError, type ActionCall, type GameClient, type GameClientContext, type GameConnection, type LoginResult, type Outcome } from '../core/game';
import type { WebSocketLike } from '../core/websocket-like';
import { SmallMap } from '../core/small-map';

/** A reply the link could not deliver: the request's effect is unknown. */
export interface LostReply {
  lost: true;
  error: string;
}

export interface WebSocketJsonOptions<Reply> {
  /** Where to connect; default `context.url` (the bots-backend proxy). */
  url?: string;
  /** The login (or resume) request's body; the helper adds the id. */
  login(options: { resume: boolean }): Record<string, unknown>;
  /** A login reply → the LoginResult, or `{ refused: why }` when the server said no (a fail, not a retry-worthy info). */
  loginResult(reply: Reply): LoginResult | { refused: string };
  /** An action's request body; the helper adds the id. Send `call.seq` as the idempotency key. */
  request(call: ActionCall): Record<string, unknown>;
  /** A reply → ok / fail / info (info: it may or may not have taken effect, e.g. "retry later"). */
  classify(reply: Reply, call: ActionCall): Outcome;
  /** The field that carries the request id in both directions; default 'id'. */
  idField?: string;
  /** A message that answers no pending request (a server push). */
  onPush?(message: Reply): void;
  /** A request body to send every `timing.pingIntervalMs`; no reply within `timing.pongTimeoutMs` = a dead link. Off by default. */
  heartbeat?(): Record<string, unknown>;
}

type Settle<Reply> = (reply: Reply | LostReply) => void;

/** Whether a reply is the helper's stand-in for one the dead link never delivered. */
export function isLost(reply: unknown): reply is LostReply {
  return typeof reply === 'object' && reply !== null && (reply as { lost?: unknown }).lost === true;
}

/** One link: a socket, its pending requests by id, and how it ends (once). */
class JsonLink<Reply> {
  private readonly pending = new SmallMap<number, Settle<Reply>>();
  private nextId = 1;
  private ended = false;
  private timer: unknown;
  private deadline: unknown;
  /** Called once when the link dies by itself (not when we close it). */
  onDeath: (reason: string) => void = () => undefined;

  constructor(
    readonly socket: WebSocketLike,
    private readonly context: GameClientContext,
    private readonly options: WebSocketJsonOptions<Reply>,
  ) {
    const idField = options.idField ?? 'id';
    socket.onmessage = (event) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(String(event.data)) as Record<string, unknown>;
      } catch {
        return this.die('unreadable message (not JSON)');
      }
      const id = message?.[idField];
      const settle = typeof id === 'number' ? this.pending.get(id) : undefined;
      if (!settle) return options.onPush?.(message as Reply);
      this.pending.delete(id as number);
      settle(message as Reply);
    };
    socket.onclose = (event) => this.die(`closed ${event.code}${event.reason ? ` ${event.reason}` : ''}`);
    socket.onerror = () => this.die('socket error');
  }

  request(body: Record<string, unknown>): Promise<Reply | LostReply> {
    if (this.ended) return Promise.resolve({ lost: true, error: 'link closed' });
    return new Promise((settle) => {
      const id = this.nextId++;
      this.pending.set(id, settle);
      this.socket.send(JSON.stringify({ [this.options.idField ?? 'id']: id, ...body }));
    });
  }

  /** Every `interval`: a heartbeat request that must be answered within `timeout`. */
  startHeartbeat(body: () => Record<string, unknown>, interval: number, timeout: number): void {
    const clock = this.context.clock;
    const beat = (): void => {
      if (this.ended) return;
      this.deadline = clock.setTimeout(() => this.die('pong timeout'), timeout);
      void this.request(body()).then(() => {
        clock.clearTimeout(this.deadline);
        if (!this.ended) this.timer = clock.setTimeout(beat, interval);
      });
    };
    this.timer = clock.setTimeout(beat, interval);
  }

  /** The link died by itself: tell the owner first, then settle what was pending as lost. */
  die(reason: string): void {
    if (this.ended) return;
    this.onDeath(reason);
    this.end(reason);
    (this.socket.terminate ?? this.socket.close).call(this.socket);
  }

  /** Closes the link from our side; pending requests settle as lost; onDeath is not called. */
  close(reason: string): void {
    if (this.ended) return;
    this.end(reason);
    this.socket.onclose = null;
    this.socket.onerror = () => undefined;
    try {
      this.socket.close();
    } catch {
      // already gone
    }
  }

  private end(reason: string): void {
    this.ended = true;
    this.context.clock.clearTimeout(this.timer);
    this.context.clock.clearTimeout(this.deadline);
    const pending = this.pending.values();
    this.pending.clear();
    for (const settle of pending) settle({ lost: true, error: reason });
  }
}

/** A GameClient over WebSocket JSON with request ids (see the options for what the plug-in supplies). */
export function webSocketJsonClient<Reply = Record<string, unknown>>(context: GameClientContext, options: WebSocketJsonOptions<Reply>): GameClient {
  // Methods, not arrows, for what each bot keeps: see noPeer in bots/core/session.ts.
  return {
    connect({ resume, onLoginSent, onLinkLost }) {
      return new Promise((resolve, reject) => {
        const { clock, timing } = context;
        let link: JsonLink<Reply>;
        try {
          link = new JsonLink(context.openWebSocket(options.url ?? context.url), context, options);
        } catch (error) {
          return reject(new LoginError('info', `connect: ${(error as Error).message}`));
        }
        let loggedIn = false;
        let loginTimer: unknown;
        const connectTimer = clock.setTimeout(() => link.die('connect timeout'), timing.connectTimeoutMs);
        // Before the login settles a dead link fails the connect; after it, the session hears of it.
        link.onDeath = (reason) => {
          clock.clearTimeout(connectTimer);
          clock.clearTimeout(loginTimer);
          if (loggedIn) onLinkLost(reason);
          else reject(new LoginError('info', reason));
        };
        link.socket.onopen = () => {
          clock.clearTimeout(connectTimer);
          loginTimer = clock.setTimeout(() => link.die('login timeout'), timing.helloTimeoutMs);
          onLoginSent();
          void link.request(options.login({ resume })).then((reply) => {
            clock.clearTimeout(loginTimer);
            if (isLost(reply)) return reject(new LoginError('info', reply.error));
            let result: LoginResult | { refused: string };
            try {
              result = options.loginResult(reply);
            } catch (error) {
              link.close('login reply not understood');
              return reject(new LoginError('info', `login reply not understood: ${(error as Error).message}`));
            }
            if ('refused' in result) {
              link.close('login refused');
              return reject(new LoginError('fail', result.refused));
            }
            loggedIn = true;
            if (options.heartbeat) link.startHeartbeat(options.heartbeat, timing.pingIntervalMs, timing.pongTimeoutMs);
            const connection: GameConnection = {
              async invoke(call) {
                const reply = await link.request(options.request(call));
                return isLost(reply) ? { type: 'info', error: reply.error } : options.classify(reply, call);
              },
              close(_graceful, reason) {
                link.close(reason ?? 'closed');
              },
            };
            resolve({ login: result, connection });
          });
        };
      });
    },
  };
}
