/**
 * One bot playing one player over one (re)connecting WebSocket: the session state machine.
 *
 * connect → hello (login, or resume with the token) → welcome → act on a think-time schedule,
 * one action in flight at a time → on a dead link (close, error, pong or ack timeout) complete
 * what was in flight as `info`, reconnect with capped exponential backoff and full jitter, resume,
 * resend the unknown action with its ORIGINAL seq (a new invoke), and give up after
 * `maxReconnectAttempts` failures in a row (a 'gave-up' event). Every action, login and read is a
 * Jepsen operation (invoke, then ok/fail/info); the shadow model checks every ack and push.
 *
 * Plain TypeScript against WebSocketLike and an injected Clock: no Node APIs (k6-bundleable).
 */
import { checksum as checksumOf } from '../../games/reference/rules/checksum';
import type { Action, PlayerState } from '../../games/reference/rules/model';
import { PROTOCOL_VERSION, type ClientMessage, type ErrorCode, type ServerMessage } from '../../games/reference/rules/protocol';
import type { ClientOpKind, OpType } from '../../core/history';
import { nextAction, thinkTime, type BehaviourProfile } from '../behaviours/profiles';
import { sample } from '../../core/distributions';
import type { Clock, TimerHandle } from '../../core/clock';
import { createRng, deriveSeed, type Rng } from '../../core/rng';
import { ShadowModel, type DesyncFinding } from './shadow';
import { DEFAULT_TIMING, type BotSink, type SessionTiming } from './types';
import { WS_OPEN, type WebSocketFactory, type WebSocketLike } from '../../core/websocket-like';

export interface BotSessionOptions {
  botId: string;
  playerId: string;
  url: string;
  profile: BehaviourProfile;
  /** This bot's seed (derive it with deriveSeed(runSeed, botId)). */
  seed: number;
  clock: Clock;
  connect: WebSocketFactory;
  sink: BotSink;
  /** Gift recipients: another bot's player, or undefined when there is none. */
  pickPeer?: (rng: Rng) => string | undefined;
  /** Stop acting (and end the session) after this many new actions. */
  maxActions?: number;
  timing?: Partial<SessionTiming>;
  /** Disconnect voluntarily after the profile's session length and resume after its offline time (default true). */
  voluntaryDisconnects?: boolean;
  /** When the session was meant to start (ms since run start): the first login's intendedAt. */
  intendedStartAt?: number;
  /**
   * The player's resume token, sent with every hello. The client chooses it (PROTOCOL.md: a client
   * that may lose its first welcome must, or it cannot prove ownership later). Default:
   * playerToken(seed, playerId); keep it the same for every session of one player.
   */
  resumeToken?: string;
}

/** A stable resume token for a player, from the bot's seed (8–128 characters). */
export function playerToken(seed: number, playerId: string): string {
  return `lagstorm.${deriveSeed(seed, 'token', playerId).toString(16).padStart(8, '0')}.${playerId}`.slice(0, 128);
}

export type SessionPhase = 'idle' | 'connecting' | 'hello' | 'ready' | 'draining' | 'backoff' | 'offline' | 'stopping' | 'ended';

export type ErrorClass = 'fail' | 'info';

/**
 * How a typed error for an action's seq completes the op. fail = the server guarantees it did not
 * apply it (shed or refused before processing, or a non-retryable rejection); info = it may have.
 */
export function classifyError(code: ErrorCode, retryable: boolean): ErrorClass {
  switch (code) {
    case 'overloaded': // shed before processing
    case 'shutting-down': // refused while draining, before processing
      return 'fail';
    case 'unavailable': // the database call may have been in flight
    case 'internal': // a server bug: the outcome is open (PROTOCOL.md), whatever `retryable` says
      return 'info';
    default:
      return retryable ? 'info' : 'fail';
  }
}

interface InFlight {
  seq: number;
  action: Action;
  intendedAt: number;
  resend: boolean;
}

interface Unresolved {
  seq: number;
  action: Action;
  /** Resend at once (after a resume) rather than at the next schedule slot. */
  immediate: boolean;
}

export interface SessionStats {
  actionsSent: number;
  reconnects: number;
  desyncs: number;
  pendingInfo: number;
}

export class BotSession {
  readonly botId: string;
  readonly playerId: string;
  private readonly timing: SessionTiming;
  private readonly clock: Clock;
  private readonly actionRng: Rng;
  private readonly sessionRng: Rng;
  private readonly jitterRng: Rng;
  private readonly shadow = new ShadowModel();

  private phaseValue: SessionPhase = 'idle';
  private socket: WebSocketLike | null = null;
  private readonly resumeToken: string;
  private nextSeq = 1;
  private nextIntendedAt = 0;
  private inFlight: InFlight | null = null;
  private unresolved: Unresolved | null = null;
  /** seq → info completions not yet resolved by a later ack of the same seq. */
  private readonly infoBySeq = new Map<number, number>();
  private pendingLogin: { intendedAt: number } | null = null;
  private pendingRead: { intendedAt: number } | null = null;
  private pendingDesync: DesyncFinding | null = null;
  private welcomed = false;
  private failedAttempts = 0;
  private lastError = '';
  private reconnectStartedAt: number | undefined;
  private reconnectVoluntary = false;
  /** The profile's session ran out while the link was down: disconnect once the resume is done. */
  private sessionOverWhileReconnecting = false;
  private thinkingUntilAtStop: number | undefined;
  private attemptStartedAt = 0;
  private lastInboundAt = 0;
  private pingOutstanding = false;
  private pingSentAt = 0;
  private pingId = 0;
  private readonly timers: Record<'connect' | 'hello' | 'liveness' | 'action' | 'read' | 'slot' | 'session' | 'backoff' | 'offline' | 'gap' | 'grace', TimerHandle | undefined> = {
    connect: undefined,
    hello: undefined,
    liveness: undefined,
    action: undefined,
    read: undefined,
    slot: undefined,
    session: undefined,
    backoff: undefined,
    offline: undefined,
    gap: undefined,
    grace: undefined,
  };
  private endReason = '';
  private endedResolve: (() => void) | undefined;
  private readonly endedPromise: Promise<void>;
  readonly stats: SessionStats = { actionsSent: 0, reconnects: 0, desyncs: 0, pendingInfo: 0 };

  constructor(private readonly options: BotSessionOptions) {
    this.botId = options.botId;
    this.playerId = options.playerId;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.clock = options.clock;
    this.actionRng = createRng(deriveSeed(options.seed, 'actions'));
    this.sessionRng = createRng(deriveSeed(options.seed, 'sessions'));
    this.jitterRng = createRng(deriveSeed(options.seed, 'jitter'));
    this.resumeToken = options.resumeToken ?? playerToken(options.seed, options.playerId);
    this.endedPromise = new Promise((resolve) => (this.endedResolve = resolve));
  }

  get phase(): SessionPhase {
    return this.phaseValue;
  }
  /** Logged in and playing (what "online" means for the fleet's gauge). */
  get online(): boolean {
    return this.phaseValue === 'ready' || this.phaseValue === 'draining';
  }
  get ended(): Promise<void> {
    return this.endedPromise;
  }
  get shadowState(): PlayerState | null {
    return this.shadow.state;
  }

  start(): void {
    if (this.phaseValue !== 'idle') return;
    const intendedAt = this.options.intendedStartAt ?? this.clock.now();
    this.event('session-start', { url: this.options.url, profile: this.options.profile.name, intendedAt: round(intendedAt) });
    this.openSocket(intendedAt);
  }

  /** Graceful stop: no new actions; an in-flight op gets `stopGraceMs`, then info; emits session-end. */
  stop(): Promise<void> {
    if (this.phaseValue === 'ended' || this.phaseValue === 'stopping') return this.endedPromise;
    const wasPlaying = this.phaseValue === 'ready' || this.phaseValue === 'draining';
    // Connected with nothing due yet: the checkers must not read "no action after the heal" as "not recovered".
    if (this.phaseValue === 'ready' && !this.inFlight && !this.pendingRead && !this.unresolved && this.nextIntendedAt > this.clock.now()) {
      this.thinkingUntilAtStop = this.nextIntendedAt;
    }
    this.phaseValue = 'stopping';
    for (const name of ['slot', 'session', 'backoff', 'offline'] as const) this.clearTimer(name);
    if (wasPlaying && (this.inFlight || this.pendingRead)) {
      this.timers.grace = this.clock.setTimeout(() => this.finish(this.endReason || 'stopped'), this.timing.stopGraceMs);
    } else {
      this.finish(this.endReason || 'stopped');
    }
    return this.endedPromise;
  }

  // ---- connection ----

  private openSocket(intendedAt: number): void {
    this.phaseValue = 'connecting';
    this.attemptStartedAt = intendedAt;
    let socket: WebSocketLike;
    try {
      socket = this.options.connect(this.options.url);
    } catch (error) {
      this.lastError = `connect: ${(error as Error).message}`;
      this.failedAttempts += 1;
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => socket === this.socket && this.onOpen();
    socket.onmessage = (event) => socket === this.socket && this.onMessage(event.data);
    socket.onclose = (event) => socket === this.socket && this.linkLost(`closed ${event.code}${event.reason ? ` ${event.reason}` : ''}`);
    socket.onerror = () => socket === this.socket && this.linkLost('socket error');
    this.timers.connect = this.clock.setTimeout(() => this.linkLost('connect timeout'), this.timing.connectTimeoutMs);
  }

  private onOpen(): void {
    this.clearTimer('connect');
    this.phaseValue = 'hello';
    this.lastInboundAt = this.clock.now();
    this.pingOutstanding = false;
    this.sendHello();
    this.armLiveness(this.timing.pingIntervalMs);
  }

  private sendHello(): void {
    const hello: ClientMessage = { t: 'hello', playerId: this.playerId, protocol: PROTOCOL_VERSION, resumeToken: this.resumeToken };
    this.pendingLogin = { intendedAt: this.attemptStartedAt };
    this.op('invoke', 'login', { intendedAt: this.attemptStartedAt, value: { reconnect: this.welcomed } });
    this.send(hello);
    this.clearTimer('hello');
    this.timers.hello = this.clock.setTimeout(() => this.linkLost('hello timeout'), this.timing.helloTimeoutMs);
  }

  private send(message: ClientMessage): void {
    this.socket?.send(JSON.stringify(message));
  }

  /** The link is gone (or declared dead): settle what was in flight as info, then reconnect, go offline or end. */
  private linkLost(reason: string): void {
    if (this.phaseValue === 'ended' || this.phaseValue === 'idle') return;
    const phase = this.phaseValue;
    this.lastError = reason;
    this.detachSocket(false);
    for (const name of ['connect', 'hello', 'liveness', 'action', 'read', 'gap', 'slot'] as const) this.clearTimer(name);
    this.settleInFlight(reason);
    this.shadow.clearBuffer();
    if (phase === 'stopping') return this.finish(this.endReason || 'stopped');
    if (phase === 'backoff' || phase === 'offline') return;
    if (phase === 'connecting' || phase === 'hello') this.failedAttempts += 1;
    if (phase === 'draining') return this.goOffline();
    if (this.reconnectStartedAt === undefined) {
      this.reconnectStartedAt = this.clock.now();
      this.reconnectVoluntary = false;
    }
    this.scheduleReconnect();
  }

  private settleInFlight(reason: string): void {
    if (this.pendingLogin) {
      this.op('info', 'login', { intendedAt: this.pendingLogin.intendedAt, error: reason });
      this.pendingLogin = null;
    }
    if (this.inFlight) {
      const { seq, action, intendedAt } = this.inFlight;
      this.op('info', action.kind, { seq, intendedAt, error: reason });
      this.noteInfo(seq);
      this.unresolved = { seq, action, immediate: true };
      this.inFlight = null;
    } else if (this.unresolved) {
      this.unresolved.immediate = true;
    }
    if (this.pendingRead) {
      this.op('info', 'read', { intendedAt: this.pendingRead.intendedAt, error: reason });
      this.pendingRead = null;
    }
    this.flushDesync(undefined);
  }

  private detachSocket(graceful: boolean): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    // Keep an error listener: `ws` throws on an 'error' event nobody listens to.
    socket.onerror = () => undefined;
    try {
      if (!graceful && socket.terminate) socket.terminate();
      else socket.close(1000, graceful ? 'bye' : 'link lost');
    } catch {
      // Closing a socket that never opened may throw; it is gone either way.
    }
  }

  private scheduleReconnect(): void {
    if (this.failedAttempts >= this.timing.maxReconnectAttempts) return this.giveUp();
    const ceiling = Math.min(this.timing.backoffCapMs, this.timing.backoffBaseMs * 2 ** this.failedAttempts);
    const delay = this.jitterRng.next() * ceiling;
    this.phaseValue = 'backoff';
    this.timers.backoff = this.clock.setTimeout(() => {
      this.timers.backoff = undefined;
      this.openSocket(this.clock.now());
    }, delay);
  }

  private giveUp(): void {
    this.event('gave-up', { attempts: this.failedAttempts, lastError: this.lastError });
    this.finish('gave-up');
  }

  private goOffline(): void {
    this.phaseValue = 'offline';
    const pause = sample(this.options.profile.offlineTime, this.sessionRng);
    this.timers.offline = this.clock.setTimeout(() => {
      this.timers.offline = undefined;
      this.reconnectStartedAt = this.clock.now();
      this.reconnectVoluntary = true;
      this.openSocket(this.clock.now());
    }, pause);
  }

  /** The profile's session is over: finish what is in flight, then disconnect voluntarily. */
  private beginVoluntaryDisconnect(): void {
    this.timers.session = undefined;
    if (['backoff', 'connecting', 'hello'].includes(this.phaseValue)) this.sessionOverWhileReconnecting = true;
    if (this.phaseValue !== 'ready') return;
    this.phaseValue = 'draining';
    this.clearTimer('slot');
    if (!this.inFlight && !this.pendingRead) this.closeVoluntarily();
  }

  private closeVoluntarily(): void {
    for (const name of ['liveness', 'action', 'read', 'gap', 'slot'] as const) this.clearTimer(name);
    this.detachSocket(true);
    this.shadow.clearBuffer();
    this.goOffline();
  }

  // ---- liveness ----

  private armLiveness(ms: number): void {
    this.clearTimer('liveness');
    this.timers.liveness = this.clock.setTimeout(() => this.checkLiveness(), ms);
  }

  private checkLiveness(): void {
    this.timers.liveness = undefined;
    if (!this.socket) return;
    const now = this.clock.now();
    if (this.pingOutstanding) {
      if (now - this.pingSentAt >= this.timing.pongTimeoutMs) return this.linkLost('pong timeout');
      return this.armLiveness(this.timing.pongTimeoutMs - (now - this.pingSentAt));
    }
    const idle = now - this.lastInboundAt;
    if (idle >= this.timing.pingIntervalMs) {
      this.pingOutstanding = true;
      this.pingSentAt = now;
      this.send({ t: 'ping', id: ++this.pingId });
      return this.armLiveness(this.timing.pongTimeoutMs);
    }
    this.armLiveness(this.timing.pingIntervalMs - idle);
  }

  // ---- inbound ----

  private onMessage(data: unknown): void {
    this.lastInboundAt = this.clock.now();
    this.pingOutstanding = false;
    let message: ServerMessage;
    try {
      message = JSON.parse(typeof data === 'string' ? data : String(data)) as ServerMessage;
    } catch {
      return this.linkLost('unparseable message from server');
    }
    switch (message.t) {
      case 'welcome':
        return this.onWelcome(message);
      case 'ack':
        return this.onAck(message);
      case 'push':
        return this.onPush(message);
      case 'state':
        return this.onState(message);
      case 'error':
        return this.onError(message);
      case 'pong':
        return;
    }
  }

  private onWelcome(message: Extract<ServerMessage, { t: 'welcome' }>): void {
    if (!this.pendingLogin) return;
    this.clearTimer('hello');
    const { intendedAt } = this.pendingLogin;
    this.pendingLogin = null;
    this.failedAttempts = 0;
    const { state } = message;
    this.op('ok', 'login', {
      intendedAt,
      value: { version: state.version, lastSeq: state.lastSeq, checksum: message.checksum, resumed: message.resumed },
      version: state.version,
      checksum: message.checksum,
    });
    const firstLogin = !this.welcomed;
    const before = this.shadow.state;
    let shadowReplaced = false;
    if (!before) {
      this.recordFindings([this.shadow.adopt(state, message.checksum)]);
      this.nextSeq = state.lastSeq + 1;
    } else {
      const confirmedLastSeq = this.nextSeq - 1;
      if (state.version < before.version || state.lastSeq < confirmedLastSeq) {
        this.recordFindings([{ reason: 'state-regressed', expected: { state: before, checksum: this.shadow.checksum }, actual: { state, checksum: message.checksum } }]);
      } else if (state.version === before.version && checksumOf(state) !== this.shadow.checksum) {
        this.recordFindings([{ reason: 'checksum-mismatch', expected: { state: before, checksum: this.shadow.checksum }, actual: { state, checksum: message.checksum } }]);
      }
      // Gifts received offline and actions whose ack was lost moved the version on: take the server's word.
      shadowReplaced = state.version !== before.version;
      this.recordFindings([this.shadow.adopt(state, message.checksum)]);
      if (!this.unresolved) this.nextSeq = state.lastSeq + 1;
    }
    const voluntary = this.reconnectVoluntary;
    if (this.reconnectStartedAt !== undefined) {
      this.stats.reconnects += 1;
      this.event('reconnected', {
        voluntary,
        resumed: message.resumed,
        resumeMs: round(this.clock.now() - this.reconnectStartedAt),
        versionBefore: before?.version,
        versionAfter: state.version,
        shadowReplaced,
        resending: this.unresolved?.seq,
      });
      this.reconnectStartedAt = undefined;
    }
    this.welcomed = true;
    this.phaseValue = 'ready';
    if (firstLogin || voluntary) {
      // A fresh stretch of play: the schedule and the session length start now.
      this.nextIntendedAt = this.clock.now() + thinkTime(this.options.profile, this.actionRng);
      this.reconnectVoluntary = false;
      this.sessionOverWhileReconnecting = false;
      if (this.options.voluntaryDisconnects !== false) {
        const length = sample(this.options.profile.sessionLength, this.sessionRng);
        if (Number.isFinite(length)) this.timers.session = this.clock.setTimeout(() => this.beginVoluntaryDisconnect(), length);
      }
    }
    this.pump();
    if (this.sessionOverWhileReconnecting) {
      this.sessionOverWhileReconnecting = false;
      this.beginVoluntaryDisconnect(); // after pump: a resent action goes out and is drained first
    }
  }

  private onAck(message: Extract<ServerMessage, { t: 'ack' }>): void {
    const flight = this.inFlight;
    if (!flight || message.seq !== flight.seq) return;
    this.clearTimer('action');
    this.inFlight = null;
    this.op('ok', flight.action.kind, {
      seq: flight.seq,
      intendedAt: flight.intendedAt,
      value: message.duplicate ? { ...message.result, duplicate: true } : message.result,
      version: message.version,
      checksum: message.checksum,
    });
    this.resolveInfo(flight.seq);
    if (this.unresolved?.seq === flight.seq) this.unresolved = null;
    this.nextSeq = Math.max(this.nextSeq, flight.seq + 1);
    this.recordFindings(
      this.shadow.offer({ source: 'ack', version: message.version, checksum: message.checksum, seq: flight.seq, action: flight.action, result: message.result, duplicate: message.duplicate }),
    );
    this.afterChange();
    this.afterCompletion();
  }

  private onPush(message: Extract<ServerMessage, { t: 'push' }>): void {
    if (message.kind !== 'gift-received') return;
    this.recordFindings(this.shadow.offer({ source: 'push', version: message.version, checksum: message.checksum, from: message.from, amount: message.amount }));
    this.afterChange();
  }

  private onState(message: Extract<ServerMessage, { t: 'state' }>): void {
    if (!this.pendingRead) return;
    this.clearTimer('read');
    this.op('ok', 'read', { intendedAt: this.pendingRead.intendedAt, value: message.state, version: message.state.version, checksum: message.checksum });
    this.pendingRead = null;
    this.flushDesync({ state: message.state, checksum: message.checksum });
    // A read is itself the resync after a finding; reporting from here could loop read → finding → read.
    this.shadow.adopt(message.state, message.checksum);
    this.afterChange();
    this.afterCompletion();
  }

  private onError(message: Extract<ServerMessage, { t: 'error' }>): void {
    const flight = this.inFlight;
    if (flight && message.seq === flight.seq) {
      this.clearTimer('action');
      this.inFlight = null;
      const outcome = classifyError(message.code, message.retryable);
      this.op(outcome, flight.action.kind, { seq: flight.seq, intendedAt: flight.intendedAt, error: `${message.code}: ${message.message}` });
      if (outcome === 'info') {
        this.noteInfo(flight.seq);
        this.unresolved = { seq: flight.seq, action: flight.action, immediate: false };
      } else if (message.code === 'out-of-order' && typeof message.expectedSeq === 'number') {
        // The server names the seq it wants; an unknown earlier op cannot be pending any more.
        this.nextSeq = message.expectedSeq;
        this.unresolved = null;
      } else if (flight.resend) {
        // Refused before processing: the original's fate is still unknown, try it again later.
        this.unresolved = { seq: flight.seq, action: flight.action, immediate: false };
      }
      return this.afterCompletion();
    }
    if (this.pendingLogin && message.seq === undefined) {
      const { intendedAt } = this.pendingLogin;
      this.pendingLogin = null;
      this.clearTimer('hello');
      this.op(classifyError(message.code, message.retryable), 'login', { intendedAt, error: `${message.code}: ${message.message}` });
      // bad-token (the server lost or changed our token), shutting-down, overloaded...: a failed
      // attempt; back off and try again with the same token, until maxReconnectAttempts.
      this.failedAttempts += 1;
      this.lastError = `${message.code}: ${message.message}`;
      this.detachSocket(false);
      for (const name of ['liveness', 'hello'] as const) this.clearTimer(name);
      if (this.phaseValue === 'stopping') return this.finish(this.endReason || 'stopped');
      if (this.reconnectStartedAt === undefined) this.reconnectStartedAt = this.clock.now();
      return this.scheduleReconnect();
    }
    if (this.pendingRead && message.seq === undefined) {
      // The read was refused (database down, draining): complete it now instead of waiting for its timeout.
      const { intendedAt } = this.pendingRead;
      this.pendingRead = null;
      this.clearTimer('read');
      this.op(classifyError(message.code, message.retryable), 'read', { intendedAt, error: `${message.code}: ${message.message}` });
      return this.afterCompletion();
    }
    // Errors without a seq of ours (e.g. 'shutting-down' before a close) need no action: the close follows.
  }

  // ---- shadow findings ----

  private afterChange(): void {
    if (!this.shadow.hasGap) return this.clearTimer('gap');
    if (this.timers.gap === undefined) this.timers.gap = this.clock.setTimeout(() => this.onGapTimeout(), this.timing.versionGapTimeoutMs);
  }

  private onGapTimeout(): void {
    this.timers.gap = undefined;
    if (!this.shadow.hasGap || !this.socket) return;
    if (this.unresolved || this.inFlight?.resend) {
      // An action of unknown outcome may be the missing version: wait for its resend's ack.
      this.timers.gap = this.clock.setTimeout(() => this.onGapTimeout(), this.timing.versionGapTimeoutMs);
      return;
    }
    this.recordFindings([{ reason: 'version-gap', expected: { version: this.shadow.version + 1 }, actual: { bufferedVersions: this.shadow.bufferedVersions } }]);
  }

  private recordFindings(findings: Array<DesyncFinding | undefined>): void {
    for (const finding of findings) {
      if (!finding) continue;
      this.stats.desyncs += 1;
      if (this.pendingDesync) this.flushDesync(undefined);
      this.pendingDesync = finding;
      // Fetch the server's full state so the event carries both states, and resync the shadow from it.
      this.shadow.startResync();
      this.clearTimer('gap');
      if (!this.requestRead()) this.flushDesync(undefined);
    }
  }

  private flushDesync(actualState: unknown): void {
    const finding = this.pendingDesync;
    if (!finding) return;
    this.pendingDesync = null;
    const actual = actualState === undefined ? finding.actual : { ...(finding.actual as object), server: actualState };
    this.event('desync', { reason: finding.reason, seq: finding.seq, expected: finding.expected, actual });
  }

  private requestRead(): boolean {
    if (!this.socket || this.socket.readyState !== WS_OPEN || this.pendingRead || this.pendingLogin) return this.pendingRead !== null;
    const intendedAt = this.clock.now();
    this.pendingRead = { intendedAt };
    this.op('invoke', 'read', { intendedAt });
    this.send({ t: 'read' });
    this.timers.read = this.clock.setTimeout(() => this.linkLost('read timeout'), this.timing.actionTimeoutMs);
    return true;
  }

  // ---- acting ----

  private afterCompletion(): void {
    if (this.phaseValue === 'stopping') {
      if (!this.inFlight && !this.pendingRead) this.finish(this.endReason || 'stopped');
      return;
    }
    if (this.phaseValue === 'draining') {
      if (!this.inFlight && !this.pendingRead) this.closeVoluntarily();
      return;
    }
    this.pump();
  }

  /** Sends the next action if one is due, else waits for the next schedule slot. */
  private pump(): void {
    if (this.phaseValue !== 'ready' || this.inFlight || !this.socket) return;
    this.clearTimer('slot');
    const now = this.clock.now();
    if (this.unresolved?.immediate) {
      // After a resume: resend the unknown action with its original seq, now (its own new op).
      const { seq, action } = this.unresolved;
      this.unresolved.immediate = false;
      return this.sendAction(seq, now, action, true);
    }
    const maxActions = this.options.maxActions;
    if (!this.unresolved && maxActions !== undefined && this.stats.actionsSent >= maxActions) {
      this.endReason = 'max-actions';
      void this.stop();
      return;
    }
    // Timers fire on a whole-ms loop clock, often a little early: within a ms counts as due, or
    // every action would pay an extra timer hop (~1 ms) that the server never caused.
    if (now < this.nextIntendedAt - TIMER_SLACK_MS) {
      this.timers.slot = this.clock.setTimeout(() => {
        this.timers.slot = undefined;
        this.pump();
      }, this.nextIntendedAt - now);
      return;
    }
    // No coordinated omission: a late bot keeps the schedule's time as intendedAt.
    const slot = this.nextIntendedAt;
    this.nextIntendedAt = slot + thinkTime(this.options.profile, this.actionRng);
    if (this.unresolved) return this.sendAction(this.unresolved.seq, slot, this.unresolved.action, true);
    const action = nextAction(this.options.profile, this.actionRng, {
      playerId: this.playerId,
      pickPeer: this.options.pickPeer ?? (() => undefined),
    });
    this.stats.actionsSent += 1;
    this.sendAction(this.nextSeq, slot, action, false);
  }

  private sendAction(seq: number, scheduledAt: number, action: Action, resend: boolean): void {
    // Late: intendedAt stays the schedule's time. Early (a timer within its slack): the send time,
    // so `time >= intendedAt` holds and the latency is never shortened.
    const intendedAt = Math.min(scheduledAt, this.clock.now());
    this.inFlight = { seq, action, intendedAt, resend };
    this.op('invoke', action.kind, { seq, intendedAt, value: action });
    this.send({ t: 'action', seq, action });
    this.timers.action = this.clock.setTimeout(() => this.linkLost('action timeout'), this.timing.actionTimeoutMs);
  }

  // ---- ending ----

  private finish(reason: string): void {
    if (this.phaseValue === 'ended') return;
    this.phaseValue = 'stopping';
    for (const name of Object.keys(this.timers) as Array<keyof BotSession['timers']>) this.clearTimer(name);
    this.settleInFlight(reason === 'gave-up' ? this.lastError || reason : reason);
    this.detachSocket(true);
    this.phaseValue = 'ended';
    this.event('session-end', {
      reason,
      version: this.shadow.state?.version,
      checksum: this.shadow.state ? this.shadow.checksum : undefined,
      lastSeq: this.nextSeq - 1,
      pendingInfo: this.stats.pendingInfo,
      actions: this.stats.actionsSent,
      reconnects: this.stats.reconnects,
      desyncs: this.stats.desyncs,
      ...(this.thinkingUntilAtStop !== undefined ? { thinkingUntil: round(this.thinkingUntilAtStop) } : {}),
    });
    this.endedResolve?.();
  }

  // ---- recording ----

  private noteInfo(seq: number): void {
    this.infoBySeq.set(seq, (this.infoBySeq.get(seq) ?? 0) + 1);
    this.stats.pendingInfo += 1;
  }

  private resolveInfo(seq: number): void {
    const count = this.infoBySeq.get(seq);
    if (count === undefined) return;
    this.infoBySeq.delete(seq);
    this.stats.pendingInfo -= count;
  }

  private op(
    type: OpType,
    f: ClientOpKind,
    fields: { seq?: number; intendedAt: number; value?: unknown; version?: number; checksum?: string; error?: string },
  ): void {
    this.options.sink.record({
      type,
      process: this.botId,
      player: this.playerId,
      f,
      ...(fields.seq !== undefined ? { seq: fields.seq } : {}),
      ...(fields.value !== undefined ? { value: fields.value } : {}),
      intendedAt: round(fields.intendedAt),
      time: round(this.clock.now()),
      ...(fields.version !== undefined ? { version: fields.version, checksum: fields.checksum } : {}),
      ...(fields.error !== undefined ? { error: fields.error } : {}),
    });
  }

  private event(f: 'desync' | 'gave-up' | 'reconnected' | 'session-start' | 'session-end', value: unknown): void {
    this.options.sink.record({ type: 'event', process: this.botId, player: this.playerId, f, time: round(this.clock.now()), value });
  }

  private clearTimer(name: keyof BotSession['timers']): void {
    const handle = this.timers[name];
    if (handle !== undefined) {
      this.clock.clearTimeout(handle);
      this.timers[name] = undefined;
    }
  }
}

const TIMER_SLACK_MS = 1;

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
