/**
 * The reference game's GameClient: its WebSocket JSON protocol (rules/protocol.ts, server/PROTOCOL.md).
 *
 * connect → hello with the player's resume token → welcome (a LoginResult) → one action per `invoke`,
 * answered by an ack (ok) or a typed error (fail / info by what the server guarantees). Pings keep
 * the link honest (a pong that does not come declares it dead). The version-ordered shadow model
 * checks every ack and gift push; a finding fetches the server's state with a 'read' op (recorded
 * by this client) and is recorded as a desync carrying both states.
 *
 * Plain TypeScript against WebSocketLike and the injected Clock: no Node APIs (k6-bundleable).
 */
import type { TimerHandle } from '../../../core/clock';
import { deriveSeed } from '../../../core/rng';
import { LoginError, type ActionCall, type ConnectOptions, type GameClient, type GameClientContext, type GameConnection, type LoginResult, type Outcome } from '../../../core/game';
import { WS_OPEN, type WebSocketLike } from '../../../core/websocket-like';
import { checksum as checksumOf } from '../rules/checksum';
import type { Action, PlayerState } from '../rules/model';
import { PROTOCOL_VERSION, type ClientMessage, type ErrorCode, type ServerMessage } from '../rules/protocol';
import { ShadowModel, type DesyncFinding } from './shadow';

/** A stable resume token for a player, from the player's seed (8–128 characters). */
export function playerToken(seed: number, playerId: string): string {
  return `lagstorm.${deriveSeed(seed, 'token', playerId).toString(16).padStart(8, '0')}.${playerId}`.slice(0, 128);
}

/**
 * How a typed error for an action's seq completes the op. fail = the server guarantees it did not
 * apply it (shed or refused before processing, or a non-retryable rejection); info = it may have.
 */
export function classifyError(code: ErrorCode, retryable: boolean): 'fail' | 'info' {
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

export interface ReferenceClientOptions {
  /**
   * The resume token sent with every hello. The client chooses it (PROTOCOL.md: a client that may
   * lose its first welcome must, or it cannot prove ownership later). Default:
   * playerToken(playerSeed, playerId), the same for every session of the player.
   */
  resumeToken?: string;
}

type LinkPhase = 'none' | 'opening' | 'hello' | 'open';
type TimerName = 'connect' | 'hello' | 'liveness' | 'read' | 'gap';

interface PendingInvoke {
  call: ActionCall;
  resolve(outcome: Outcome): void;
}

export class ReferenceClient implements GameClient {
  private readonly shadow = new ShadowModel();
  private readonly resumeToken: string;
  private socket: WebSocketLike | null = null;
  private phase: LinkPhase = 'none';
  private linkOptions: ConnectOptions | null = null;
  private pendingConnect: { resolve(value: { login: LoginResult; connection: GameConnection }): void; reject(error: Error): void } | null = null;
  private readonly pending = new Map<number, PendingInvoke>();
  private pendingRead: { intendedAt: number } | null = null;
  private pendingDesync: DesyncFinding | null = null;
  /** The highest seq the server confirmed for this player (a welcome below it has lost state). */
  private confirmedLastSeq = 0;
  /** Seqs whose last outcome was unknown (info): one of them may be the version a gap waits for. */
  private readonly unknownSeqs = new Set<number>();
  private lastInboundAt = 0;
  private pingOutstanding = false;
  private pingSentAt = 0;
  private pingId = 0;
  private readonly timers: Record<TimerName, TimerHandle | undefined> = { connect: undefined, hello: undefined, liveness: undefined, read: undefined, gap: undefined };

  constructor(
    private readonly context: GameClientContext,
    options: ReferenceClientOptions = {},
  ) {
    this.resumeToken = options.resumeToken ?? playerToken(context.playerSeed, context.playerId);
  }

  /** The shadow's view of the player (tests). */
  get shadowState(): PlayerState | null {
    return this.shadow.state;
  }
  /** The shadow's view with the actions still in flight applied optimistically (what a pipelining client shows). */
  get predictedState(): PlayerState | null {
    return this.shadow.predicted;
  }

  connect(options: ConnectOptions): Promise<{ login: LoginResult; connection: GameConnection }> {
    this.detach(false);
    return new Promise((resolve, reject) => {
      this.pendingConnect = { resolve, reject };
      this.linkOptions = options;
      let socket: WebSocketLike;
      try {
        socket = this.context.openWebSocket(this.context.url);
      } catch (error) {
        this.pendingConnect = null;
        reject(new Error(`connect: ${(error as Error).message}`));
        return;
      }
      this.socket = socket;
      this.phase = 'opening';
      socket.onopen = () => socket === this.socket && this.onOpen();
      socket.onmessage = (event) => socket === this.socket && this.onMessage(event.data);
      socket.onclose = (event) => socket === this.socket && this.lost(`closed ${event.code}${event.reason ? ` ${event.reason}` : ''}`);
      socket.onerror = () => socket === this.socket && this.lost('socket error');
      this.setTimer('connect', this.context.timing.connectTimeoutMs, () => this.lost('connect timeout'));
    });
  }

  describeEnd(): Record<string, unknown> {
    return { version: this.shadow.state?.version, checksum: this.shadow.state ? this.shadow.checksum : undefined };
  }

  // ---- the link ----

  private onOpen(): void {
    this.clearTimer('connect');
    this.phase = 'hello';
    this.lastInboundAt = this.context.clock.now();
    this.pingOutstanding = false;
    this.linkOptions?.onLoginSent();
    this.send({ t: 'hello', playerId: this.context.playerId, protocol: PROTOCOL_VERSION, resumeToken: this.resumeToken });
    this.setTimer('hello', this.context.timing.helloTimeoutMs, () => this.lost('hello timeout'));
    this.armLiveness(this.context.timing.pingIntervalMs);
  }

  private send(message: ClientMessage): void {
    this.socket?.send(JSON.stringify(message));
  }

  /** The link died (or was declared dead) on our side: tell the session first, then settle our own ops. */
  private lost(reason: string): void {
    const phase = this.phase;
    const connect = this.pendingConnect;
    const options = this.linkOptions;
    this.detach(false);
    if (phase === 'opening') connect?.reject(new Error(reason));
    else if (phase === 'hello') connect?.reject(new LoginError('info', reason));
    else if (phase === 'open') options?.onLinkLost(reason);
    this.settleLink(reason);
  }

  /** Closed by the session (voluntary logout, declared dead, stopped). */
  private close(socket: WebSocketLike, graceful: boolean, reason: string): void {
    if (socket !== this.socket) return;
    this.detach(graceful);
    this.settleLink(reason);
  }

  private settleLink(reason: string): void {
    for (const { call, resolve } of this.pending.values()) {
      this.unknownSeqs.add(call.seq);
      this.shadow.settlePrediction(call.seq);
      resolve({ type: 'info', error: reason });
    }
    this.pending.clear();
    if (this.pendingRead) {
      this.context.recordOp('info', 'read', { intendedAt: this.pendingRead.intendedAt, error: reason });
      this.pendingRead = null;
    }
    this.flushDesync(undefined);
    this.shadow.clearBuffer();
  }

  private detach(graceful: boolean): void {
    for (const name of Object.keys(this.timers) as TimerName[]) this.clearTimer(name);
    this.phase = 'none';
    this.pendingConnect = null;
    this.linkOptions = null;
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

  private connection(socket: WebSocketLike): GameConnection {
    return {
      invoke: (call) => this.invoke(socket, call),
      close: (graceful, reason) => this.close(socket, graceful, reason ?? (graceful ? 'closed' : 'link lost')),
    };
  }

  private invoke(socket: WebSocketLike, call: ActionCall): Promise<Outcome> {
    if (socket !== this.socket || this.phase !== 'open') return Promise.resolve({ type: 'info', error: 'link closed' });
    return new Promise((resolve) => {
      this.pending.set(call.seq, { call, resolve });
      this.shadow.predict(call.seq, call.params as Action);
      this.send({ t: 'action', seq: call.seq, action: call.params as Action });
    });
  }

  // ---- liveness ----

  private armLiveness(ms: number): void {
    this.setTimer('liveness', ms, () => this.checkLiveness());
  }

  private checkLiveness(): void {
    if (!this.socket) return;
    const now = this.context.clock.now();
    const { pingIntervalMs, pongTimeoutMs } = this.context.timing;
    if (this.pingOutstanding) {
      if (now - this.pingSentAt >= pongTimeoutMs) return this.lost('pong timeout');
      return this.armLiveness(pongTimeoutMs - (now - this.pingSentAt));
    }
    const idle = now - this.lastInboundAt;
    if (idle >= pingIntervalMs) {
      this.pingOutstanding = true;
      this.pingSentAt = now;
      this.send({ t: 'ping', id: ++this.pingId });
      return this.armLiveness(pongTimeoutMs);
    }
    this.armLiveness(pingIntervalMs - idle);
  }

  // ---- inbound ----

  private onMessage(data: unknown): void {
    this.lastInboundAt = this.context.clock.now();
    this.pingOutstanding = false;
    let message: ServerMessage;
    try {
      message = JSON.parse(typeof data === 'string' ? data : String(data)) as ServerMessage;
    } catch {
      return this.lost('unparseable message from server');
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
    const connect = this.pendingConnect;
    const socket = this.socket;
    if (this.phase !== 'hello' || !connect || !socket) return;
    this.clearTimer('hello');
    this.pendingConnect = null;
    this.phase = 'open';
    const { state } = message;
    const before = this.shadow.state;
    let shadowReplaced = false;
    if (!before) {
      this.recordFindings([this.shadow.adopt(state, message.checksum)]);
      this.confirmedLastSeq = state.lastSeq;
    } else {
      if (state.version < before.version || state.lastSeq < this.confirmedLastSeq) {
        this.recordFindings([{ reason: 'state-regressed', expected: { state: before, checksum: this.shadow.checksum }, actual: { state, checksum: message.checksum } }]);
      } else if (state.version === before.version && checksumOf(state) !== this.shadow.checksum) {
        this.recordFindings([{ reason: 'checksum-mismatch', expected: { state: before, checksum: this.shadow.checksum }, actual: { state, checksum: message.checksum } }]);
      }
      // Gifts received offline and actions whose ack was lost moved the version on: take the server's word.
      shadowReplaced = state.version !== before.version;
      this.recordFindings([this.shadow.adopt(state, message.checksum)]);
      if (this.unknownSeqs.size === 0) this.confirmedLastSeq = state.lastSeq;
    }
    connect.resolve({
      login: {
        value: { version: state.version, lastSeq: state.lastSeq, checksum: message.checksum, resumed: message.resumed },
        version: state.version,
        checksum: message.checksum,
        lastSeq: state.lastSeq,
        reconnected: { resumed: message.resumed, versionBefore: before?.version, versionAfter: state.version, shadowReplaced },
      },
      connection: this.connection(socket),
    });
  }

  private onAck(message: Extract<ServerMessage, { t: 'ack' }>): void {
    const pending = this.pending.get(message.seq);
    if (!pending) return;
    this.pending.delete(message.seq);
    this.unknownSeqs.delete(message.seq);
    this.shadow.settlePrediction(message.seq);
    this.confirmedLastSeq = Math.max(this.confirmedLastSeq, message.seq);
    pending.resolve({ type: 'ok', value: message.duplicate ? { ...message.result, duplicate: true } : message.result, version: message.version, checksum: message.checksum });
    this.recordFindings(
      this.shadow.offer({ source: 'ack', version: message.version, checksum: message.checksum, seq: message.seq, action: pending.call.params as Action, result: message.result, duplicate: message.duplicate }),
    );
    this.afterChange();
  }

  private onPush(message: Extract<ServerMessage, { t: 'push' }>): void {
    if (message.kind !== 'gift-received') return;
    this.recordFindings(this.shadow.offer({ source: 'push', version: message.version, checksum: message.checksum, from: message.from, amount: message.amount }));
    this.afterChange();
  }

  private onState(message: Extract<ServerMessage, { t: 'state' }>): void {
    if (!this.pendingRead) return;
    this.clearTimer('read');
    this.context.recordOp('ok', 'read', { intendedAt: this.pendingRead.intendedAt, value: message.state, version: message.state.version, checksum: message.checksum });
    this.pendingRead = null;
    this.flushDesync({ state: message.state, checksum: message.checksum });
    // A read is itself the resync after a finding; reporting from here could loop read → finding → read.
    this.shadow.adopt(message.state, message.checksum);
    this.afterChange();
  }

  private onError(message: Extract<ServerMessage, { t: 'error' }>): void {
    const error = `${message.code}: ${message.message}`;
    const pending = message.seq !== undefined ? this.pending.get(message.seq) : undefined;
    if (pending) {
      this.pending.delete(pending.call.seq);
      this.shadow.settlePrediction(pending.call.seq);
      const type = classifyError(message.code, message.retryable);
      if (type === 'info') {
        this.unknownSeqs.add(pending.call.seq);
        return pending.resolve({ type, error });
      }
      if (message.code === 'out-of-order' && typeof message.expectedSeq === 'number') {
        // The server names the seq it wants: nothing earlier can still be unknown.
        this.unknownSeqs.clear();
        this.confirmedLastSeq = message.expectedSeq - 1;
        return pending.resolve({ type, error, expectedSeq: message.expectedSeq });
      }
      return pending.resolve({ type, error });
    }
    if (message.seq !== undefined) return;
    if (this.phase === 'hello' && this.pendingConnect) {
      // bad-token (the server lost or changed our token), shutting-down, overloaded...: a failed
      // login; the session backs off and tries again with the same token.
      const connect = this.pendingConnect;
      this.detach(false);
      return connect.reject(new LoginError(classifyError(message.code, message.retryable), error));
    }
    if (this.pendingRead) {
      // The read was refused (database down, draining): complete it now instead of waiting for its timeout.
      const { intendedAt } = this.pendingRead;
      this.pendingRead = null;
      this.clearTimer('read');
      this.context.recordOp(classifyError(message.code, message.retryable), 'read', { intendedAt, error });
    }
    // Other errors without a seq of ours (e.g. 'shutting-down' before a close) need nothing: the close follows.
  }

  // ---- shadow findings ----

  private afterChange(): void {
    if (!this.shadow.hasGap) return this.clearTimer('gap');
    if (this.timers.gap === undefined) this.setTimer('gap', this.context.timing.versionGapTimeoutMs, () => this.onGapTimeout());
  }

  private onGapTimeout(): void {
    if (!this.shadow.hasGap || this.phase !== 'open') return;
    const resending = [...this.pending.values()].some((pending) => pending.call.resend);
    if (this.unknownSeqs.size > 0 || resending) {
      // An action of unknown outcome may be the missing version: wait for its resend's ack.
      this.setTimer('gap', this.context.timing.versionGapTimeoutMs, () => this.onGapTimeout());
      return;
    }
    this.recordFindings([{ reason: 'version-gap', expected: { version: this.shadow.version + 1 }, actual: { bufferedVersions: this.shadow.bufferedVersions } }]);
  }

  private recordFindings(findings: Array<DesyncFinding | undefined>): void {
    for (const finding of findings) {
      if (!finding) continue;
      if (this.pendingDesync) this.flushDesync(undefined);
      this.pendingDesync = finding;
      // Fetch the server's full state so the event carries both states, and resync the shadow from it.
      this.shadow.startResync();
      this.clearTimer('gap');
      if (!this.requestRead()) this.flushDesync(undefined);
    }
  }

  private flushDesync(serverState: unknown): void {
    const finding = this.pendingDesync;
    if (!finding) return;
    this.pendingDesync = null;
    const actual = serverState === undefined ? finding.actual : { ...(finding.actual as object), server: serverState };
    this.context.recordDesync({ reason: finding.reason, seq: finding.seq, expected: finding.expected, actual });
  }

  private requestRead(): boolean {
    if (!this.socket || this.socket.readyState !== WS_OPEN || this.phase !== 'open' || this.pendingRead) return this.pendingRead !== null;
    const intendedAt = this.context.clock.now();
    this.pendingRead = { intendedAt };
    this.context.recordOp('invoke', 'read', { intendedAt });
    this.send({ t: 'read' });
    this.setTimer('read', this.context.timing.actionTimeoutMs, () => this.lost('read timeout'));
    return true;
  }

  // ---- timers ----

  private setTimer(name: TimerName, ms: number, callback: () => void): void {
    this.clearTimer(name);
    this.timers[name] = this.context.clock.setTimeout(() => {
      this.timers[name] = undefined;
      callback();
    }, ms);
  }

  private clearTimer(name: TimerName): void {
    const handle = this.timers[name];
    if (handle !== undefined) {
      this.context.clock.clearTimeout(handle);
      this.timers[name] = undefined;
    }
  }
}

/** GameDefinition.client for the reference game. */
export function createReferenceClient(context: GameClientContext, options?: ReferenceClientOptions): ReferenceClient {
  return new ReferenceClient(context, options);
}
