/**
 * For chaos tests: real parts started directly (a TCP echo service as the "backend", real
 * toxiproxy-server, a real PostgreSQL cluster) behind the process runtime's SystemUnderTest, which
 * offers the capabilities of the parts present; plus a partial StartedStack the tests measure
 * through (its missing parts throw when touched) and helpers that measure.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { DebrisItem, DebrisRecorder } from '../../stack/debris';
import { ManagedProcess } from '../../stack/managed-process';
import { freePort, isListening } from '../../stack/ports';
import { canConnect, findPostgresBinDir, PostgresCluster, startPostgres } from '../../stack/postgres';
import { processSystemUnderTest } from '../../stack/process-sut';
import type { SystemUnderTest } from '../../stack/system-under-test';
import type { BackendHandle, LinkName, ProxyLink, StartedStack, ToxiproxyHandle } from '../../stack/types';
import type { FaultTarget } from '../fault';
import { ToxiproxyApi } from '../../stack/toxiproxy-api';

export const TOXIPROXY_BINARY = [path.join(__dirname, '../../.tools/bin/toxiproxy-server'), '/tmp/gobin/server'].find((file) => fs.existsSync(file)) ?? 'toxiproxy-server';

export class MemoryDebris implements DebrisRecorder {
  private next = 0;
  readonly items = new Map<string, DebrisItem>();
  record(item: DebrisItem): string {
    const id = `d${++this.next}`;
    this.items.set(id, item);
    return id;
  }
  forget(id: string): void {
    this.items.delete(id);
  }
  list() {
    return [...this.items].map(([id, item]) => ({ id, item }));
  }
}

class EchoBackend extends ManagedProcess implements BackendHandle {
  constructor(
    readonly wsPort: number,
    logFile: string,
  ) {
    super({ name: 'echo-backend', command: process.execPath, args: [path.join(__dirname, 'echo-server.js'), String(wsPort)], logFile, healthCheck: () => isListening(wsPort), startTimeoutMs: 10_000 });
  }
  get wsUrl() {
    return `ws://127.0.0.1:${this.wsPort}`;
  }
  readonly adminUrl = 'http://127.0.0.1:0';
  readonly adminPort = 0;
}

/** toxiproxy-server whose start() recreates the stack's proxies, as the runtime's handle does. */
class TestToxiproxy extends ManagedProcess implements ToxiproxyHandle {
  readonly version = 'v2.12.0';
  constructor(
    readonly apiPort: number,
    logFile: string,
    private readonly proxies: () => ProxyLink[],
  ) {
    super({
      name: 'toxiproxy',
      command: TOXIPROXY_BINARY,
      args: ['-host', '127.0.0.1', '-port', String(apiPort)],
      logFile,
      healthCheck: async () => (await fetch(`http://127.0.0.1:${apiPort}/version`, { signal: AbortSignal.timeout(500) })).ok,
      startTimeoutMs: 10_000,
    });
  }
  get apiUrl() {
    return `http://127.0.0.1:${this.apiPort}`;
  }
  override async start(): Promise<void> {
    await super.start();
    const api = new ToxiproxyApi(this.apiUrl);
    const existing = await api.proxies();
    for (const link of this.proxies()) if (!existing[link.name]) await api.createProxy({ name: link.name, listen: link.listen, upstream: link.upstream });
  }
}

export interface TestStack {
  /** For measuring in tests (pids, ports); faults only see `target.sut`. */
  stack: StartedStack;
  sut: SystemUnderTest;
  target: FaultTarget;
  debris: MemoryDebris;
  dir: string;
  logs: string[];
  postgres?: PostgresCluster;
  stop(): Promise<void>;
}

const missing = (what: string) =>
  new Proxy({}, { get: (_t, key) => (key === 'then' ? undefined : () => { throw new Error(`test stack has no ${what}`); }) });

/**
 * Restarts a cluster with its settings in postgresql.conf instead of -c, so ALTER SYSTEM can
 * override them (the stack's startPostgres passes them with -c, which ALTER SYSTEM cannot beat).
 */
/** Restarts the cluster with extra `-c` settings, which ALTER SYSTEM cannot override (for refusal tests). */
async function withCommandLineSettings(cluster: PostgresCluster, settings: Record<string, string>): Promise<PostgresCluster> {
  await cluster.stopWithMode('fast');
  const socketDir = path.join(path.dirname(cluster.dataDir), 'pgsocket');
  const owner = fs.statSync(cluster.dataDir);
  const extra = Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  const replacement = new PostgresCluster(cluster.port, cluster.dataDir, cluster.walDir, {
    name: 'postgresql',
    command: path.join(findPostgresBinDir() as string, 'postgres'),
    args: ['-D', cluster.dataDir, '-c', `port=${cluster.port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`, ...extra],
    logFile: cluster.logFile,
    healthCheck: () => canConnect(cluster.superuserUrl),
    uid: process.getuid?.() === 0 ? owner.uid : undefined,
    gid: process.getuid?.() === 0 ? owner.gid : undefined,
    env: { ...process.env, LC_ALL: 'C' },
  });
  await replacement.start();
  return replacement;
}

export async function startTestStack(parts: { toxiproxy?: boolean; postgres?: boolean; backend?: boolean; postgresSettings?: Record<string, string>; postgresCommandLine?: Record<string, string> }): Promise<TestStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-chaos-'));
  const debris = new MemoryDebris();
  const logs: string[] = [];
  const started: Array<{ stop(signal?: NodeJS.Signals): Promise<void> }> = [];
  const stop = async () => {
    for (const part of started.reverse()) await part.stop('SIGKILL').catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const backend = parts.backend || parts.toxiproxy ? new EchoBackend(await freePort(), path.join(dir, 'backend.log')) : undefined;
    if (backend) {
      await backend.start();
      started.push(backend);
    }
    let postgres: PostgresCluster | undefined;
    if (parts.postgres) {
      postgres = await startPostgres({ baseDir: path.join(dir, 'pg'), logFile: path.join(dir, 'postgres.log'), settings: parts.postgresSettings });
      if (parts.postgresCommandLine) postgres = await withCommandLineSettings(postgres, parts.postgresCommandLine);
      const cluster = postgres;
      started.push({ stop: () => cluster.stop('SIGINT', 30_000) });
    }
    const links: Partial<Record<LinkName, ProxyLink>> = {};
    let toxiproxy: TestToxiproxy | undefined;
    if (parts.toxiproxy && backend) {
      links['bots-backend'] = { name: 'bots-backend', listen: `127.0.0.1:${await freePort()}`, upstream: `127.0.0.1:${backend.wsPort}` };
      links['bots-backend-v6'] = { name: 'bots-backend-v6', listen: `[::1]:${await freePort('::1')}`, upstream: `127.0.0.1:${backend.wsPort}` };
      if (postgres) links['backend-db'] = { name: 'backend-db', listen: `127.0.0.1:${await freePort()}`, upstream: `127.0.0.1:${postgres.port}` };
      toxiproxy = new TestToxiproxy(await freePort(), path.join(dir, 'toxiproxy.log'), () => Object.values(links) as ProxyLink[]);
      await toxiproxy.start();
      started.push(toxiproxy);
    }
    const runId = `test-${path.basename(dir).slice(-6)}`;
    const sut = processSystemUnderTest({ runId, workDir: path.join(dir, 'work'), debris, backend, postgres, toxiproxy, links });
    const stack = {
      runtime: 'process',
      runId,
      runDir: dir,
      logsDir: dir,
      workDir: path.join(dir, 'work'),
      endpoints: {
        botsWsUrl: links['bots-backend'] ? `ws://${links['bots-backend'].listen}` : '',
        botsWsUrlV6: links['bots-backend-v6'] ? `ws://${links['bots-backend-v6'].listen}` : '',
        backendAdminUrl: '',
        postgresUrl: postgres?.superuserUrl ?? '',
        toxiproxyApiUrl: toxiproxy?.apiUrl ?? '',
        prometheusUrl: '',
      },
      backend: backend ?? missing('backend'),
      postgres: postgres ?? missing('postgres'),
      toxiproxy: toxiproxy ?? missing('toxiproxy'),
      prometheus: missing('prometheus'),
      links,
      debris,
      sut,
      stop,
    } as unknown as StartedStack;
    const target: FaultTarget = { sut, log: (line) => logs.push(line) };
    return { stack, sut, target, debris, dir, logs, postgres, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One TCP round trip (connect excluded) of `payload` through host:port; ms. */
export async function tcpRoundTrip(hostPort: string, payload = 'ping\n', timeoutMs = 5000): Promise<number> {
  const socket = await connect(hostPort, timeoutMs);
  try {
    const start = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      let received = 0;
      const timer = setTimeout(() => reject(new Error(`no echo within ${timeoutMs}ms`)), timeoutMs);
      socket.on('data', (data) => {
        received += data.length;
        if (received >= Buffer.byteLength(payload)) {
          clearTimeout(timer);
          resolve();
        }
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new Error(`closed after ${received} bytes`));
      });
      socket.write(payload);
    });
    return Number(process.hrtime.bigint() - start) / 1e6;
  } finally {
    socket.destroy();
  }
}

export function splitHostPort(hostPort: string): { host: string; port: number } {
  const at = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(hostPort.slice(at + 1)) };
}

export function connect(hostPort: string, timeoutMs = 5000): Promise<net.Socket> {
  const { host, port } = splitHostPort(hostPort);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${hostPort} timed out after ${timeoutMs}ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export async function median(samples: Array<() => Promise<number>>): Promise<number> {
  const values: number[] = [];
  for (const sample of samples) values.push(await sample());
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)];
}
