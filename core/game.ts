/**
 * The game plug-in port: everything specific to one game backend, bundled by `defineGame()`.
 * The harness (bots, verdict, runner) sees a game only through these types; the reference game
 * (games/reference) plugs in exactly like a studio's own game would.
 *
 * The client follows Jepsen's client protocol: open a session (log in or resume), invoke a named
 * action and classify its outcome as ok / fail / info, receive pushes, close. The bot session
 * (bots/core/session.ts) drives it: think times, sequence numbers, timeouts, reconnects with
 * backoff, resends and the history are the harness's job, never the plug-in's.
 *
 * No Node APIs here: a client must also run where the bot core runs.
 */
import type { Clock } from './clock';
import type { Distribution } from './distributions';
import type { OpType } from './history';
import type { Rng } from './rng';
import type { Checker, EffectModel } from '../verdict/types';
import type { WebSocketFactory } from './websocket-like';

// ---- the client (one per bot session; it lives across reconnects) ----

/** How one invocation ended (Jepsen): ok took effect, fail did not, info may have. */
export type Outcome =
  | {
      type: 'ok';
      /** The server's result, recorded as the op's value. */
      value?: unknown;
      /** The player's state version after this change, when the game versions player state. */
      version?: number;
      /** The server's checksum of the player's state, when the game has one. */
      checksum?: string;
    }
  | {
      type: 'fail' | 'info';
      /** Why, e.g. "unavailable: database down"; recorded as the op's error. */
      error: string;
      /** The server named the sequence number it expects next (an out-of-order refusal). */
      expectedSeq?: number;
    };

/** One action to send. */
export interface ActionCall {
  /** The action's name, a key of `GameDefinition.actions`. */
  name: string;
  params: unknown;
  /** The client sequence number (idempotency key): a resend keeps the original's. */
  seq: number;
  /** A resend of an action whose outcome is unknown (it was info). */
  resend: boolean;
}

/** What a successful login or resume tells the bot. */
export interface LoginResult {
  /** Recorded as the login op's value (e.g. { version, lastSeq, resumed }). */
  value?: unknown;
  version?: number;
  checksum?: string;
  /** The highest sequence number the server has applied for this player; new actions continue after it. */
  lastSeq?: number;
  /** Extra fields for the session's 'reconnected' event after a resume (e.g. { resumed, versionBefore, versionAfter }). */
  reconnected?: Record<string, unknown>;
}

/** A login that did not succeed: fail = the server refused it, info = unknown (timeout, cut link). */
export class LoginError extends Error {
  constructor(
    readonly type: 'fail' | 'info',
    message: string,
  ) {
    super(message);
    this.name = 'LoginError';
  }
}

/** One open, logged-in link. */
export interface GameConnection {
  /** Sends one action; the promise settles once with its outcome (the session applies its own action timeout too). */
  invoke(call: ActionCall): Promise<Outcome>;
  /**
   * Closes the link: graceful = a voluntary logout, else it was declared dead. `reason` (e.g.
   * 'action timeout', 'stopped') is what the client's own open ops complete with. Idempotent; never
   * throws; the client must not call `onLinkLost` for a link the session closed.
   */
  close(graceful: boolean, reason?: string): void;
}

export interface ConnectOptions {
  /** false on the first login of this session, true on every later one (reconnect or return from offline). */
  resume: boolean;
  /**
   * Call when the login request goes out (the link is open): the session records the login's
   * invoke then. A connect that fails before it never reached the login and is no op, only a
   * failed attempt. Not calling it at all is allowed: the invoke is then recorded just before the ok.
   */
  onLoginSent(): void;
  /**
   * Call when the link dies after the login (socket closed, ping unanswered), BEFORE completing the
   * client's own open ops, so the history reads: action info, then the client's. At most once per connection.
   */
  onLinkLost(reason: string): void;
}

export interface GameClient {
  /** Opens a link and logs in (or resumes). Rejects with a LoginError (or any Error: info). */
  connect(options: ConnectOptions): Promise<{ login: LoginResult; connection: GameConnection }>;
  /** The client's own view of the player at the end, for the session-end event (e.g. { version, checksum }). */
  describeEnd?(): Record<string, unknown>;
}

/** What the harness hands a client when it creates it. */
export interface GameClientContext {
  botId: string;
  playerId: string;
  /** This session's seed: derive the client's own random choices from it (deriveSeed). */
  seed: number;
  /**
   * The player's seed, the same for every session (window) of this player: derive what must stay
   * stable across sessions from it, such as a resume token.
   */
  playerSeed: number;
  /** Where the bots reach the backend (through the bots-backend proxy). */
  url: string;
  clock: Clock;
  /** Opens a WebSocket (the `ws` package in the fleet, a fake in tests). */
  openWebSocket: WebSocketFactory;
  /** Liveness settings the client should honour (ms). */
  timing: { pingIntervalMs: number; pongTimeoutMs: number; connectTimeoutMs: number; helloTimeoutMs: number; actionTimeoutMs: number; versionGapTimeoutMs: number };
  /** Records the client's own operations (e.g. a state read to resync), each invoke followed by one completion. */
  recordOp(type: OpType, f: string, fields: { intendedAt: number; value?: unknown; version?: number; checksum?: string; error?: string }): void;
  /** Records a desync finding of the client's shadow model (read by the no-desync checker). */
  recordDesync(finding: { reason: string; seq?: number; expected: unknown; actual: unknown }): void;
  /**
   * Another player's id for a peer-to-peer action (a gift), or undefined when there is none.
   * Draws from the given Rng exactly once, so action sequences stay aligned across runs.
   */
  pickPeer(rng: Rng): string | undefined;
}

// ---- actions, effects and profiles ----

/** A change to one quantity a player owns (gold, an item count, xp). */
export interface Effect {
  /** Whose quantity; default: the acting player. */
  player?: string;
  quantity: string;
  /** The change; a range when only the server's result fixes it (an action whose outcome is unknown). */
  delta: number | { min: number; max: number };
}

/** A per-player quantity the generic checkers track through the declared effects. */
export interface QuantitySpec {
  /** What a new player holds (default 0). */
  initial?: number;
  /** Only moves between players (gifts, trades): its total never changes and no balance goes negative (Jepsen's bank). */
  transferOnly?: boolean;
}

export interface ActionContext {
  playerId: string;
  rng: Rng;
  pickPeer(rng: Rng): string | undefined;
  /** The profile's own settings (e.g. gift amounts), as the game defined them. */
  profile: BehaviourProfile;
}

export interface ActionSpec<P = unknown> {
  description: string;
  /** Draws the parameters (a fixed number of Rng draws, so sequences stay aligned); undefined: not possible now. */
  params?(context: ActionContext): P | undefined;
  /** When `params` returns undefined, invoke this action instead (no fallback: the schedule slot passes without an action). */
  fallback?: string;
  /**
   * What the action changed, from its params and the server's result (the ok outcome's value). For
   * an action whose outcome is unknown `result` is undefined: return what it would change if it
   * applied, with ranges where only the result would tell. The generic checkers read these.
   */
  effects?(params: P, result: unknown): Effect[];
}

export interface BehaviourProfile {
  readonly name: string;
  readonly description: string;
  /** Weighted action mix over the game's action names. */
  readonly mix: ReadonlyArray<{ action: string; weight: number }>;
  /** Pause between two scheduled actions (ms). */
  readonly thinkTime: Distribution;
  /** Online play before a voluntary disconnect (ms); { kind: 'never' } = stays until stopped. */
  readonly sessionLength: Distribution;
  /** Offline pause before resuming after a voluntary disconnect (ms). */
  readonly offlineTime: Distribution;
  /** Game-specific settings the action generators read (e.g. gift amounts). */
  readonly settings?: Readonly<Record<string, unknown>>;
}

// ---- the final state and the game's own checks ----

/** Where a game's final-state reader finds the backend. */
export interface FinalStateSource {
  /** The backend's admin / HTTP base URL, straight (no proxy). */
  adminUrl: string;
  /** Superuser URL of the run's PostgreSQL, straight (no proxy); undefined when the scenario's `target` is a backend lagstorm did not start. */
  databaseUrl?: string;
}

/** What a game provides to the generic checkers; a checker whose inputs are missing reports n/a. */
export interface GameFeatures {
  /** Acks and logins carry the player's state version (the monotonic checker reads them). */
  stateVersions: boolean;
  /** The client keeps a shadow model and records desync findings (the no-desync checker reads them). */
  shadowModel: boolean;
  /** The game reads its final state after the run. */
  finalState: boolean;
  /** Actions declare effects on declared quantities, and the final state gives their values. */
  effects: boolean;
  /** Some declared quantity is transfer-only. */
  transfers: boolean;
  /** The final state lists the applied idempotency keys. */
  appliedKeys: boolean;
}

/** How the process runtime starts the game's backend: `node bin/run-ts.js <entry> --port --admin-port --database-url [--defect]`, ready at <admin>/readyz. */
export interface GameServer {
  /** Absolute path of the backend's TypeScript or JavaScript entry point. */
  entry: string;
  /**
   * The local image the `containers` runtime runs for this backend, taking the same flags as `entry`
   * (a scenario's `backend.image` overrides it). Without one the containers runtime refuses the game.
   */
  image?: string;
}

/** A planted defect of the game's backend and the self-test scenario that must catch it. */
export interface PlantedDefect {
  name: string;
  description: string;
}

export interface GameDefinition<FinalState = unknown> {
  // FinalState is the type `readFinalState` returns; the methods below that read it are bivariant on purpose.
  /** Lowercase name, e.g. 'reference'; scenarios name it in `game`. */
  name: string;
  description: string;
  /** Creates one bot's client. */
  client(context: GameClientContext): GameClient;
  /** The game's actions by name (ActionSpec<unknown>: each spec's own params type is checked where it is defined). */
  actions: Readonly<Record<string, ActionSpec>>;
  profiles: Readonly<Record<string, BehaviourProfile>>;
  /** Reads the final persisted state after the run (one snapshot); checkers get it as `final`. */
  readFinalState?(source: FinalStateSource): Promise<FinalState>;
  /** Quantities the declared effects change, checked by the generic checkers against `finalQuantities`. */
  quantities?: Readonly<Record<string, QuantitySpec>>;
  /** Each player's declared quantities in the final state: player → quantity → value. */
  finalQuantities?(final: FinalState): Record<string, Record<string, number>>;
  /** Every (player, seq) the backend applied, from the final state (exactly-once by idempotency key). */
  appliedKeys?(final: FinalState): Iterable<{ player: string; seq: number }>;
  /** The game's own checkers (over the history and its final state), beside the generic ones. */
  checkers?: ReadonlyArray<Checker>;
  /** Acks and logins carry state versions; the client records desync findings. */
  features?: Partial<Pick<GameFeatures, 'stateVersions' | 'shadowModel'>>;
  /** The backend the process runtime starts (a scenario's `backend.entry` overrides it), and its image for the containers runtime. */
  server?: GameServer;
  defects?: ReadonlyArray<PlantedDefect>;
  /** Folder of self-test scenarios, one per planted defect (`lagstorm selftest`). */
  selfTestDir?: string;
}

/** Typed identity: what a game plug-in module exports (as `default` or `game`). */
export function defineGame<FinalState>(game: GameDefinition<FinalState>): GameDefinition<FinalState> {
  return game;
}

/** The features a game provides, with defaults filled in. */
export function gameFeatures(game: GameDefinition): GameFeatures {
  const effects = game.readFinalState !== undefined && game.finalQuantities !== undefined && Object.keys(game.quantities ?? {}).length > 0 && Object.values(game.actions).some((action) => action.effects !== undefined);
  return {
    stateVersions: game.features?.stateVersions ?? false,
    shadowModel: game.features?.shadowModel ?? false,
    finalState: game.readFinalState !== undefined,
    effects: effects,
    transfers: effects && Object.values(game.quantities ?? {}).some((quantity) => quantity.transferOnly),
    appliedKeys: game.readFinalState !== undefined && game.appliedKeys !== undefined,
  };
}

/** The game's effect model for the effect-based checkers (acked-effects, transfers-conserved, exactly-once-keys). */
export function effectModel(game: GameDefinition): EffectModel {
  return {
    quantities: game.quantities ?? {},
    effectsOf: (action, params, result) => game.actions[action]?.effects?.(params, result) ?? [],
    ...(game.finalQuantities ? { finalQuantities: (final: unknown) => game.finalQuantities!(final) } : {}),
    ...(game.appliedKeys ? { appliedKeys: (final: unknown) => game.appliedKeys!(final) } : {}),
  };
}
