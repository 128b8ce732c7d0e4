/**
 * The parts of the `containers` stack as the handles the runner and faults know (PostgresHandle,
 * ToxiproxyHandle, BackendHandle, PrometheusHandle), each one ContainerService on host networking.
 */
import { HarnessError } from '../core/exit-codes';
import { ContainerService, type ContainerServiceOptions } from './container-service';
import { waitForPrometheusTargets } from './prometheus';
import { ToxiproxyProxies, type ProxySpec } from './toxiproxy';
import { ToxiproxyApi } from './toxiproxy-api';
import type { BackendHandle, PostgresHandle, PrometheusHandle, ProxyLink, ToxiproxyHandle } from './types';

/** Where lagstorm/postgres keeps the cluster inside the container. */
export const CONTAINER_PGDATA = '/var/lib/lagstorm/pgdata';

/** Signals the postmaster (the container's first process) acts on, as pg_ctl sends them. */
const POSTGRES_STOP_SIGNALS = { smart: 'SIGTERM', fast: 'SIGINT', immediate: 'SIGQUIT' } as const;

export class PostgresContainer extends ContainerService implements PostgresHandle {
  readonly host = '127.0.0.1';
  readonly database = 'postgres';
  constructor(
    readonly port: number,
    options: ContainerServiceOptions,
    /** The same path in the container and, when pg_wal is on the host, on this host. */
    readonly dataDir = CONTAINER_PGDATA,
    readonly walDir = `${CONTAINER_PGDATA}/pg_wal`,
  ) {
    super(options);
  }

  get superuserUrl(): string {
    return `postgresql://postgres@${this.host}:${this.port}/${this.database}`;
  }

  /** What pg_ctl stop -m <mode> does: signal the postmaster; its exit ends the container. */
  async stopWithMode(mode: 'immediate' | 'fast' | 'smart'): Promise<void> {
    await this.stop(POSTGRES_STOP_SIGNALS[mode], 30_000);
  }
}

export class ToxiproxyContainer extends ContainerService implements ToxiproxyHandle {
  readonly apiUrl: string;
  private runningVersion = 'unknown';
  private readonly proxies: ToxiproxyProxies;

  constructor(
    readonly port: number,
    options: ContainerServiceOptions,
  ) {
    super(options);
    this.apiUrl = `http://127.0.0.1:${port}`;
    this.proxies = new ToxiproxyProxies(new ToxiproxyApi(this.apiUrl, 3000));
  }

  get version(): string {
    return this.runningVersion;
  }

  /** Starts the container and re-creates every known proxy on its old listen port. */
  override async start(): Promise<void> {
    if (this.isRunning()) return; // re-creating proxies would drop live connections
    await super.start();
    this.runningVersion = await this.proxies.api.version();
    await this.proxies.recreate();
  }

  async restart(): Promise<void> {
    await this.stop('SIGTERM', 5000);
    await this.start();
  }

  /** Resets toxics when it still runs, then stops the container. */
  async shutdown(): Promise<void> {
    if (this.isRunning() && !this.isPaused) await this.proxies.api.reset().catch(() => undefined);
    await this.stop('SIGTERM', 5000);
  }

  createProxy(spec: ProxySpec): Promise<ProxyLink> {
    return this.proxies.create(spec);
  }

  links(): ProxyLink[] {
    return this.proxies.links();
  }
}

export class BackendContainer extends ContainerService implements BackendHandle {
  readonly wsUrl: string;
  readonly adminUrl: string;

  constructor(
    readonly wsPort: number,
    readonly adminPort: number,
    options: ContainerServiceOptions,
  ) {
    super(options);
    this.wsUrl = `ws://127.0.0.1:${wsPort}`;
    this.adminUrl = `http://127.0.0.1:${adminPort}`;
  }
}

export class PrometheusContainer extends ContainerService implements PrometheusHandle {
  readonly url: string;

  constructor(
    readonly port: number,
    options: ContainerServiceOptions,
  ) {
    super(options);
    this.url = `http://127.0.0.1:${port}`;
  }

  waitForTargetsUp(jobs: string[], timeoutMs = 20_000): Promise<void> {
    if (!this.isRunning()) return Promise.reject(new HarnessError('prometheus is not running'));
    return waitForPrometheusTargets(this.url, jobs, timeoutMs, this.logFile);
  }
}

/** An extra service of the backend (Redis, ...): one free port. */
export class ExtraServiceContainer extends ContainerService {
  constructor(
    readonly port: number,
    options: ContainerServiceOptions,
  ) {
    super(options);
  }
}
