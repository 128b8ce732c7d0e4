/**
 * The Colyseus example's GameClient, on the official client library (colyseus.js 0.16) over
 * Colyseus's own protocol: HTTP matchmaking, then the room's WebSocket (msgpack messages).
 *
 * connect: `joinOrCreate('world', { player })` (on a resume, first `reconnect(token)` to the seat
 * the server holds for a dropped client), then a 'hello' whose reply carries the player's last
 * applied seq. invoke: an 'act' message with a request id and the seq; the 'reply' with that id
 * settles it. The room's onLeave is the link dying: the session hears onLinkLost first, then every
 * unanswered request settles as info.
 */
import { Client, type Room } from 'colyseus.js';
import { LoginError, type ActionCall, type ConnectOptions, type GameClient, type GameClientContext, type GameConnection, type LoginResult, type Outcome, type TimerHandle } from 'lagstorm';
import { ROOM, type Action, type ActMessage, type HelloMessage, type ReplyMessage } from './rules';

type Reply = ReplyMessage | { id: number; ok: false; lost: string };

/** One joined room: requests by id, and how the link ends. */
class Link implements GameConnection {
  private readonly pending = new Map<number, (reply: Reply) => void>();
  private nextId = 1;
  private closed = false;

  constructor(
    readonly room: Room,
    private readonly onGone: (reason: string) => void,
  ) {
    room.onMessage('reply', (message: ReplyMessage) => {
      const settle = this.pending.get(message.id);
      this.pending.delete(message.id);
      settle?.(message);
    });
    room.onLeave((code: number, reason?: string) => this.lost(`room left (${code}${reason ? `: ${reason}` : ''})`));
    room.onError((code: number, message?: string) => this.lost(`room error ${code}: ${message ?? ''}`));
  }

  /** Sends one request; settles with its reply, or `lost` when the link ends first. */
  request(type: 'hello' | 'act', body: Omit<HelloMessage, 'id'> | Omit<ActMessage, 'id'>): Promise<Reply> {
    if (this.closed) return Promise.resolve({ id: 0, ok: false, lost: 'link closed' });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      try {
        this.room.send(type, { id, ...body });
      } catch (error) {
        this.pending.delete(id);
        resolve({ id, ok: false, lost: `send failed: ${(error as Error).message}` });
      }
    });
  }

  async invoke(call: ActionCall): Promise<Outcome> {
    const reply = await this.request('act', { seq: call.seq, action: call.params as Action });
    if (reply.ok) return { type: 'ok', value: reply.result };
    if ('lost' in reply) return { type: 'info', error: reply.lost };
    // retryable: the server could not tell whether it committed; otherwise it refused before applying.
    return { type: reply.retryable ? 'info' : 'fail', error: reply.error };
  }

  close(graceful: boolean, reason = graceful ? 'logout' : 'declared dead'): void {
    if (this.closed) return;
    this.closed = true;
    this.settleAll(reason);
    // A consented leave gives the seat up; otherwise the server holds it for a reconnect.
    this.room.leave(graceful).catch(() => undefined);
  }

  /** The link died under us (not closed by the session). */
  private lost(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onGone(reason);
    this.settleAll(reason);
  }

  private settleAll(reason: string): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const settle of waiting) settle({ id: 0, ok: false, lost: reason });
  }
}

/** colyseus.js without its default room-error printer (the session records every failure anyway). */
class QuietClient extends Client {
  protected override createRoom<T>(roomName: string, rootSchema?: Parameters<Client['joinOrCreate']>[2]): Room<T> {
    const room = super.createRoom<T>(roomName, rootSchema as never);
    room.onError.clear();
    return room;
  }
}

export class ColyseusGameClient implements GameClient {
  private readonly sdk: Client;
  /** The seat of the last room, kept after a non-consented drop: `reconnect()` tries it first. */
  private reconnectionToken: string | undefined;

  constructor(private readonly context: GameClientContext) {
    this.sdk = new QuietClient(context.url);
  }

  async connect(options: ConnectOptions): Promise<{ login: LoginResult; connection: GameConnection }> {
    const { clock, timing } = this.context;
    let resumed = false;
    const joined = (async (): Promise<Room> => {
      if (options.resume && this.reconnectionToken) {
        try {
          const room = await this.sdk.reconnect(this.reconnectionToken);
          resumed = true;
          return room;
        } catch {
          // the seat is gone (expired, or the server restarted): join afresh
        }
      }
      return this.sdk.joinOrCreate(ROOM, { player: this.context.playerId });
    })();
    const room = await withTimeout(clock, timing.connectTimeoutMs, joined, 'join timeout', (late) => void late.leave(true).catch(() => undefined)).catch((error: unknown) => {
      // A refusal the server sent (matchmaking error, a join its onJoin threw for) is a failed
      // login; a timeout or a transport error leaves it unknown.
      const code = (error as { code?: unknown } | undefined)?.code;
      const refused = error instanceof Error && (error.name === 'MatchMakeError' || (error.name === 'ServerError' && typeof code === 'number' && code >= 4000));
      throw new LoginError(refused ? 'fail' : 'info', error instanceof Error ? error.message || error.name : String(error));
    });
    this.reconnectionToken = room.reconnectionToken;
    let open = false;
    const link = new Link(room, (reason) => {
      this.reconnectionToken = room.reconnectionToken;
      if (open) options.onLinkLost(reason);
    });
    options.onLoginSent();
    const hello = await withTimeout(clock, timing.helloTimeoutMs, link.request('hello', {}), 'hello timeout').catch((error: Error) => ({ id: 0, ok: false as const, lost: error.message }));
    if (!hello.ok) {
      // Give the seat up: a failed login is no dropped player to wait for.
      this.reconnectionToken = undefined;
      link.close(true, 'login failed');
      throw new LoginError('lost' in hello || hello.retryable ? 'info' : 'fail', 'lost' in hello ? hello.lost : hello.error);
    }
    open = true;
    const lastSeq = hello.lastSeq ?? 0;
    return {
      login: { value: { lastSeq, gold: hello.gold, gems: hello.gems, room: room.roomId, resumed }, lastSeq, reconnected: { resumed } },
      connection: {
        invoke: (call) => link.invoke(call),
        close: (graceful, reason) => {
          if (graceful) this.reconnectionToken = undefined;
          link.close(graceful, reason);
        },
      },
    };
  }
}

/** Races a promise against the injected clock; `onLate` gets a value that arrives after the timeout. */
function withTimeout<T>(clock: { setTimeout(cb: () => void, ms: number): TimerHandle; clearTimeout(handle: TimerHandle): void }, ms: number, promise: Promise<T>, message: string, onLate?: (value: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = clock.setTimeout(() => {
      done = true;
      reject(new Error(message));
    }, ms);
    promise.then(
      (value) => {
        if (done) return onLate?.(value);
        done = true;
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}
