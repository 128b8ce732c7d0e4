/**
 * The real Shopify toxiproxy-server on a free loopback port, with the stack's proxies. Every API
 * call has a timeout (the API has hung in the past). Proxies are created with listen port 0 so the
 * server picks a free one (no race); a (re)start re-creates them on the same ports.
 */
import { HarnessError } from '../exit-codes';
import type { DebrisRecorder } from './debris';
import { httpRequest, isHttpOk } from './http';
import { ManagedProcess } from './managed-process';
import { resolveTool } from './tools-path';
import type { LinkName, ProxyLink, ToxiproxyHandle } from './types';

export interface ProxySpec {
  name: LinkName;
  /** host:port; port 0 lets toxiproxy pick a free one. */
  listen: string;
  upstream: string;
}

export interface StartToxiproxyOptions {
  port: number;
  logFile: string;
  debris?: DebrisRecorder;
  startTimeoutMs?: number;
  /** Timeout of each API call. */
  apiTimeoutMs?: number;
}

interface ProxyState {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: unknown[];
}

export class ToxiproxyServer extends ManagedProcess implements ToxiproxyHandle {
  readonly apiUrl: string;
  private runningVersion = 'unknown';
  private readonly proxies = new Map<LinkName, ProxySpec>();
  private resetDebrisId: string | undefined;

  constructor(
    readonly port: number,
    private readonly settings: StartToxiproxyOptions,
  ) {
    const apiUrl = `http://127.0.0.1:${port}`;
    super({
      name: 'toxiproxy',
      command: resolveTool('toxiproxy-server'),
      args: ['-host', '127.0.0.1', '-port', String(port), '-proxy-metrics'],
      logFile: settings.logFile,
      healthCheck: () => isHttpOk(`${apiUrl}/version`),
      startTimeoutMs: settings.startTimeoutMs ?? 15_000,
      debris: settings.debris,
    });
    this.apiUrl = apiUrl;
  }

  /** The running server's version (from GET /version). */
  get version(): string {
    return this.runningVersion;
  }

  /** Starts the server, waits for /version, and re-creates every known proxy on its port. */
  override async start(): Promise<void> {
    if (this.isRunning()) return; // re-creating proxies would drop live connections
    await super.start();
    const response = await this.api('GET', '/version');
    this.runningVersion = parseVersion(response);
    if (this.settings.debris && !this.resetDebrisId) this.resetDebrisId = this.settings.debris.record({ kind: 'toxiproxy-reset', apiUrl: this.apiUrl });
    await this.reset();
    for (const spec of this.proxies.values()) await this.createProxy(spec);
  }

  /** Stop then start: a new process with the same proxies. */
  async restart(): Promise<void> {
    await this.stop('SIGTERM', 5000);
    await this.start();
  }

  /** Resets toxics, stops the server and drops the reset item from the state file. */
  async shutdown(): Promise<void> {
    if (this.isRunning()) await this.reset().catch(() => undefined);
    await this.stop('SIGTERM', 5000);
    if (this.resetDebrisId) this.settings.debris?.forget(this.resetDebrisId);
    this.resetDebrisId = undefined;
  }

  /** Creates (or replaces) a proxy and reads it back; returns where it really listens. */
  async createProxy(spec: ProxySpec): Promise<ProxyLink> {
    await this.api('DELETE', `/proxies/${spec.name}`, undefined, [404]);
    const created = JSON.parse(await this.api('POST', '/proxies', { name: spec.name, listen: spec.listen, upstream: spec.upstream, enabled: true })) as ProxyState;
    // Later restarts must reuse the port toxiproxy picked, so clients keep their address.
    this.proxies.set(spec.name, { ...spec, listen: created.listen });
    const readBack = await this.listProxies();
    const found = readBack[spec.name];
    if (!found || found.listen !== created.listen || found.upstream !== spec.upstream) {
      throw new HarnessError(`toxiproxy proxy ${spec.name} is not there after creating it (read back: ${JSON.stringify(found ?? null)})`);
    }
    return { name: spec.name, listen: found.listen, upstream: found.upstream };
  }

  links(): ProxyLink[] {
    return [...this.proxies.values()].map(({ name, listen, upstream }) => ({ name, listen, upstream }));
  }

  async listProxies(): Promise<Record<string, ProxyState>> {
    return JSON.parse(await this.api('GET', '/proxies')) as Record<string, ProxyState>;
  }

  /** POST /reset: enables every proxy and removes every toxic. */
  async reset(): Promise<void> {
    await this.api('POST', '/reset');
  }

  private async api(method: string, route: string, body?: unknown, okStatuses: number[] = []): Promise<string> {
    let response;
    try {
      response = await httpRequest(`${this.apiUrl}${route}`, { method, body, timeoutMs: this.settings.apiTimeoutMs ?? 3000 });
    } catch (error) {
      throw new HarnessError(`toxiproxy API ${method} ${route} failed: ${(error as Error).message}`, { cause: error });
    }
    if (response.status >= 300 && !okStatuses.includes(response.status)) {
      throw new HarnessError(`toxiproxy API ${method} ${route} answered ${response.status}: ${response.body.trim()}`);
    }
    return response.body;
  }
}

function parseVersion(body: string): string {
  try {
    const parsed = JSON.parse(body) as { version?: unknown };
    if (typeof parsed.version === 'string') return parsed.version;
  } catch {
    // older servers answer plain text
  }
  return body.trim() || 'unknown';
}

/** Starts toxiproxy-server and waits until its API answers. */
export async function startToxiproxy(options: StartToxiproxyOptions): Promise<ToxiproxyServer> {
  const server = new ToxiproxyServer(options.port, options);
  await server.start();
  return server;
}
