/**
 * The SystemUnderTest port: what faults may touch, as endpoints plus named capabilities (Jepsen's
 * `jepsen.db` Kill / Pause, testcontainers' domain accessors). A runtime fills it in (`process`:
 * local processes; `containers` later) and declares which capabilities it offers, so a scenario
 * fault the runtime cannot do is refused before anything starts. No pids, no /proc here: how a
 * service is killed or frozen is the runtime's business.
 */
import type { DebrisRecorder } from './debris';
import type { ToxiproxyApi } from './toxiproxy-api';
import type { LinkName, RuntimeName } from './types';

/** What a fault may do to a named service. */
export type ServiceAction = 'kill' | 'stop' | 'start' | 'pause';

/**
 * A named capability, e.g. `service:backend:kill`, `database:wal-dir`, `link:bots-backend`, `host:nft`.
 * - `service:<name>:kill|stop|start|pause`: ServiceControl of that service (`pause` covers resume);
 * - `database:sql`: superuser SQL on the database; `database:stop-modes`: immediate / fast stop;
 *   `database:wal-dir`: the data dir and pg_wal on this host (pg_wal a symlink it may re-point);
 * - `link:<name>`: that link's Toxiproxy proxy;
 * - `host:nft`: nftables rules on the host ports of services and links; `host:loop-volume`: loop
 *   devices and mounts; `host:blkio`: cgroup v1 blkio throttling of a device.
 */
export type Capability =
  | `service:${string}:${ServiceAction}`
  | 'database:sql'
  | 'database:stop-modes'
  | 'database:wal-dir'
  | `link:${string}`
  | 'host:nft'
  | 'host:loop-volume'
  | 'host:blkio';

export const serviceCapability = (service: string, action: ServiceAction): Capability => `service:${service}:${action}`;
export const linkCapability = (link: string): Capability => `link:${link}`;

/** A long-running service of the system under test, as faults see it. */
export interface ServiceControl {
  readonly name: string;
  /** Its log on this host, if there is one (faults read it for evidence, e.g. a PANIC line). */
  readonly logFile?: string;
  /** Which instance runs now, for reports ('pid 4242', a container id); undefined while down. */
  instance(): string | undefined;
  isRunning(): boolean;
  /** Crash: no chance to clean up (SIGKILL; PostgreSQL: immediate stop). Resolves once it is down. */
  kill(): Promise<void>;
  /** Graceful stop (SIGTERM / PostgreSQL fast stop), escalating after the runtime's time limit. */
  stop(): Promise<void>;
  /** Start (again) and wait until healthy; at once if it runs. Rejects with the log tail if it does not come up. */
  start(): Promise<void>;
  /** Freeze every process of the service (connections stay open, nothing answers); resolves once frozen. */
  pause(): Promise<void>;
  /** Undo pause; resolves once it runs again. Idempotent. */
  resume(): Promise<void>;
}

export interface DatabaseControl {
  /** The ServiceControl name of the database server. */
  readonly service: string;
  /** Superuser URL straight to PostgreSQL, not through a proxy (`database:sql`). */
  readonly superuserUrl: string;
  /** `database:stop-modes`: immediate = crash (recovery on start), fast = clean stop with a checkpoint. */
  stopWithMode?(mode: 'immediate' | 'fast'): Promise<void>;
  /** `database:wal-dir`: the data directory on this host; `dataDir/pg_wal` is a symlink to walDir. */
  readonly dataDir?: string;
  /** `database:wal-dir`: where pg_wal really lives on this host. */
  readonly walDir?: string;
}

/** A link of the stack and the Toxiproxy proxy that carries it (`link:<name>`). */
export interface LinkControl {
  readonly name: LinkName;
  /** The proxy's name in Toxiproxy. */
  readonly proxy: string;
  /** host:port the client side connects to. */
  readonly listen: string;
  /** host:port of the real service. */
  readonly upstream: string;
  readonly toxiproxy: ToxiproxyApi;
}

export interface HostControl {
  /** The host TCP port where traffic to a link's listener or to a service passes (for nft rules); undefined if none. */
  portOf(target: LinkName | 'backend' | 'postgres'): number | undefined;
}

export interface SystemUnderTest {
  readonly runtime: RuntimeName;
  readonly runId: string;
  /** What this started system really offers (a subset of its runtime's capabilities). */
  readonly capabilities: ReadonlySet<Capability>;
  /** Run-private scratch directory on this host (loop volume images go here). */
  readonly workDir: string;
  /** Where faults record what they leave behind until it is gone (runs/<id>/state.json). */
  readonly debris: DebrisRecorder;
  readonly services: Readonly<Record<string, ServiceControl>>;
  readonly database: DatabaseControl;
  readonly links: Readonly<Partial<Record<LinkName, LinkControl>>>;
  readonly host: HostControl;
}

/** The capabilities a fault asked for that `offered` lacks (empty: it can run). */
export function missingCapabilities(required: readonly Capability[], offered: ReadonlySet<Capability> | readonly Capability[]): Capability[] {
  const set = offered instanceof Set ? offered : new Set(offered as readonly Capability[]);
  return [...new Set(required)].filter((capability) => !set.has(capability));
}
