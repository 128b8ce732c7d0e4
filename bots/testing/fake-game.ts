/**
 * A tiny game with no sockets, for the bots' own tests: a scriptable in-memory "server" per
 * process (idempotent seqs, out-of-order refusals) and a GameClient that answers on the injected
 * clock. The default export is a GameDefinition, so the fleet's workers can load it by path.
 */
import type { Clock } from '../../core/clock';
import { defineGame, LoginError, type ActionCall, type BehaviourProfile, type ConnectOptions, type GameClient, type GameClientContext, type GameConnection, type LoginResult, type Outcome } from '../../core/game';
import { uniformInt } from '../../core/rng';

export interface FakePlayer {
  lastSeq: number;
  version: number;
  results: Map<number, unknown>;
  attempts: Map<number, number>;
}

/** What the server does with one action call. */
export type InvokeScript =
  | 'ok'
  /** Never answers (the session's action timeout must catch it). */
  | 'hang'
  /** The link dies before the server applies it. */
  | 'cut'
  /** The server applies it, then the link dies before the answer. */
  | 'apply-then-cut'
  | { type: 'fail' | 'info'; error: string; apply?: boolean; expectedSeq?: number };

/** What a connect attempt does. */
export type ConnectScript =
  | 'ok'
  /** Refused before any login was sent (no login op). */
  | 'refuse'
  /** The login goes out and never completes. */
  | 'hang'
  /** The server refuses the login. */
  | { loginFail: string }
  /** The login succeeds but the link dies at once, before the session sees the login. */
  | 'ok-then-cut';

export class FakeServer {
  readonly players = new Map<string, FakePlayer>();
  player(id: string): FakePlayer {
    let player = this.players.get(id);
    if (!player) {
      player = { lastSeq: 0, version: 0, results: new Map(), attempts: new Map() };
      this.players.set(id, player);
    }
    return player;
  }
}

export interface FakeClientOptions {
  /** How long every answer takes on the clock (ms). */
  latencyMs?: number;
  onConnect?(attempt: number, options: ConnectOptions): ConnectScript;
  onInvoke?(call: ActionCall, attempt: number, playerId: string): InvokeScript;
}

export class FakeGameClient implements GameClient {
  readonly connects: ConnectOptions[] = [];
  readonly calls: ActionCall[] = [];
  readonly closes: Array<{ graceful: boolean; reason?: string }> = [];
  /** Connections handed out, newest last. */
  readonly connections: GameConnection[] = [];
  private readonly clock: Clock;
  private readonly latencyMs: number;

  constructor(
    readonly context: GameClientContext,
    readonly server: FakeServer,
    private readonly options: FakeClientOptions = {},
  ) {
    this.clock = context.clock;
    this.latencyMs = options.latencyMs ?? 5;
  }

  connect(options: ConnectOptions): Promise<{ login: LoginResult; connection: GameConnection }> {
    this.connects.push(options);
    const script = this.options.onConnect?.(this.connects.length, options) ?? 'ok';
    return new Promise((resolve, reject) => {
      if (script === 'refuse') return void this.later(() => reject(new Error('connect ECONNREFUSED')));
      options.onLoginSent();
      if (script === 'hang') return;
      if (typeof script === 'object') return void this.later(() => reject(new LoginError('fail', script.loginFail)));
      this.later(() => {
        const player = this.server.player(this.context.playerId);
        const link = { open: true };
        const connection: GameConnection = {
          invoke: (call) => this.invoke(link, options, call),
          close: (graceful, reason) => {
            if (!link.open) return;
            link.open = false;
            this.closes.push({ graceful, reason });
          },
        };
        this.connections.push(connection);
        resolve({ login: { value: { lastSeq: player.lastSeq, version: player.version }, version: player.version, lastSeq: player.lastSeq, reconnected: { fake: true } }, connection });
        if (script === 'ok-then-cut') {
          link.open = false;
          options.onLinkLost('cut after login');
        }
      });
    });
  }

  describeEnd(): Record<string, unknown> {
    return { version: this.server.player(this.context.playerId).version };
  }

  private invoke(link: { open: boolean }, options: ConnectOptions, call: ActionCall): Promise<Outcome> {
    this.calls.push(call);
    const player = this.server.player(this.context.playerId);
    const attempt = (player.attempts.get(call.seq) ?? 0) + 1;
    player.attempts.set(call.seq, attempt);
    const script = this.options.onInvoke?.(call, attempt, this.context.playerId) ?? 'ok';
    return new Promise((resolve) => {
      if (script === 'hang') return;
      this.later(() => {
        if (!link.open) return;
        const cut = (): void => {
          link.open = false;
          options.onLinkLost('cut');
        };
        if (script === 'cut') return cut();
        if (typeof script === 'object') {
          if (script.apply) this.apply(player, call);
          return resolve({ type: script.type, error: script.error, ...(script.expectedSeq !== undefined ? { expectedSeq: script.expectedSeq } : {}) } as Outcome);
        }
        if (call.seq <= player.lastSeq && player.results.has(call.seq)) {
          return resolve({ type: 'ok', value: { ...(player.results.get(call.seq) as object), duplicate: true }, version: player.version });
        }
        if (call.seq !== player.lastSeq + 1) return resolve({ type: 'fail', error: 'out-of-order', expectedSeq: player.lastSeq + 1 });
        const value = this.apply(player, call);
        if (script === 'apply-then-cut') return cut();
        resolve({ type: 'ok', value, version: player.version });
      });
    });
  }

  private apply(player: FakePlayer, call: ActionCall): unknown {
    player.lastSeq = call.seq;
    player.version += 1;
    const value = { applied: call.seq };
    player.results.set(call.seq, value);
    return value;
  }

  private later(callback: () => void): void {
    this.clock.setTimeout(callback, this.latencyMs);
  }
}

export const FAKE_PROFILES: Record<string, BehaviourProfile> = {
  steady: {
    name: 'steady',
    description: 'ticks every 50 ms, never leaves',
    mix: [
      { action: 'tick', weight: 3 },
      { action: 'poke', weight: 1 },
    ],
    thinkTime: { kind: 'constant', value: 50 },
    sessionLength: { kind: 'never' },
    offlineTime: { kind: 'constant', value: 100 },
  },
  churny: {
    name: 'churny',
    description: 'short sessions with voluntary disconnects',
    mix: [{ action: 'tick', weight: 1 }],
    thinkTime: { kind: 'exponential', mean: 40, min: 5, max: 200 },
    sessionLength: { kind: 'constant', value: 400 },
    offlineTime: { kind: 'constant', value: 100 },
  },
};

/** One server per process (each fleet worker has its own players). */
const server = new FakeServer();

export default defineGame({
  name: 'fake',
  description: 'an in-memory game for the bots tests; a player whose id ends in "-2" loses its link once, after the server applied its seq 3',
  client: (context) =>
    new FakeGameClient(context, server, {
      latencyMs: 2,
      onInvoke: (call, attempt, playerId) => (playerId.endsWith('-2') && call.seq === 3 && attempt === 1 ? 'apply-then-cut' : 'ok'),
    }),
  actions: {
    tick: { description: 'one step', params: ({ rng }) => ({ n: uniformInt(rng, 1, 6) }), effects: () => [{ quantity: 'ticks', delta: 1 }] },
    poke: {
      description: 'pokes another player',
      params: ({ rng, pickPeer }) => {
        const to = pickPeer(rng);
        return to === undefined ? undefined : { to };
      },
      fallback: 'tick',
    },
  },
  profiles: FAKE_PROFILES,
});
