/**
 * Test support only (never imported by the backend itself): one PostgreSQL per test file, one
 * database per test, the backend in-process or as a child process, and a WebSocket game client.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { WebSocket } from 'ws';
import { ManagedProcess } from '../../../../stack/managed-process';
import { freePort } from '../../../../stack/ports';
import { startPostgres, type PostgresCluster } from '../../../../stack/postgres';
import { parseConfig, type BackendConfig } from '../config';
import { silentLogger } from '../log';
import { startBackend, type RunningBackend } from '../server';
import type { FinalSnapshot } from '../../rules/snapshot';
import type { Action, ClientMessage, ServerMessage } from '../../rules';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

export class TestPostgres {
  private counter = 0;
  private constructor(
    readonly cluster: PostgresCluster,
    readonly dir: string,
  ) {}

  static async start(): Promise<TestPostgres> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-backend-test-'));
    const cluster = await startPostgres({ baseDir: path.join(dir, 'pg'), logFile: path.join(dir, 'pg.log') });
    return new TestPostgres(cluster, dir);
  }

  /** A fresh, empty database; returns its URL. */
  async createDatabase(prefix = 'game'): Promise<string> {
    const name = `${prefix.replace(/[^a-z0-9_]/g, '_')}_${process.pid}_${++this.counter}`;
    const admin = new Client({ connectionString: this.cluster.superuserUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    return this.cluster.superuserUrl.replace(/\/postgres$/, `/${name}`);
  }

  async stop(): Promise<void> {
    await this.cluster.stop('SIGINT').catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function query<R extends Record<string, unknown>>(url: string, text: string, values?: unknown[]): Promise<R[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export function testConfig(databaseUrl: string, overrides: Partial<BackendConfig> = {}, defect?: string): BackendConfig {
  const config = parseConfig(['--port', '0', '--admin-port', '0', '--database-url', databaseUrl, ...(defect ? ['--defect', defect] : [])], {});
  return { ...config, ...overrides, retry: { ...config.retry, ...overrides.retry } };
}

export async function startInProcess(databaseUrl: string, overrides: Partial<BackendConfig> = {}, defect?: string): Promise<RunningBackend> {
  return startBackend(testConfig(databaseUrl, overrides, defect), silentLogger);
}

/**
 * Jest hooks for a backend test file: one PostgreSQL cluster for the file; per test a database of its
 * own, an in-process backend (`start`), clients closed and the backend shut down afterwards.
 */
export function backendFixture(options: { startEachTest?: boolean } = {}) {
  let cluster: TestPostgres | undefined;
  let running: RunningBackend | undefined;
  let clients: GameClient[] = [];
  const fixture = {
    /** This test's database. */
    url: '',
    get pg(): TestPostgres {
      if (!cluster) throw new Error('backendFixture: the cluster starts in beforeAll');
      return cluster;
    },
    get backend(): RunningBackend {
      if (!running) throw new Error('backendFixture: call start() first');
      return running;
    },
    /** A fresh database and a backend on it (with a planted defect, if named). */
    async start(defect?: string, overrides: Partial<BackendConfig> = {}): Promise<RunningBackend> {
      fixture.url = await fixture.pg.createDatabase();
      running = await startInProcess(fixture.url, overrides, defect);
      return running;
    },
    /** Shuts the backend down and starts another (correct, with these settings) on the same database. */
    async restart(overrides: Partial<BackendConfig> = {}): Promise<RunningBackend> {
      await running?.shutdown();
      running = await startInProcess(fixture.url, overrides);
      return running;
    },
    async connect(host = '127.0.0.1'): Promise<GameClient> {
      const client = await GameClient.connect(`ws://${host.includes(':') ? `[${host}]` : host}:${fixture.backend.wsPort}/`);
      clients.push(client);
      return client;
    },
    /** The backend's database refuses connections and its sessions are terminated. */
    async cutDatabase(): Promise<void> {
      const name = new URL(fixture.url).pathname.slice(1);
      await query(fixture.pg.cluster.superuserUrl, `ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await query(fixture.pg.cluster.superuserUrl, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    },
    async healDatabase(): Promise<void> {
      await query(fixture.pg.cluster.superuserUrl, `ALTER DATABASE ${new URL(fixture.url).pathname.slice(1)} ALLOW_CONNECTIONS true`);
    },
  };
  beforeAll(async () => {
    cluster = await TestPostgres.start();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  if (options.startEachTest) beforeEach(() => fixture.start());
  afterEach(async () => {
    for (const client of clients) client.close();
    clients = [];
    await running?.shutdown();
    running = undefined;
  });
  return fixture;
}

/** The real entry point as a child process (bin/run-ts.js games/reference/server/main.ts), for SIGKILL / SIGTERM tests. */
export class BackendProcess extends ManagedProcess {
  constructor(
    readonly wsPort: number,
    readonly adminPort: number,
    logFile: string,
    databaseUrl: string,
    extraArgs: string[] = [],
  ) {
    super({
      name: 'backend',
      command: process.execPath,
      args: ['bin/run-ts.js', 'games/reference/server/main.ts', '--port', String(wsPort), '--admin-port', String(adminPort), '--database-url', databaseUrl, ...extraArgs],
      cwd: REPO_ROOT,
      logFile,
      healthCheck: async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined))?.status === 200,
      startTimeoutMs: 30_000,
    });
  }

  static async launch(databaseUrl: string, logDir: string, extraArgs: string[] = []): Promise<BackendProcess> {
    const wsPort = await freePort();
    const adminPort = await freePort();
    const backend = new BackendProcess(wsPort, adminPort, path.join(logDir, `backend-${wsPort}.log`), databaseUrl, extraArgs);
    await backend.start();
    return backend;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.wsPort}/`;
  }
}

export async function adminGet<T>(adminPort: number, pathname: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`http://127.0.0.1:${adminPort}${pathname}`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, body: (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T };
}

export const snapshot = async (adminPort: number) => (await adminGet<FinalSnapshot>(adminPort, '/admin/snapshot')).body;

type Ack = Extract<ServerMessage, { t: 'ack' }>;
type ErrorMessage = Extract<ServerMessage, { t: 'error' }>;
type Welcome = Extract<ServerMessage, { t: 'welcome' }>;

/** A minimal game client: every server message is queued; tests wait for the one they need. */
export class GameClient {
  readonly received: ServerMessage[] = [];
  private waiters: Array<() => void> = [];
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as ServerMessage);
      this.notify();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.notify();
    });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  static connect(url: string, timeoutMs = 5000): Promise<GameClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: timeoutMs });
      socket.once('open', () => resolve(new GameClient(socket)));
      socket.once('error', reject);
    });
  }

  send(message: ClientMessage | Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  sendRaw(text: string): void {
    this.socket.send(text);
  }

  /** Waits for (and removes) the first queued message matching `match`. */
  async next<T extends ServerMessage>(match: (message: ServerMessage) => message is T, timeoutMs?: number): Promise<T>;
  async next(match: (message: ServerMessage) => boolean, timeoutMs?: number): Promise<ServerMessage>;
  async next(match: (message: ServerMessage) => boolean, timeoutMs = 5000): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex(match);
      if (index >= 0) return this.received.splice(index, 1)[0];
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.closed) {
        throw new Error(`no matching message within ${timeoutMs} ms${this.closed ? ` (socket closed ${this.closed.code})` : ''}; received: ${JSON.stringify(this.received).slice(0, 500)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async hello(playerId: string, resumeToken?: string): Promise<Welcome> {
    this.send({ t: 'hello', playerId, ...(resumeToken ? { resumeToken } : {}) });
    const reply = await this.next((m) => m.t === 'welcome' || m.t === 'error');
    if (reply.t !== 'welcome') throw new Error(`hello failed: ${JSON.stringify(reply)}`);
    return reply;
  }

  /** Sends an action and waits for its ack or error (matched by seq). */
  async act(seq: number, action: Action, timeoutMs = 5000): Promise<Ack | ErrorMessage> {
    this.send({ t: 'action', seq, action });
    return this.reply(seq, timeoutMs);
  }

  reply(seq: number, timeoutMs = 5000): Promise<Ack | ErrorMessage> {
    return this.next((m): m is Ack | ErrorMessage => (m.t === 'ack' || m.t === 'error') && m.seq === seq, timeoutMs);
  }

  close(): void {
    this.socket.terminate();
  }
}

export const isAck = (message: ServerMessage): message is Ack => message.t === 'ack';
export const isError = (message: ServerMessage): message is ErrorMessage => message.t === 'error';
