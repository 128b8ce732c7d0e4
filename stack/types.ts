/**
 * The system under test plus the chaos plumbing, as a runtime brings it up. Callers (runner,
 * faults, checkers) see only these types, so a `containers` runtime can replace `process`.
 */
import type { DebrisRecorder } from './debris';
import type { Capability, SystemUnderTest } from './system-under-test';
import type { DebrisUndoers } from './undo-debris';

export type RuntimeName = 'process' | 'containers';

/** A long-running part of the stack that faults may kill, pause and restart. */
export interface ServiceHandle {
  readonly name: string;
  /** Current pid (changes after a restart); undefined while stopped. */
  readonly pid: number | undefined;
  readonly logFile: string;
  isRunning(): boolean;
  /** Start (again) and wait until healthy; rejects with the log tail if it does not come up. */
  start(): Promise<void>;
  /** Send a signal and, for terminating signals, wait for exit (bounded by timeoutMs, then SIGKILL). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
  /** Send a signal without waiting (SIGSTOP / SIGCONT). */
  signal(signal: NodeJS.Signals): void;
}

export interface PostgresHandle extends ServiceHandle {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly walDir: string;
  /** Superuser URL straight to PostgreSQL (not through Toxiproxy): for faults and the collector. */
  readonly superuserUrl: string;
  readonly database: string;
  /** pg_ctl stop with a mode: immediate = crash, fast = clean stop. */
  stopWithMode(mode: 'immediate' | 'fast' | 'smart'): Promise<void>;
}

export interface BackendHandle extends ServiceHandle {
  /** Direct WebSocket URL (no proxy). */
  readonly wsUrl: string;
  readonly adminUrl: string;
  readonly wsPort: number;
  readonly adminPort: number;
}

export interface ToxiproxyHandle extends ServiceHandle {
  readonly apiUrl: string;
  readonly version: string;
  /** Stop + start; start() (re)creates the stack's proxies on their old listen ports. */
  restart?(): Promise<void>;
}

export interface PrometheusHandle extends ServiceHandle {
  readonly url: string;
  /** Resolves once every named job has a target that was scraped successfully. */
  waitForTargetsUp?(jobs: string[], timeoutMs?: number): Promise<void>;
}

/** A Toxiproxy proxy on one link of the stack. */
export interface ProxyLink {
  readonly name: LinkName;
  readonly listen: string; // host:port the client side connects to
  readonly upstream: string; // host:port of the real service
}

/** bots → backend (IPv4 and IPv6 listeners) and backend → PostgreSQL. */
export type LinkName = 'bots-backend' | 'bots-backend-v6' | 'backend-db';

export interface ScrapeTarget {
  job: string;
  target: string; // host:port serving /metrics
}

/**
 * When a container counts as ready (the first match of: http, log, else the port open).
 * Checked from the host on 127.0.0.1 (host networking).
 */
export interface ContainerReadiness {
  /** An HTTP path answering 2xx, e.g. '/readyz'. */
  http?: string;
  /** A line (substring) the container prints, e.g. 'Ready to accept connections'. */
  log?: string;
  /** Which port `http` asks, or which must accept connections: the backend's 'ws' or 'admin' port (default: 'admin' for http, 'ws' otherwise). Extra services have one port. */
  port?: 'ws' | 'admin';
  /** How long to wait, in ms. Default 60000. */
  timeoutMs?: number;
}

/** An extra container the backend needs (Redis, a matchmaker), started before the backend on host networking. */
export interface ExtraServiceSpec {
  /** Its ServiceControl name (faults address it as `service:<name>:kill` ...); letters, digits, - and _. */
  name: string;
  /** A local image (never pulled: no registry is reachable). */
  image: string;
  /** Replaces the image's CMD; placeholders filled. */
  command?: string[];
  /** Placeholders filled. */
  env?: Record<string, string>;
  /** Default: its port accepts connections. */
  ready?: ContainerReadiness;
}

/**
 * How the `containers` runtime runs the backend (the scenario's `backend.image`, `backend.command`,
 * `backend.ready`, `backend.services`; `backend.env` too). The process runtime ignores these.
 *
 * Placeholders, filled in `command`, `env` and the extra services' `command` / `env`:
 * `{{postgres.url}}` (the backend's database URL, through the backend-db proxy),
 * `{{ports.ws}}`, `{{ports.admin}}` (the backend's ports on 127.0.0.1), `{{run.id}}`,
 * `{{services.<name>.port}}` (the free port given to an extra service; its own `{{port}}`).
 * An unknown placeholder is an error naming the field.
 */
export interface BackendContainerOptions {
  /** Default: lagstorm/reference-backend (LAGSTORM_IMAGE_REFERENCE_BACKEND overrides it). */
  image?: string;
  /**
   * Replaces the image's CMD (its ENTRYPOINT stays). Default: the standard flags, `--port {{ports.ws}}
   * --admin-port {{ports.admin}} --database-url {{postgres.url}}` (+ `--defect`, + extraArgs).
   */
  command?: string[];
  /** Default: `{ http: '/readyz', port: 'admin' }`. */
  ready?: ContainerReadiness;
  /** Extra containers started before the backend. Default: none. */
  services?: ExtraServiceSpec[];
}

export interface StackOptions {
  runId: string;
  /** runs/<id>: logs/ and state.json go here. */
  runDir: string;
  backend: BackendContainerOptions & {
    defect?: string;
    /** Environment of the backend (process: added to lagstorm's; containers: the container's, placeholders filled). */
    env?: Record<string, string>;
    extraArgs?: string[];
    /** Entry point run with bin/run-ts.js instead of games/reference/server/main.ts (same flags); process runtime only. */
    entry?: string;
  };
  /** Extra PostgreSQL server settings (-c name=value). */
  postgres?: { settings?: Record<string, string> };
  /** Fixed ports instead of free ones; a fixed port that is taken is an error, never retried. */
  ports?: Partial<Record<StackPortName, number>>;
  /** Extra Prometheus scrape targets (the bot fleet, the PostgreSQL collector). */
  scrapeTargets?: ScrapeTarget[];
  /** Aborting stops startup and tears down what was started. */
  signal?: AbortSignal;
  /**
   * How to undo fault debris (nft tables, mounts, settings) still recorded at teardown, by kind;
   * the composition root passes chaos/debris-undoers.ts. Kinds without an undoer stay in state.json.
   */
  debrisUndoers?: DebrisUndoers;
  log?: (line: string) => void;
}

export type StackPortName = 'postgres' | 'toxiproxy' | 'backendWs' | 'backendAdmin' | 'prometheus';

/**
 * A started stack as a run sees it. The backend and PostgreSQL are there only when lagstorm started
 * them: a scenario with `target.url` runs against a backend that was already running (TargetRuntime).
 */
export interface RunStack {
  readonly runtime: RuntimeName;
  readonly runId: string;
  readonly runDir: string;
  readonly logsDir: string;
  /** Run-private temp dir (data dirs, configs); removed on stop. */
  readonly workDir: string;
  readonly endpoints: {
    /** What bots connect to: through the bots-backend proxies. */
    botsWsUrl: string;
    botsWsUrlV6: string;
    /** The backend's admin / HTTP base URL, straight (no proxy); a target's `adminUrl`, if it has one. */
    backendAdminUrl?: string;
    /** Superuser URL straight to PostgreSQL (no proxy); none with a target. */
    postgresUrl?: string;
    /** What the backend uses: through the backend-db proxy. */
    backendDatabaseUrl?: string;
    toxiproxyApiUrl: string;
    prometheusUrl: string;
  };
  readonly backend?: BackendHandle;
  readonly postgres?: PostgresHandle;
  readonly toxiproxy: ToxiproxyHandle;
  readonly prometheus: PrometheusHandle;
  readonly links: Readonly<Record<LinkName, ProxyLink>>;
  readonly debris: DebrisRecorder;
  /** What faults may touch: services, database, links, host (see stack/system-under-test.ts). */
  readonly sut: SystemUnderTest;
  /** Idempotent teardown of everything started; safe to call from signal handlers. */
  stop(): Promise<void>;
}

/** A stack whose backend and PostgreSQL lagstorm started itself. */
export interface StartedStack extends RunStack {
  readonly endpoints: RunStack['endpoints'] & { backendAdminUrl: string; postgresUrl: string };
  readonly backend: BackendHandle;
  readonly postgres: PostgresHandle;
}

/** A backend that is already running (scenario `target`): lagstorm starts neither it nor a PostgreSQL for it. */
export interface BackendTarget {
  /** Where it listens, on loopback: ws://127.0.0.1:PORT[/path] or http://... ; the bots reach it through the bots-backend proxy. */
  url: string;
  /** Its admin / HTTP base URL for the game's final-state reader. */
  adminUrl?: string;
}

/** A runtime's variant for an already running backend: it offers faults only what reaches that backend. */
export interface TargetRuntime {
  readonly name: RuntimeName;
  /** How messages name it, e.g. 'runtime "process" with target.url (a backend lagstorm did not start)'. */
  readonly label: string;
  readonly capabilities: readonly Capability[];
  start(options: StackOptions): Promise<RunStack>;
}

export interface Runtime {
  readonly name: RuntimeName;
  /** What a stack of this runtime can offer faults; checked against a scenario before anything starts. */
  readonly capabilities: readonly Capability[];
  start(options: StackOptions): Promise<StartedStack>;
  /** The variant for a backend that is already running; absent: this runtime cannot run against one. */
  forTarget?(target: BackendTarget): TargetRuntime;
}
