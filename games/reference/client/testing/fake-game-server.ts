/**
 * A scripted stand-in for the reference backend, for the reference client's tests and the bots benchmark: a real `ws` server on
 * 127.0.0.1 speaking the wire protocol with the shared game logic (dedup by seq with the stored
 * result, resume tokens, gift pushes), plus hooks that misbehave on purpose.
 */
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { checksum } from '../../rules/checksum';
import { epochNowMs } from '../../../../core/clock';
import { applyAction, applyGiftReceived, newPlayer, type Action, type ActionResult, type PlayerState } from '../../rules/model';
import type { ClientMessage, ErrorCode, ServerMessage } from '../../rules/protocol';

export type ActionBehaviour =
  | 'ack'
  /** Apply and store the result, then drop the TCP connection before the ack. */
  | 'apply-then-cut'
  /** Drop the connection without applying. */
  | 'cut'
  /** Swallow this and every later message on the socket (no ack, no pong): a black-holed link. */
  | 'blackhole'
  /** Apply, but ack with a wrong checksum. */
  | 'wrong-checksum'
  /** Apply, but skip a version (as if a push got lost). */
  | 'skip-version'
  | { error: ErrorCode; retryable: boolean; apply?: boolean };

export interface ActionCall {
  playerId: string;
  seq: number;
  action: Action;
  /** How many times this player's seq has been received (1 = first). */
  attempt: number;
}

interface StoredResult {
  result: ActionResult;
  version: number;
  checksum: string;
}

interface PlayerRecord {
  state: PlayerState;
  results: Map<number, StoredResult>;
  attempts: Map<number, number>;
}

export class FakeGameServer {
  private wss!: WebSocketServer;
  port = 0;
  readonly players = new Map<string, PlayerRecord>();
  /** playerId → resume token */
  private readonly tokens = new Map<string, string>();
  private readonly sockets = new Map<string, WebSocket>();
  private tokenCounter = 0;
  /** Decides how each action is handled (default: ack). */
  onAction: (call: ActionCall) => ActionBehaviour = () => 'ack';
  /** Hold the next welcome back this long (a slow login after a reconnect); used once. */
  delayNextWelcomeMs = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly received: Array<{ playerId: string; message: ClientMessage }> = [];
  connections = 0;
  /** Keep every received message in `received` (tests); off for benchmarks. */
  recordReceived = true;

  static async start(port = 0, options: { recordReceived?: boolean } = {}): Promise<FakeGameServer> {
    const server = new FakeGameServer();
    server.recordReceived = options.recordReceived ?? true;
    await server.listen(port);
    return server;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
      wss.once('error', reject);
      wss.once('listening', () => {
        this.port = (wss.address() as AddressInfo).port;
        resolve();
      });
      wss.on('connection', (socket) => this.accept(socket));
      this.wss = wss;
    });
  }

  /** Stops listening and drops every connection (clients then get ECONNREFUSED). */
  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  /** Listens again on the same port (after close()). */
  async reopen(): Promise<void> {
    await this.listen(this.port);
  }

  /** Drops every open connection without a closing handshake. */
  cutAll(): void {
    for (const client of this.wss.clients) client.terminate();
  }

  player(id: string): PlayerRecord {
    let record = this.players.get(id);
    if (!record) {
      record = { state: newPlayer(id), results: new Map(), attempts: new Map() };
      this.players.set(id, record);
    }
    return record;
  }

  private accept(socket: WebSocket): void {
    this.connections += 1;
    let playerId: string | undefined;
    let blackholed = false;
    const send = (message: ServerMessage): void => socket.send(JSON.stringify(message));
    socket.on('error', () => undefined);
    socket.on('message', (data) => {
      if (blackholed) return;
      const message = JSON.parse(String(data)) as ClientMessage;
      if (this.recordReceived) this.received.push({ playerId: playerId ?? '?', message });
      switch (message.t) {
        case 'hello': {
          // As PROTOCOL.md: a new player keeps the client's token; a known one must present it.
          const known = this.tokens.get(message.playerId);
          if (known !== undefined && known !== message.resumeToken) {
            return send({ t: 'error', code: 'bad-token', message: 'wrong or missing resume token', retryable: false });
          }
          playerId = message.playerId;
          const record = this.player(playerId);
          const previous = this.sockets.get(playerId);
          if (previous && previous !== socket) previous.close(4000, 'session taken over');
          this.sockets.set(playerId, socket);
          const token = message.resumeToken ?? `token-${++this.tokenCounter}`;
          this.tokens.set(playerId, token);
          const welcome = (): void => {
            if (socket.readyState === socket.OPEN) send({ t: 'welcome', state: record.state, checksum: checksum(record.state), resumeToken: token, resumed: known !== undefined, serverTime: epochNowMs() });
          };
          const delay = this.delayNextWelcomeMs;
          this.delayNextWelcomeMs = 0;
          if (delay > 0) this.timers.add(setTimeout(welcome, delay));
          else welcome();
          return;
        }
        case 'ping':
          return send({ t: 'pong', id: message.id, serverTime: epochNowMs() });
        case 'read': {
          const record = this.player(playerId!);
          return send({ t: 'state', state: record.state, checksum: checksum(record.state) });
        }
        case 'action': {
          if (!playerId) return send({ t: 'error', code: 'not-logged-in', message: 'hello first', seq: message.seq, retryable: false });
          const record = this.player(playerId);
          const attempt = (record.attempts.get(message.seq) ?? 0) + 1;
          record.attempts.set(message.seq, attempt);
          const stored = record.results.get(message.seq);
          if (stored) return send({ t: 'ack', seq: message.seq, ...stored, duplicate: true, serverTime: epochNowMs() });
          if (message.seq !== record.state.lastSeq + 1) {
            return send({ t: 'error', code: 'out-of-order', message: 'seq skips ahead', seq: message.seq, expectedSeq: record.state.lastSeq + 1, retryable: false });
          }
          const behaviour = this.onAction({ playerId, seq: message.seq, action: message.action, attempt });
          if (behaviour === 'blackhole') {
            blackholed = true;
            return;
          }
          if (behaviour === 'cut') return socket.terminate();
          if (typeof behaviour === 'object') {
            if (behaviour.apply) this.apply(record, message.seq, message.action);
            return send({ t: 'error', code: behaviour.error, message: 'scripted', seq: message.seq, retryable: behaviour.retryable });
          }
          const stored2 = this.apply(record, message.seq, message.action);
          if (behaviour === 'apply-then-cut') return socket.terminate();
          if (behaviour === 'skip-version') {
            record.state = { ...record.state, version: record.state.version + 1 };
            stored2.version = record.state.version;
            stored2.checksum = checksum(record.state);
          }
          const sum = behaviour === 'wrong-checksum' ? 'bad0c0ffee' : stored2.checksum;
          return send({ t: 'ack', seq: message.seq, result: stored2.result, version: stored2.version, checksum: sum, duplicate: false, serverTime: epochNowMs() });
        }
      }
    });
    socket.on('close', () => {
      if (playerId && this.sockets.get(playerId) === socket) this.sockets.delete(playerId);
    });
  }

  private apply(record: PlayerRecord, seq: number, action: Action): StoredResult {
    const applied = applyAction(record.state, action, seq);
    record.state = applied.state;
    const stored = { result: applied.result, version: applied.state.version, checksum: checksum(applied.state) };
    record.results.set(seq, stored);
    if (action.kind === 'gift-send' && applied.result.outcome === 'applied') {
      const recipient = this.player(action.to);
      recipient.state = applyGiftReceived(recipient.state, action.amount);
      const socket = this.sockets.get(action.to);
      if (socket && socket.readyState === WebSocket.OPEN) {
        const push: ServerMessage = { t: 'push', kind: 'gift-received', from: record.state.id, amount: action.amount, version: recipient.state.version, checksum: checksum(recipient.state), serverTime: epochNowMs() };
        socket.send(JSON.stringify(push));
      }
    }
    return stored;
  }
}
