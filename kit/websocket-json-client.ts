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

/**
 * The protocol, described once for all bots: every callback gets the bot's context, so a plug-in can
 * keep one options object at module level (per-bot closures cost memory in a 50 000-bot fleet).
 */
export interface WebSocketJsonOptions<Reply> {
  /** Where to connect; default `context.url` (the bots-backend proxy). */
  url?: string;
  /** The login (or resume) request's body; the helper adds the id. */
  login(options: { resume: boolean }, context: GameClientContext): Record<string, unknown>;
  /** A login reply → the LoginResult, or `{ refused: why }` when the server said no (a fail, not a retry-worthy info). */
  loginResult(reply: Reply, context: GameClientContext): LoginResult | { refused: string };
  /** An action's request body; the helper adds the id. Send `call.seq` as the idempotency key. */
  request(call: ActionCall, context: GameClientContext): Record<string, unknown>;
  /** A reply → ok / fail / info (info: it may or may not have taken effect, e.g. "retry later"). */
  classify(reply: Reply, call: ActionCall, context: GameClientContext): Outcome;
  /** The field that carries the request id in both directions; default 'id'. */
  idField?: string;
  /** A message that answers no pending request (a server push). */
  onPush?(message: Reply, context: GameClientContext): void;
  /** A request body to send every `timing.pingIntervalMs`; no reply within `timing.pongTimeoutMs` = a dead link. Off by default. */
  heartbeat?(context: GameClientContext): Record<string, unknown>;
}

type Settle<Reply> = (reply: Reply | LostReply) => void;
type Connected = { login: LoginResult; connection: GameConnection };

/** Whether a reply is the helper's stand-in for one the dead link never delivered. */
export function isLost(reply: unknown): reply is LostReply {
  return typeof reply === 'object' && reply !== null && (reply as { lost?: unknown }).lost === true;
}

/**
 * One link: a socket, its pending requests by id, the connect and login, and how it ends (once).
 * Once logged in it is the bot's GameConnection, so a connected bot keeps this object and its socket only.
 */
class JsonLink<Reply> implements GameConnection {
  private readonly pending = new SmallMap<number, Settle<Reply>>();
  private readonly idField: string;
  private nextId = 1;
  private ended = false;
  /** The connect, then the login, deadline; after the login, the heartbeat's next beat. */
  private timer: unknown;
  private deadline: unknown;
  /** Until the login settles: how to settle the connect. */
  private connecting: { resolve(connected: Connected): void; reject(error: LoginError): void; resume: boolean; onLoginSent(): void } | undefined;

  constructor(
    private readonly socket: WebSocketLike,
    private readonly context: GameClientContext,
    private readonly options: WebSocketJsonOptions<Reply>,
    connecting: NonNullable<JsonLink<Reply>['connecting']>,
    private readonly onLinkLost: (reason: string) => void,
  ) {
    this.idField = options.idField ?? 'id';
    this.connecting = connecting;
    this.timer = context.clock.setTimeout(() => this.die('connect timeout'), context.timing.connectTimeoutMs);
    socket.onopen = () => this.opened();
    socket.onmessage = (event) => this.received(event.data);
    socket.onclose = (event) => this.die(`closed ${event.code}${event.reason ? ` ${event.reason}` : ''}`);
    socket.onerror = () => this.die('socket error');
  }

  async invoke(call: ActionCall): Promise<Outcome> {
    const reply = await this.request(this.options.request(call, this.context));
    return isLost(reply) ? { type: 'info', error: reply.error } : this.options.classify(reply, call, this.context);
  }

  /** Closes the link from our side; pending requests settle as lost; onLinkLost is not called. */
  close(_graceful?: boolean, reason = 'closed'): void {
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

  private opened(): void {
    const { clock, timing } = this.context;
    this.socket.onopen = null;
    if (this.ended) return; // the connect timed out as the socket opened
    clock.clearTimeout(this.timer);
    this.timer = clock.setTimeout(() => this.die('login timeout'), timing.helloTimeoutMs);
    this.connecting?.onLoginSent();
    void this.request(this.options.login({ resume: this.connecting?.resume ?? false }, this.context)).then((reply) => this.loginReplied(reply));
  }

  private loginReplied(reply: Reply | LostReply): void {
    const connecting = this.connecting;
    if (!connecting) return; // the link died first and failed the connect
    this.connecting = undefined;
    this.context.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (isLost(reply)) return connecting.reject(new LoginError('info', reply.error));
    let result: LoginResult | { refused: string };
    try {
      result = this.options.loginResult(reply, this.context);
    } catch (error) {
      this.close(false, 'login reply not understood');
      return connecting.reject(new LoginError('info', `login reply not understood: ${(error as Error).message}`));
    }
    if ('refused' in result) {
      this.close(false, 'login refused');
      return connecting.reject(new LoginError('fail', result.refused));
    }
    if (this.options.heartbeat) this.timer = this.context.clock.setTimeout(() => this.beat(), this.context.timing.pingIntervalMs);
    connecting.resolve({ login: result, connection: this });
  }

  private received(data: unknown): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(String(data)) as Record<string, unknown>;
    } catch {
      return this.die('unreadable message (not JSON)');
    }
    const id = message?.[this.idField];
    const settle = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (!settle) return this.options.onPush?.(message as Reply, this.context);
    this.pending.delete(id as number);
    settle(message as Reply);
  }

  private request(body: Record<string, unknown>): Promise<Reply | LostReply> {
    if (this.ended) return Promise.resolve({ lost: true, error: 'link closed' });
    return new Promise((settle) => {
      const id = this.nextId++;
      this.pending.set(id, settle);
      this.socket.send(JSON.stringify({ [this.idField]: id, ...body }));
    });
  }

  /** A heartbeat request that must be answered within the pong timeout; the next one an interval later. */
  private beat(): void {
    if (this.ended) return;
    const { clock, timing } = this.context;
    this.deadline = clock.setTimeout(() => this.die('pong timeout'), timing.pongTimeoutMs);
    void this.request(this.options.heartbeat!(this.context)).then(() => {
      clock.clearTimeout(this.deadline);
      if (!this.ended) this.timer = clock.setTimeout(() => this.beat(), timing.pingIntervalMs);
    });
  }

  /** The link died by itself: a connect in progress fails or a logged-in session hears of it first; then what was pending settles as lost. */
  private die(reason: string): void {
    if (this.ended) return;
    const connecting = this.connecting;
    this.connecting = undefined;
    if (connecting) connecting.reject(new LoginError('info', reason));
    else this.onLinkLost(reason);
    this.end(reason);
    (this.socket.terminate ?? this.socket.close).call(this.socket);
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
  // A method, not an arrow, for what each bot keeps: see noPeer in bots/core/session.ts.
  return {
    connect({ resume, onLoginSent, onLinkLost }) {
      return new Promise((resolve, reject) => {
        let socket: WebSocketLike;
        try {
          socket = context.openWebSocket(options.url ?? context.url);
        } catch (error) {
          return reject(new LoginError('info', `connect: ${(error as Error).message}`));
        }
        new JsonLink(socket, context, options, { resolve, reject, resume, onLoginSent }, onLinkLost);
      });
    },
  };
}
