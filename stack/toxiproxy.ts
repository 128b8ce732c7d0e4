/**
 * The real Shopify toxiproxy-server on a free loopback port, with the stack's proxies. Every API
 * call has a timeout (the API has hung in the past). Proxies are created with listen port 0 so the
 * server picks a free one (no race); a (re)start re-creates them on the same ports.
 */
import { HarnessError } from '../core/exit-codes';
import type { DebrisRecorder } from './debris';
import { isHttpOk } from './http';
import { ManagedProcess } from './managed-process';
import { ToxiproxyApi } from './toxiproxy-api';
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

/**
 * The stack's proxies on one Toxiproxy server: created with listen port 0 so the server picks a free
 * one, read back after creation, and re-created on the same ports after a server restart. Shared by
 * the process and the containers runtimes.
 */
export class ToxiproxyProxies {
  private readonly specs = new Map<LinkName, ProxySpec>();

  constructor(readonly api: ToxiproxyApi) {}

  /** Creates (or replaces) a proxy and reads it back; returns where it really listens. */
  async create(spec: ProxySpec): Promise<ProxyLink> {
    await this.api.deleteProxy(spec.name);
    const created = await this.api.createProxy(spec);
    // Later restarts must reuse the port toxiproxy picked, so clients keep their address.
    this.specs.set(spec.name, { ...spec, listen: created.listen });
    const readBack = await this.api.proxies();
    const found = readBack[spec.name];
    if (!found || found.listen !== created.listen || found.upstream !== spec.upstream) {
      throw new HarnessError(`toxiproxy proxy ${spec.name} is not there after creating it (read back: ${JSON.stringify(found ?? null)})`);
    }
    return { name: spec.name, listen: found.listen, upstream: found.upstream };
  }

  /** After a (re)start of the server: POST /reset, then every known proxy again on its port. */
  async recreate(): Promise<void> {
    await this.api.reset();
    for (const spec of [...this.specs.values()]) await this.create(spec);
  }

  links(): ProxyLink[] {
    return [...this.specs.values()].map(({ name, listen, upstream }) => ({ name, listen, upstream }));
  }
}

export class ToxiproxyServer extends ManagedProcess implements ToxiproxyHandle {
  readonly apiUrl: string;
  private readonly api: ToxiproxyApi;
  private runningVersion = 'unknown';
  private readonly proxies: ToxiproxyProxies;
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
    this.api = new ToxiproxyApi(apiUrl, settings.apiTimeoutMs ?? 3000);
    this.proxies = new ToxiproxyProxies(this.api);
  }

  /** The running server's version (from GET /version). */
  get version(): string {
    return this.runningVersion;
  }

  /** Starts the server, waits for /version, and re-creates every known proxy on its port. */
  override async start(): Promise<void> {
    if (this.isRunning()) return; // re-creating proxies would drop live connections
    await super.start();
    this.runningVersion = await this.api.version();
    if (this.settings.debris && !this.resetDebrisId) this.resetDebrisId = this.settings.debris.record({ kind: 'toxiproxy-reset', apiUrl: this.apiUrl });
    await this.proxies.recreate();
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
  createProxy(spec: ProxySpec): Promise<ProxyLink> {
    return this.proxies.create(spec);
  }

  links(): ProxyLink[] {
    return this.proxies.links();
  }

  /** POST /reset: enables every proxy and removes every toxic. */
  async reset(): Promise<void> {
    await this.api.reset();
  }
}

/** Starts toxiproxy-server and waits until its API answers. */
export async function startToxiproxy(options: StartToxiproxyOptions): Promise<ToxiproxyServer> {
  const server = new ToxiproxyServer(options.port, options);
  await server.start();
  return server;
}
