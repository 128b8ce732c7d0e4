/**
 * The WebSocket gateway: one HTTP server per loopback address (127.0.0.1 and ::1, IPv6-only
 * socket), WebSocket upgrades on path '/', one Session per socket, heartbeats that reap dead
 * peers, and slow consumers cut off instead of buffering without bound.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { GameCore, Session } from './game-core';
import { errorText, type Logger } from './log';
import type { BackendMetrics } from './metrics';
import type { ServerMessage } from '../rules';

const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const HEARTBEAT_MS = 10_000;

class WsSession implements Session {
  playerId: string | undefined;
  status: Session['status'] = 'new';
  awaitingFirstRequest = false;
  alive = true;

  constructor(
    readonly id: number,
    readonly socket: WebSocket,
    private readonly metrics: BackendMetrics,
  ) {}

  send(message: ServerMessage): void {
    if (message.t === 'error') this.metrics.errors.inc({ code: message.code });
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.close(4008, 'client too slow: send buffer full');
      return;
    }
    this.socket.send(JSON.stringify(message));
  }

  close(code: number, reason: string): void {
    this.status = 'closed';
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(code, reason);
  }
}

export class Gateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES, perMessageDeflate: false });
  private readonly servers: http.Server[] = [];
  private readonly sockets = new Map<WebSocket, WsSession>();
  private nextSessionId = 1;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly core: GameCore,
    private readonly metrics: BackendMetrics,
    private readonly log: Logger,
  ) {}

  /** Listens on every host at one port (port 0: the first host picks a free one). Returns the port. */
  async listen(port: number, hosts: string[]): Promise<number> {
    for (let attempt = 0; ; attempt += 1) {
      let chosen = port;
      const started: http.Server[] = [];
      try {
        for (const host of hosts) {
          const server = this.createServer();
          await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen({ port: chosen, host, ipv6Only: host.includes(':') }, () => {
              server.off('error', reject);
              resolve();
            });
          });
          started.push(server);
          chosen = (server.address() as AddressInfo).port;
        }
        this.servers.push(...started);
        this.heartbeat ??= setInterval(() => this.reapDeadPeers(), HEARTBEAT_MS);
        return chosen;
      } catch (error) {
        await Promise.all(started.map((server) => new Promise((resolve) => server.close(resolve))));
        // With an OS-chosen port the IPv6 twin may be taken by someone else: pick another.
        if (port !== 0 || attempt >= 5 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      }
    }
  }

  private createServer(): http.Server {
    const server = http.createServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('this port speaks WebSocket on path /; the admin API is on the admin port\n');
    });
    server.on('upgrade', (request, socket, head) => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (path !== '/') {
        socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => this.onConnection(ws));
    });
    server.on('clientError', (_error, socket) => socket.destroy());
    return server;
  }

  private onConnection(ws: WebSocket): void {
    const session = new WsSession(this.nextSessionId++, ws, this.metrics);
    this.sockets.set(ws, session);
    this.core.attach(session);
    ws.on('pong', () => (session.alive = true));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      session.alive = true;
      if (isBinary) {
        session.send({ t: 'error', code: 'malformed', message: 'binary frames are not part of the protocol: send JSON text', retryable: false });
        return;
      }
      try {
        this.core.receive(session, data.toString());
      } catch (error) {
        // A bug must cost one message, never the process.
        this.log('error', 'message handler failed', { error: errorText(error), stack: (error as Error).stack });
        session.send({ t: 'error', code: 'internal', message: 'internal error', retryable: false });
      }
    });
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.core.detach(session);
    });
    ws.on('error', (error) => this.log('debug', 'socket error', { session: session.id, error: error.message }));
  }

  private reapDeadPeers(): void {
    for (const [ws, session] of this.sockets) {
      if (!session.alive) {
        ws.terminate();
        continue;
      }
      session.alive = false;
      ws.ping();
    }
  }

  /** Stops accepting new connections; open ones stay until closeAll. */
  stopAccepting(): void {
    for (const server of this.servers) server.close();
  }

  /** Sends 'shutting-down' and closes every session; sockets that do not close in time are cut. */
  async closeAll(timeoutMs = 2000): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const [, session] of this.sockets) {
      session.send({ t: 'error', code: 'shutting-down', message: 'server is shutting down; reconnect and resume', retryable: true });
      session.close(1001, 'shutting-down');
    }
    const deadline = Date.now() + timeoutMs;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const ws of this.sockets.keys()) ws.terminate();
    for (const server of this.servers) server.closeAllConnections();
  }
}
