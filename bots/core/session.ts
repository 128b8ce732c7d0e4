/**
 * One bot playing one player through a game's GameClient: the session as an explicit state machine.
 *
 *   idle ─start→ connecting ─connected→ ready ⇄ (up to timing.maxInFlight actions in flight, on a think-time or burst schedule)
 *   connecting ─connect-failed→ backoff ─backoff-over→ connecting        (capped exponential backoff, full jitter)
 *   ready ─link-lost / action-timeout→ backoff → connecting → ready      (resume; the unknown action is resent with its seq)
 *   ready ─session-over→ draining ─(in-flight done)→ offline ─offline-over→ connecting   (voluntary disconnect)
 *   any ─stop→ stopping ─(in-flight done | grace-over)→ ended;  backoff ─(too many failures)→ ended ('gave-up')
 *
 * Every change of state starts in `transition()`; `ACCEPTS` lists the events each state takes, and an
 * event a state does not take (a late timer, a stale connect) is dropped there. The game's client
 * does the protocol; the session owns what every game shares: the schedule (no coordinated
 * omission), action choice, sequence numbers, the action timeout, reconnects, voluntary
 * disconnects, the graceful stop and the Jepsen history (each op an invoke, then ok/fail/info).
 *
 * Pipelining (maxInFlight > 1): several actions of one bot are in flight at once, each with its own
 * seq (allocated at send, in order). The history keys ops by (process, player, f, seq), so the
 * checkers see one logical operation per seq. A refused action (fail) frees its seq; the server
 * then refuses every later one in flight as out-of-order, so new sends wait until those have
 * settled and numbering restarts at the lowest refused seq. Link loss settles every in-flight
 * action as info; after the resume they are all resent with their seqs, lowest first.
 *
 * Plain TypeScript against the game port and an injected Clock: no Node APIs (k6-bundleable).
 */
import { SmallMap } from '../../core/small-map';
import { reusableTimer, type Clock, type ReusableTimer } from '../../core/clock';
import { sample } from '../../core/distributions';
import { LoginError, type ActionContext, type ActionSpec, type BehaviourProfile, type GameClient, type GameClientContext, type GameConnection, type LoginResult, type Outcome } from '../../core/game';
import type { OpType } from '../../core/history';
import { createRng, deriveSeed, type Rng } from '../../core/rng';
import type { WebSocketFactory } from '../../core/websocket-like';
import { chooseAction, validateProfile } from './actions';
import { DEFAULT_TIMING, type BotSink, type SessionTiming } from './types';

export interface BotSessionOptions {
  botId: string;
  playerId: string;
  /** Where the client connects (also recorded in session-start). */
  url: string;
  profile: BehaviourProfile;
  /** The game's actions (GameDefinition.actions); the profile's mix names them. */
  actions: Readonly<Record<string, ActionSpec>>;
  /** Creates the session's client (GameDefinition.client); called once, in the constructor. */
  createClient(context: GameClientContext): GameClient;
  /** This session's seed (derive it with deriveSeed(runSeed, botId)). */
  seed: number;
  /** The player's seed, the same for every session of the player (default: `seed`). */
  playerSeed?: number;
  clock: Clock;
  /** How the client opens WebSockets (`ws` in the fleet). */
  openWebSocket: WebSocketFactory;
  sink: BotSink;
  /** Gift recipients and the like: another bot's player, or undefined when there is none. */
  pickPeer?: (rng: Rng) => string | undefined;
  /** Stop acting (and end the session) after this many new actions. */
  maxActions?: number;
  timing?: Partial<SessionTiming>;
  /** Disconnect voluntarily after the profile's session length and resume after its offline time (default true). */
  voluntaryDisconnects?: boolean;
  /** When the session was meant to start (ms since run start): the first login's intendedAt. */
  intendedStartAt?: number;
  /**
   * Instead of the profile's think time: act `actions` times at every multiple of `everyMs` since
   * run start, so every bot with the same burst acts at the same instant (a hot spot in time).
   */
  burst?: { everyMs: number; actions: number };
}

export type SessionState = 'idle' | 'connecting' | 'ready' | 'draining' | 'backoff' | 'offline' | 'stopping' | 'ended';

interface InFlight {
  name: string;
  params: unknown;
  seq: number;
  intendedAt: number;
  resend: boolean;
  /** When it went out (its action timeout runs from here). */
  sentAt: number;
}

/** An action whose outcome is unknown (info): resent with its original seq until it is ok or superseded. */
interface Unresolved {
  name: string;
  params: unknown;
  /** Resend at once (after a resume), not at the next schedule slot. */
  immediate: boolean;
}

export type SessionEvent =
  | { type: 'start' }
  | { type: 'login-sent'; attempt: number }
  | { type: 'connected'; attempt: number; login: LoginResult; connection: GameConnection }
  | { type: 'connect-failed'; attempt: number; error: unknown }
  | { type: 'link-lost'; attempt: number; reason: string }
  | { type: 'outcome'; call: InFlight; outcome: Outcome }
  | { type: 'action-timeout' }
  | { type: 'slot-due' }
  | { type: 'session-over' }
  | { type: 'backoff-over' }
  | { type: 'offline-over' }
  | { type: 'stop' }
  | { type: 'grace-over' };

/** The events each state accepts; anything else is stale (a late timer or promise) and dropped. */
export const ACCEPTS: Readonly<Record<SessionState, ReadonlyArray<SessionEvent['type']>>> = {
  idle: ['start', 'stop'],
  // link-lost here: the link died between the login and the session seeing it; handled after 'connected'.
  connecting: ['login-sent', 'connected', 'connect-failed', 'link-lost', 'session-over', 'stop'],
  ready: ['link-lost', 'outcome', 'action-timeout', 'slot-due', 'session-over', 'stop'],
  draining: ['link-lost', 'outcome', 'action-timeout', 'stop'],
  backoff: ['backoff-over', 'session-over', 'stop'],
  offline: ['offline-over', 'stop'],
  stopping: ['link-lost', 'outcome', 'action-timeout', 'grace-over'],
  ended: [],
};

/** Timers fire on a whole-ms loop clock, often a little early: within this much a slot counts as due. */
export const TIMER_SLACK_MS = 1;

export interface SessionStats {
  actionsSent: number;
  reconnects: number;
  desyncs: number;
  pendingInfo: number;
}

type TimerName = 'slot' | 'action' | 'session' | 'backoff' | 'offline' | 'grace';
/** What each timer tells the state machine when it fires. */
const TIMER_EVENTS: Readonly<Record<TimerName, SessionEvent>> = {
  slot: { type: 'slot-due' },
  action: { type: 'action-timeout' },
  session: { type: 'session-over' },
  backoff: { type: 'backoff-over' },
  offline: { type: 'offline-over' },
  grace: { type: 'grace-over' },
};

export class BotSession {
  readonly botId: string;
  readonly playerId: string;
  readonly stats: SessionStats = { actionsSent: 0, reconnects: 0, desyncs: 0, pendingInfo: 0 };
  private readonly timing: SessionTiming;
  private readonly clock: Clock;
  private readonly client: GameClient;
  private readonly actionRng: Rng;
  private readonly sessionRng: Rng;
  private readonly jitterRng: Rng;
  private readonly actionContext: ActionContext;

  private current: SessionState = 'idle';
  private connection: GameConnection | null = null;
  /** Connect attempts so far; events carry theirs, so a stale one is recognised. */
  private attempt = 0;
  private attemptStartedAt = 0;
  private loginSent = false;
  /** The link died before the session saw the login: handled right after it. */
  private lostBeforeReady: string | undefined;
  private loggedInOnce = false;
  private nextSeq = 1;
  private nextIntendedAt = 0;
  /** Burst schedule: actions still to send at the current burst instant. */
  private burstLeft = 0;
  /** seq → the action in flight with it (insertion order = send order). */
  private readonly inFlight = new SmallMap<number, InFlight>();
  /** seq → actions whose outcome is unknown, resent lowest seq first. */
  private readonly unresolved = new Map<number, Unresolved>();
  /** A fresh action was refused: no new sends until the in-flight ones settle; then seqs restart here. */
  private refusedFloor: number | undefined;
  /** seq → info completions not yet resolved by a later ok of the same seq. */
  private readonly infoBySeq = new Map<number, number>();
  private failedAttempts = 0;
  private lastError = '';
  private reconnectStartedAt: number | undefined;
  private reconnectVoluntary = false;
  /** The profile's session ran out while the link was down: disconnect once the resume is done. */
  private sessionOverWhileReconnecting = false;
  private thinkingUntilAtStop: number | undefined;
  private endReason = '';
  /** Made on first use and re-armed after that: a bot's think and action timers allocate nothing per action. */
  private readonly timers: Partial<Record<TimerName, ReusableTimer>> = {};
  private endedResolve: (() => void) | undefined;
  private readonly endedPromise: Promise<void>;

  constructor(private readonly options: BotSessionOptions) {
    this.botId = options.botId;
    this.playerId = options.playerId;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.clock = options.clock;
    validateProfile(options.profile, options.actions);
    this.actionRng = createRng(deriveSeed(options.seed, 'actions'));
    this.sessionRng = createRng(deriveSeed(options.seed, 'sessions'));
    this.jitterRng = createRng(deriveSeed(options.seed, 'jitter'));
    const pickPeer = options.pickPeer ?? noPeer;
    this.actionContext = { playerId: options.playerId, rng: this.actionRng, pickPeer, profile: options.profile };
    this.endedPromise = new Promise((resolve) => (this.endedResolve = resolve));
    const { pingIntervalMs, pongTimeoutMs, connectTimeoutMs, helloTimeoutMs, actionTimeoutMs, versionGapTimeoutMs } = this.timing;
    const session = this; // eslint-disable-line @typescript-eslint/no-this-alias -- methods, not arrows: see noPeer
    this.client = options.createClient({
      botId: options.botId,
      playerId: options.playerId,
      seed: options.seed,
      playerSeed: options.playerSeed ?? options.seed,
      url: options.url,
      clock: options.clock,
      openWebSocket: options.openWebSocket,
      timing: { pingIntervalMs, pongTimeoutMs, connectTimeoutMs, helloTimeoutMs, actionTimeoutMs, versionGapTimeoutMs },
      recordOp(type, f, fields) {
        session.op(type, f, fields);
      },
      recordDesync(finding) {
        session.stats.desyncs += 1;
        session.event('desync', { reason: finding.reason, seq: finding.seq, expected: finding.expected, actual: finding.actual });
      },
      pickPeer,
    });
  }

  get state(): SessionState {
    return this.current;
  }
  /** Logged in and playing (what "online" means for the fleet's gauge). */
  get online(): boolean {
    return this.current === 'ready' || this.current === 'draining';
  }
  get ended(): Promise<void> {
    return this.endedPromise;
  }

  start(): void {
    this.dispatch({ type: 'start' });
  }

  /** Graceful stop: no new actions; an in-flight action gets `stopGraceMs`, then info; emits session-end. */
  stop(): Promise<void> {
    this.dispatch({ type: 'stop' });
    return this.endedPromise;
  }

  /** Feeds one event to the machine; events the current state does not accept are dropped. */
  dispatch(event: SessionEvent): void {
    const stale =
      !ACCEPTS[this.current].includes(event.type) ||
      ('attempt' in event && event.attempt !== this.attempt) ||
      (event.type === 'outcome' && this.inFlight.get(event.call.seq) !== event.call);
    if (stale) {
      // A login that completed after the session moved on: log it out again.
      if (event.type === 'connected') event.connection.close(true, 'session moved on');
      return;
    }
    this.transition(event);
  }

  // ---- the transition function ----

  private transition(event: SessionEvent): void {
    const now = this.clock.now();
    switch (event.type) {
      case 'start': {
        const intendedAt = this.options.intendedStartAt ?? now;
        this.event('session-start', { url: this.options.url, profile: this.options.profile.name, intendedAt: round(intendedAt) });
        return this.connect(intendedAt);
      }
      case 'login-sent':
        if (!this.loginSent) this.recordLoginInvoke();
        return;
      case 'connected':
        return this.loggedIn(event.login, event.connection);
      case 'connect-failed':
        return this.connectFailed(event.error);
      case 'link-lost':
        if (this.current === 'connecting') {
          this.lostBeforeReady = event.reason;
          return;
        }
        return this.linkDown(event.reason, false);
      case 'action-timeout':
        return this.linkDown('action timeout', true);
      case 'outcome':
        return this.completed(event.call, event.outcome);
      case 'slot-due':
        return this.pump();
      case 'session-over':
        return this.beginVoluntaryDisconnect();
      case 'backoff-over':
        return this.connect(now);
      case 'offline-over':
        this.reconnectStartedAt = now;
        this.reconnectVoluntary = true;
        return this.connect(now);
      case 'stop':
        return this.beginStop();
      case 'grace-over':
        return this.finish(this.endReason || 'stopped');
    }
  }

  // ---- connecting ----

  private connect(intendedAt: number): void {
    this.enter('connecting');
    const attempt = ++this.attempt;
    this.attemptStartedAt = intendedAt;
    this.loginSent = false;
    this.lostBeforeReady = undefined;
    let pending: Promise<{ login: LoginResult; connection: GameConnection }>;
    try {
      const session = this; // eslint-disable-line @typescript-eslint/no-this-alias -- methods, not arrows: see noPeer
      pending = this.client.connect({
        resume: this.loggedInOnce,
        onLoginSent() {
          session.dispatch({ type: 'login-sent', attempt });
        },
        onLinkLost(reason) {
          session.dispatch({ type: 'link-lost', attempt, reason });
        },
      });
    } catch (error) {
      return this.dispatch({ type: 'connect-failed', attempt, error });
    }
    pending.then(
      ({ login, connection }) => this.dispatch({ type: 'connected', attempt, login, connection }),
      (error: unknown) => this.dispatch({ type: 'connect-failed', attempt, error }),
    );
  }

  private recordLoginInvoke(): void {
    this.loginSent = true;
    this.op('invoke', 'login', { intendedAt: this.attemptStartedAt, value: { reconnect: this.loggedInOnce } });
  }

  private loggedIn(login: LoginResult, connection: GameConnection): void {
    if (!this.loginSent) this.recordLoginInvoke();
    this.loginSent = false;
    this.connection = connection;
    this.failedAttempts = 0;
    this.op('ok', 'login', { intendedAt: this.attemptStartedAt, value: login.value, version: login.version, checksum: login.checksum });
    const firstLogin = !this.loggedInOnce;
    // After a resume with actions still unknown, their seqs stay the next ones to (re)send.
    if (login.lastSeq !== undefined && (firstLogin || this.unresolved.size === 0)) {
      this.nextSeq = login.lastSeq + 1;
      this.refusedFloor = undefined;
    }
    const voluntary = this.reconnectVoluntary;
    if (this.reconnectStartedAt !== undefined) {
      this.stats.reconnects += 1;
      const resending = this.unresolvedSeqs();
      this.event('reconnected', {
        voluntary,
        resumeMs: round(this.clock.now() - this.reconnectStartedAt),
        ...login.reconnected,
        resending: resending[0],
        ...(resending.length > 1 ? { resendingSeqs: resending } : {}),
      });
      this.reconnectStartedAt = undefined;
    }
    this.loggedInOnce = true;
    this.enter('ready');
    if (firstLogin || voluntary) {
      // A fresh stretch of play: the schedule and the session length start now.
      this.burstLeft = 0;
      this.nextIntendedAt = this.slotAfter(this.clock.now());
      this.reconnectVoluntary = false;
      this.sessionOverWhileReconnecting = false;
      if (this.options.voluntaryDisconnects !== false) {
        const length = sample(this.options.profile.sessionLength, this.sessionRng);
        if (Number.isFinite(length)) this.setTimer('session', length);
      }
    }
    this.pump();
    if (this.sessionOverWhileReconnecting && this.current === 'ready') {
      this.sessionOverWhileReconnecting = false;
      this.beginVoluntaryDisconnect(); // after pump: a resent action goes out and is drained first
    }
    const lost = this.lostBeforeReady;
    this.lostBeforeReady = undefined;
    if (lost !== undefined && (this.current === 'ready' || this.current === 'draining')) this.linkDown(lost, false);
  }

  private connectFailed(error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (this.loginSent) this.op(error instanceof LoginError ? error.type : 'info', 'login', { intendedAt: this.attemptStartedAt, error: reason });
    this.loginSent = false;
    this.failedAttempts += 1;
    this.lastError = reason;
    if (this.reconnectStartedAt === undefined) {
      this.reconnectStartedAt = this.clock.now();
      this.reconnectVoluntary = false;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.failedAttempts >= this.timing.maxReconnectAttempts) {
      this.event('gave-up', { attempts: this.failedAttempts, lastError: this.lastError });
      return this.finish('gave-up');
    }
    const ceiling = Math.min(this.timing.backoffCapMs, this.timing.backoffBaseMs * 2 ** this.failedAttempts);
    this.enter('backoff');
    this.setTimer('backoff', this.jitterRng.next() * ceiling);
  }

  // ---- a dead link ----

  /** The link is gone (or declared dead): settle the action as info, then reconnect, go offline or end. */
  private linkDown(reason: string, closeIt: boolean): void {
    const state = this.current;
    this.lastError = reason;
    this.clearTimer('slot');
    this.settleAction(reason);
    const connection = this.connection;
    this.connection = null;
    if (closeIt) connection?.close(false, reason);
    if (state === 'stopping') return this.finish(this.endReason || 'stopped');
    if (state === 'draining') return this.goOffline();
    if (this.reconnectStartedAt === undefined) {
      this.reconnectStartedAt = this.clock.now();
      this.reconnectVoluntary = false;
    }
    this.scheduleReconnect();
  }

  /** Every action in flight becomes info (in send order) and is resent at once after the resume. */
  private settleAction(reason: string): void {
    this.clearTimer('action');
    const flights = this.inFlight.values();
    this.inFlight.clear();
    for (const flight of flights) {
      this.op('info', flight.name, { seq: flight.seq, intendedAt: flight.intendedAt, error: reason });
      this.noteInfo(flight.seq);
      this.unresolved.set(flight.seq, { name: flight.name, params: flight.params, immediate: true });
    }
    for (const entry of this.unresolved.values()) entry.immediate = true;
  }

  // ---- voluntary disconnects ----

  /** The profile's session is over: finish what is in flight, then disconnect voluntarily. */
  private beginVoluntaryDisconnect(): void {
    if (this.current === 'backoff' || this.current === 'connecting') {
      this.sessionOverWhileReconnecting = true;
      return;
    }
    if (this.current !== 'ready') return;
    this.enter('draining');
    this.clearTimer('slot');
    if (this.inFlight.size === 0) this.closeVoluntarily();
  }

  private closeVoluntarily(): void {
    this.clearTimer('action');
    this.clearTimer('slot');
    const connection = this.connection;
    this.connection = null;
    connection?.close(true, 'session over');
    this.goOffline();
  }

  private goOffline(): void {
    this.enter('offline');
    this.setTimer('offline', sample(this.options.profile.offlineTime, this.sessionRng));
  }

  // ---- acting ----

  /** Sends every action that is due while fewer than maxInFlight are in flight, else waits for the next slot. */
  private pump(): void {
    // Bounded: each pass sends an action, lets a slot pass, or returns.
    for (let pass = 0; pass < 10_000; pass++) {
      if (this.current !== 'ready' || !this.connection || this.inFlight.size >= this.timing.maxInFlight) return;
      this.clearTimer('slot');
      const now = this.clock.now();
      const immediate = this.nextUnresolved(true);
      if (immediate !== undefined) {
        // After a resume: resend the unknown action with its original seq, now (its own new op).
        const entry = this.unresolved.get(immediate)!;
        entry.immediate = false;
        this.sendAction(immediate, now, entry.name, entry.params, true);
        continue;
      }
      if (this.refusedFloor !== undefined) {
        // Later seqs in flight will be refused as out-of-order: wait for them, then number from the refused one.
        if (this.inFlight.size > 0) return;
        this.nextSeq = this.refusedFloor;
        this.refusedFloor = undefined;
      }
      const maxActions = this.options.maxActions;
      if (maxActions !== undefined && this.stats.actionsSent >= maxActions && this.nextUnresolved(false) === undefined) {
        // No new actions any more: end once nothing is in flight or unknown.
        if (this.inFlight.size > 0 || this.unresolved.size > 0) return;
        this.endReason = 'max-actions';
        return this.beginStop();
      }
      // Within TIMER_SLACK_MS counts as due, or every action would pay an extra timer hop the server never caused.
      if (now < this.nextIntendedAt - TIMER_SLACK_MS) return this.setTimer('slot', this.nextIntendedAt - now);
      // No coordinated omission: a late bot keeps the schedule's time as intendedAt.
      const slot = this.nextIntendedAt;
      this.nextIntendedAt = this.slotAfter(slot);
      const resend = this.nextUnresolved(false);
      if (resend !== undefined) {
        const entry = this.unresolved.get(resend)!;
        this.sendAction(resend, slot, entry.name, entry.params, true);
        continue;
      }
      const choice = chooseAction(this.options.profile, this.options.actions, this.actionContext);
      if (!choice) continue; // nothing possible now: this slot passes
      this.stats.actionsSent += 1;
      this.sendAction(this.nextSeq, slot, choice.name, choice.params, false);
      this.nextSeq += 1;
    }
  }

  /** The schedule's next slot after `slot`: the profile's think time, or the burst's next instant. */
  private slotAfter(slot: number): number {
    const burst = this.options.burst;
    if (!burst) return slot + sample(this.options.profile.thinkTime, this.actionRng);
    if (this.burstLeft > 0) {
      this.burstLeft -= 1;
      return slot;
    }
    this.burstLeft = burst.actions - 1;
    return (Math.floor(slot / burst.everyMs) + 1) * burst.everyMs;
  }

  /** The lowest unresolved seq not in flight (only those due at once, with `immediate`). */
  private nextUnresolved(immediate: boolean): number | undefined {
    let lowest: number | undefined;
    for (const [seq, entry] of this.unresolved) {
      if (this.inFlight.has(seq) || (immediate && !entry.immediate)) continue;
      if (lowest === undefined || seq < lowest) lowest = seq;
    }
    return lowest;
  }

  private unresolvedSeqs(): number[] {
    return [...this.unresolved.keys()].sort((a, b) => a - b);
  }

  /** The action timer runs for the oldest action in flight. */
  private armActionTimer(): void {
    const oldest = this.inFlight.first();
    if (!oldest) return this.clearTimer('action');
    this.setTimer('action', Math.max(0, oldest.sentAt + this.timing.actionTimeoutMs - this.clock.now()));
  }

  private sendAction(seq: number, scheduledAt: number, name: string, params: unknown, resend: boolean): void {
    // Late: intendedAt stays the schedule's time. Early (a timer within its slack): the send time,
    // so `time >= intendedAt` holds and the latency is never shortened.
    const now = this.clock.now();
    const intendedAt = Math.min(scheduledAt, now);
    const flight: InFlight = { name, params, seq, intendedAt, resend, sentAt: now };
    this.inFlight.set(seq, flight);
    this.op('invoke', name, { seq, intendedAt, value: params });
    if (this.inFlight.size === 1) this.armActionTimer();
    let pending: Promise<Outcome>;
    try {
      pending = this.connection!.invoke({ name, params, seq, resend });
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (outcome) => this.dispatch({ type: 'outcome', call: flight, outcome }),
      (error: unknown) => this.dispatch({ type: 'outcome', call: flight, outcome: { type: 'info', error: error instanceof Error ? error.message : String(error) } }),
    );
  }

  private completed(flight: InFlight, outcome: Outcome): void {
    this.inFlight.delete(flight.seq);
    this.armActionTimer();
    const { seq, intendedAt } = flight;
    if (outcome.type === 'ok') {
      this.op('ok', flight.name, { seq, intendedAt, value: outcome.value, version: outcome.version, checksum: outcome.checksum });
      this.resolveInfo(seq);
      this.unresolved.delete(seq);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    } else {
      this.op(outcome.type, flight.name, { seq, intendedAt, error: outcome.error });
      if (outcome.type === 'info') {
        this.noteInfo(seq);
        this.unresolved.set(seq, { name: flight.name, params: flight.params, immediate: false });
      } else if (outcome.expectedSeq !== undefined) {
        // The server names the seq it wants; an unknown earlier action cannot be pending any more.
        this.refuse(outcome.expectedSeq);
        this.unresolved.clear();
      } else if (flight.resend) {
        // Refused before processing: the original's fate is still unknown, try it again later.
        this.unresolved.set(seq, { name: flight.name, params: flight.params, immediate: false });
      } else {
        // Refused: the seq was never used and is free again.
        this.refuse(seq);
      }
    }
    if (this.inFlight.size > 0 && (this.current === 'stopping' || this.current === 'draining')) return;
    if (this.current === 'stopping') return this.finish(this.endReason || 'stopped');
    if (this.current === 'draining') return this.closeVoluntarily();
    this.pump();
  }

  private refuse(seq: number): void {
    this.refusedFloor = Math.min(this.refusedFloor ?? Infinity, seq);
  }

  // ---- ending ----

  private beginStop(): void {
    const wasPlaying = this.current === 'ready' || this.current === 'draining';
    // Connected with nothing due yet: the checkers must not read "no action after the heal" as "not recovered".
    if (this.current === 'ready' && this.inFlight.size === 0 && this.unresolved.size === 0 && this.nextIntendedAt > this.clock.now()) {
      this.thinkingUntilAtStop = this.nextIntendedAt;
    }
    this.enter('stopping');
    for (const name of ['slot', 'session', 'backoff', 'offline'] as const) this.clearTimer(name);
    if (wasPlaying && this.inFlight.size > 0) this.setTimer('grace', this.timing.stopGraceMs);
    else this.finish(this.endReason || 'stopped');
  }

  private finish(reason: string): void {
    if (this.current === 'ended') return;
    for (const timer of Object.values(this.timers)) timer.cancel();
    const why = reason === 'gave-up' ? this.lastError || reason : reason;
    if (this.loginSent) this.op('info', 'login', { intendedAt: this.attemptStartedAt, error: why });
    this.loginSent = false;
    this.settleAction(why);
    const connection = this.connection;
    this.connection = null;
    connection?.close(true, why);
    this.enter('ended');
    this.event('session-end', {
      reason,
      ...this.client.describeEnd?.(),
      lastSeq: (this.refusedFloor ?? this.nextSeq) - 1,
      pendingInfo: this.stats.pendingInfo,
      actions: this.stats.actionsSent,
      reconnects: this.stats.reconnects,
      desyncs: this.stats.desyncs,
      ...(this.thinkingUntilAtStop !== undefined ? { thinkingUntil: round(this.thinkingUntilAtStop) } : {}),
    });
    this.endedResolve?.();
  }

  // ---- bookkeeping ----

  private enter(state: SessionState): void {
    this.current = state;
  }

  private setTimer(name: TimerName, ms: number): void {
    (this.timers[name] ??= reusableTimer(this.clock, () => this.dispatch(TIMER_EVENTS[name]))).arm(ms);
  }

  private clearTimer(name: TimerName): void {
    this.timers[name]?.cancel();
  }

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

  private op(type: OpType, f: string, fields: { seq?: number; intendedAt: number; value?: unknown; version?: number; checksum?: string; error?: string }): void {
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
}

/**
 * The default pickPeer, shared. Per-bot callbacks here are methods, not arrows: tsx compiles with
 * esbuild's keepNames, which gives every arrow in a named position its own property dictionary
 * (about 250 B per function per bot, measured in a heap snapshot of 2 000 bots).
 */
function noPeer(): undefined {
  return undefined;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
