/**
 * The `containers` runtime: the stack as containers on host networking (loopback only), started
 * through testcontainers with a readiness check each, wired as the process runtime wires processes:
 * PostgreSQL → Toxiproxy (backend-db proxy) → the backend's extra services → backend (through
 * backend-db; bots-backend / bots-backend-v6 proxies in front) → Prometheus (scraping the backend,
 * Toxiproxy and StackOptions.scrapeTargets). Every container carries the run id label and is recorded
 * in state.json before it exists; a part that does not come up tears down everything started.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { HarnessError, InvalidInputError } from '../core/exit-codes';
import { DEFAULT_BACKEND_ENTRY } from './backend';
import { BackendContainer, ExtraServiceContainer, PostgresContainer, PrometheusContainer, ToxiproxyContainer } from './container-parts';
import type { ContainerService } from './container-service';
import type { DebrisItem } from './debris';
import { imageFor, resolveImage } from './images/images';
import { assertEngineAnswers, killRunContainers, removeRunContainers, type Readiness } from './images/start-container';
import { freePort, isListening } from './ports';
import { allowTraversalWithinTmp, DEFAULT_SETTINGS } from './postgres';
import { renderPrometheusConfig } from './prometheus';
import { containersRuntimeCapabilities, containersSystemUnderTest, hostWalSupport, type HostWalSupport } from './containers-sut';
import { assertOptions, bounded, openStateFile, stackEndpoints } from './runtime-support';
import { describeItem, undoAll, type StateFileRecorder } from './state-file';
import type { ContainerReadiness, ExtraServiceSpec, Runtime, StackOptions, StackPortName, StartedStack } from './types';
import type { DebrisUndoers } from './undo-debris';

type Log = (line: string) => void;

const exec = promisify(execFile);

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** Fills `{{name}}` placeholders; an unknown one is an InvalidInputError naming the field and the known names. */
export function fillPlaceholders(text: string, values: Readonly<Record<string, string>>, field: string): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new InvalidInputError(`${field}: unknown placeholder ${whole}; known: ${Object.keys(values).map((key) => `{{${key}}}`).join(', ')}`);
    return value;
  });
}

function fillAll(values: Readonly<Record<string, string>>, field: string, command?: string[], env?: Record<string, string>): { command?: string[]; env: Record<string, string> } {
  return {
    command: command?.map((arg, i) => fillPlaceholders(arg, values, `${field}.command[${i}]`)),
    env: Object.fromEntries(Object.entries(env ?? {}).map(([key, value]) => [key, fillPlaceholders(value, values, `${field}.env.${key}`)])),
  };
}

/** The readiness of the backend or an extra service, as a wait strategy on its host ports. */
export function readinessOf(ready: ContainerReadiness | undefined, ports: { ws?: number; admin?: number; port?: number }, fallback: Readiness): Readiness {
  if (!ready || (ready.http === undefined && ready.log === undefined && ready.port === undefined)) return fallback;
  const portFor = (name: 'ws' | 'admin' | undefined, preferred: 'ws' | 'admin'): number => ports.port ?? ports[name ?? preferred]!;
  if (ready.http !== undefined) return { http: { port: portFor(ready.port, 'admin'), path: ready.http.startsWith('/') ? ready.http : `/${ready.http}` } };
  if (ready.log !== undefined) return { log: ready.log };
  return { port: portFor(ready.port, 'ws') };
}

const SERVICE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;
const RESERVED = new Set(['backend', 'postgres', 'toxiproxy', 'prometheus']);

function checkServices(services: readonly ExtraServiceSpec[]): void {
  const issues: string[] = [];
  const seen = new Set<string>();
  services.forEach((service, i) => {
    if (!SERVICE_NAME.test(service.name ?? '')) issues.push(`backend.services[${i}].name: must start with a letter and hold only letters, digits, - and _ (got ${JSON.stringify(service.name)})`);
    else if (RESERVED.has(service.name)) issues.push(`backend.services[${i}].name: "${service.name}" is a part of every stack; pick another name`);
    else if (seen.has(service.name)) issues.push(`backend.services[${i}].name: "${service.name}" is used twice`);
    seen.add(service.name);
    if (!service.image) issues.push(`backend.services[${i}].image: must name a local image`);
  });
  if (issues.length > 0) throw new InvalidInputError(`invalid backend services: ${issues.join('; ')}`, issues);
}

/** Every placeholder the backend and its services may use, checked before anything starts. */
function checkPlaceholders(backend: StackOptions['backend']): void {
  const names = ['postgres.url', 'ports.ws', 'ports.admin', 'run.id', ...(backend.services ?? []).map((service) => `services.${service.name}.port`)];
  const known = Object.fromEntries(names.map((name) => [name, '']));
  fillAll(known, 'backend', backend.command, backend.env);
  (backend.services ?? []).forEach((service, i) => fillAll({ ...known, port: '' }, `backend.services[${i}]`, service.command, service.env));
}

/** Everything a (partly) started containers stack owns, and its ordered teardown. */
class ContainersStackParts {
  postgres?: PostgresContainer;
  toxiproxy?: ToxiproxyContainer;
  backend?: BackendContainer;
  prometheus?: PrometheusContainer;
  readonly extras: ExtraServiceContainer[] = [];
  workDir?: string;
  private workDirDebrisId?: string;
  private sharedMountDebrisId?: string;
  private stopping?: Promise<void>;

  constructor(
    readonly runId: string,
    readonly debris: StateFileRecorder,
    private readonly log: Log,
    private readonly undoers: DebrisUndoers | undefined,
  ) {}

  makeWorkDir(): string {
    const safeId = this.runId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40);
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), `lagstorm-${safeId}-`));
    this.workDirDebrisId = this.debris.record({ kind: 'dir', path: this.workDir });
    return this.workDir;
  }

  /**
   * The work dir bind-mounted on itself and made shared, so that a loop volume a fault mounts below it
   * later (and its unmount) propagates into the PostgreSQL container (bound there with rslave).
   */
  async shareWorkDir(): Promise<void> {
    const dir = this.workDir!;
    this.sharedMountDebrisId = this.debris.record({ kind: 'mount', path: dir });
    await exec('mount', ['--bind', dir, dir], { timeout: 10_000 });
    await exec('mount', ['--make-rshared', dir], { timeout: 10_000 });
  }

  private async unshareWorkDir(): Promise<void> {
    if (!this.sharedMountDebrisId) return;
    const mounted = () => fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === this.workDir);
    for (let attempt = 0; mounted() && attempt < 10; attempt++) await exec('umount', [this.workDir!], { timeout: 10_000 }).catch(() => new Promise((resolve) => setTimeout(resolve, 200)));
    if (mounted()) throw new Error(`${this.workDir} is still mounted`);
    this.debris.forget(this.sharedMountDebrisId);
    this.sharedMountDebrisId = undefined;
  }

  private isOwnItem(id: string, item: DebrisItem): boolean {
    return id === this.workDirDebrisId || id === this.sharedMountDebrisId || (item.kind === 'container' && item.runId === this.runId);
  }

  stop(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  private async teardown(): Promise<void> {
    const began = Date.now();
    const errors: string[] = [];
    await bounded('leftover fault debris', 20_000, async () => {
      const actions = await undoAll(this.debris, { killTimeoutMs: 5000, undoers: this.undoers }, (id, item) => !this.isOwnItem(id, item));
      for (const action of actions) this.log(`stack: teardown ${action.outcome} ${describeItem(action.item)} ${action.detail}`);
    }, errors);
    const retire = async (part: ContainerService | undefined, label: string, timeoutMs: number, stop: (part: ContainerService) => Promise<void>) => {
      if (!part) return;
      await bounded(label, timeoutMs, () => stop(part), errors);
      await bounded(`${label} removal`, 15_000, () => part.remove(), errors);
    };
    // The backend drains in-flight actions on SIGTERM (10 s by default) before SIGKILL.
    await retire(this.backend, 'backend', 15_000, (part) => part.stop('SIGTERM', 12_000));
    await Promise.all(this.extras.map((extra) => retire(extra, extra.name, 10_000, (part) => part.stop('SIGTERM', 8000))));
    await retire(this.prometheus, 'prometheus', 10_000, (part) => part.stop('SIGTERM', 8000));
    await retire(this.toxiproxy, 'toxiproxy', 10_000, () => this.toxiproxy!.shutdown());
    // SIGINT = PostgreSQL's fast shutdown (clients disconnected, clean checkpoint).
    await retire(this.postgres, 'postgresql', 20_000, (part) => part.stop('SIGINT', 15_000));
    // A container whose start failed half-way, or one created by hand with the run's label.
    await bounded('containers of the run', 15_000, async () => {
      await removeRunContainers(this.runId);
      for (const { id, item } of this.debris.list()) if (item.kind === 'container' && item.runId === this.runId) this.debris.forget(id);
    }, errors);
    await bounded('shared work dir mount', 15_000, () => this.unshareWorkDir(), errors);
    if (this.workDir) {
      await bounded('temp dir', 5000, async () => fs.rmSync(this.workDir!, { recursive: true, force: true, maxRetries: 3 }), errors);
      if (!fs.existsSync(this.workDir) && this.workDirDebrisId) this.debris.forget(this.workDirDebrisId);
    }
    const left = this.debris.list();
    if (errors.length > 0 || left.length > 0) {
      const message = `teardown incomplete after ${Date.now() - began} ms: ${errors.join('; ') || 'no errors'}; ${left.length} item(s) left in ${this.debris.file}: run \`lagstorm cleanup\``;
      this.log(`stack: ${message}`);
      throw new HarnessError(message);
    }
    this.log(`stack: torn down in ${Date.now() - began} ms`);
  }
}

/** The backend's image: StackOptions.backend.image (the scenario's, else the game's), else lagstorm's reference backend (refusing a host-only entry point). */
function backendImage(options: StackOptions): string {
  const { image, entry } = options.backend;
  if (image) return resolveImage(image);
  if (entry && path.resolve(entry) !== DEFAULT_BACKEND_ENTRY) {
    throw new InvalidInputError(`backend.entry (${entry}) is a file on this host, which the containers runtime cannot run; set backend.image to an image of that backend, or give the game's server an image (or use --runtime process)`);
  }
  return imageFor('reference-backend');
}

async function startContainersStack(options: StackOptions): Promise<StartedStack> {
  assertOptions(options);
  if (options.backend.services) checkServices(options.backend.services);
  checkPlaceholders(options.backend);
  const image = backendImage(options);
  const log: Log = options.log ?? (() => undefined);
  // Before anything is written: no engine means nothing can start.
  await assertEngineAnswers();
  const runDir = path.resolve(options.runDir);
  const logsDir = path.join(runDir, 'logs');
  fs.mkdirSync(logsDir, { recursive: true });
  const parts = new ContainersStackParts(options.runId, openStateFile(runDir, options.runId), log, options.debrisUndoers);
  const { debris } = parts;
  const abortSignal = options.signal;
  const checkAborted = (): void => {
    if (abortSignal?.aborted) throw new HarnessError(`starting the containers stack was aborted (${String(abortSignal.reason ?? 'signal')})`);
  };
  // The container waiting for its readiness fails at once when killed; teardown then removes them all.
  let startingRole: string | undefined;
  // A container still being created is not listed yet: keep killing until the start settles.
  let abortKiller: NodeJS.Timeout | undefined;
  const killStarting = (): void => {
    if (startingRole) void killRunContainers(options.runId, startingRole).catch(() => undefined);
  };
  const onAbort = (): void => {
    killStarting();
    abortKiller = setInterval(killStarting, 500);
  };
  abortSignal?.addEventListener('abort', onAbort);
  const base = { runId: options.runId };

  /** Fixed ports must be free; free ones are picked now. */
  async function portsFor(label: string, names: StackPortName[]): Promise<number[]> {
    const ports: number[] = [];
    for (const name of names) {
      const pinned = options.ports?.[name];
      if (pinned !== undefined && (await isListening(pinned))) throw new HarnessError(`${label} cannot start: port ${pinned} (StackOptions.ports.${name}) is already in use on 127.0.0.1; free it or leave ports.${name} unset to get a free port`);
      let port = pinned ?? (await freePort());
      while (ports.includes(port)) port = await freePort();
      ports.push(port);
    }
    return ports;
  }

  async function startPart<T extends ContainerService>(part: T, label: string, ports: number[]): Promise<T> {
    checkAborted();
    const began = Date.now();
    startingRole = part.role;
    await part.start();
    startingRole = undefined;
    log(`stack: ${label} container ${part.containerId} up on port(s) ${ports.join(', ')} in ${Date.now() - began} ms`);
    return part;
  }

  try {
    checkAborted();
    const workDir = parts.makeWorkDir();
    const logFile = (name: string) => path.join(logsDir, `${name}.log`);

    const [pgPort] = await portsFor('postgresql', ['postgres']);
    const settings = { ...DEFAULT_SETTINGS, ...options.postgres?.settings };
    // pg_wal on a host path where the host allows it: the cluster in the work dir, at the same path inside.
    const support = hostWalSupport();
    const walOnHost: HostWalSupport | undefined = support.walDir ? support : undefined;
    const pgDir = path.join(workDir, 'pg');
    if (walOnHost) {
      allowTraversalWithinTmp(workDir); // the container's postgres user walks down to its data dir
      await parts.shareWorkDir();
    }
    const postgres = (parts.postgres = new PostgresContainer(
      pgPort,
      {
        name: 'postgres',
        debris,
        spec: {
          ...base,
          image: imageFor('postgres'),
          role: 'postgres',
          env: {
            PGPORT: String(pgPort),
            LAGSTORM_PG_SETTINGS: Object.entries(settings).map(([name, value]) => `${name} = '${value.replace(/'/g, "''")}'`).join('\n'),
            ...(walOnHost ? { PGDATA: path.join(pgDir, 'pgdata'), PGWALDIR: path.join(pgDir, 'pgwal') } : {}),
          },
          binds: walOnHost ? [{ source: workDir, target: workDir, propagation: 'rslave' }] : undefined,
          ready: { log: 'database system is ready to accept connections' },
          logFile: logFile('postgresql'),
        },
      },
      ...(walOnHost ? [path.join(pgDir, 'pgdata'), path.join(pgDir, 'pgwal', 'pg_wal')] : []),
    ));
    await startPart(postgres, 'postgresql', [pgPort]);

    const [toxiPort] = await portsFor('toxiproxy', ['toxiproxy']);
    const toxiproxy = (parts.toxiproxy = new ToxiproxyContainer(toxiPort, {
      name: 'toxiproxy',
      debris,
      spec: { ...base, image: imageFor('toxiproxy'), role: 'toxiproxy', env: { TOXIPROXY_PORT: String(toxiPort) }, command: ['-proxy-metrics'], ready: { http: { port: toxiPort, path: '/version' } }, logFile: logFile('toxiproxy') },
    }));
    await startPart(toxiproxy, 'toxiproxy', [toxiPort]);
    log(`stack: toxiproxy version ${toxiproxy.version}`);
    const dbLink = await toxiproxy.createProxy({ name: 'backend-db', listen: '127.0.0.1:0', upstream: `127.0.0.1:${pgPort}` });
    const backendDatabaseUrl = `postgresql://postgres@${dbLink.listen}/${postgres.database}`;

    const [wsPort, adminPort] = await portsFor('backend', ['backendWs', 'backendAdmin']);
    const values: Record<string, string> = { 'postgres.url': backendDatabaseUrl, 'ports.ws': String(wsPort), 'ports.admin': String(adminPort), 'run.id': options.runId };
    const extraPorts: number[] = [];
    for (const spec of options.backend.services ?? []) {
      let port = await freePort();
      while ([pgPort, toxiPort, wsPort, adminPort, ...extraPorts].includes(port)) port = await freePort();
      extraPorts.push(port);
      values[`services.${spec.name}.port`] = String(port);
    }
    for (const [i, spec] of (options.backend.services ?? []).entries()) {
      const port = extraPorts[i];
      const filled = fillAll({ ...values, port: String(port) }, `backend.services[${i}]`, spec.command, spec.env);
      const extra = new ExtraServiceContainer(port, {
        name: spec.name,
        debris,
        spec: { ...base, image: spec.image, role: spec.name, env: filled.env, command: filled.command, ready: readinessOf(spec.ready, { port }, { port }), startupTimeoutMs: spec.ready?.timeoutMs, logFile: logFile(spec.name) },
      });
      parts.extras.push(extra);
      await startPart(extra, spec.name, [port]);
    }

    await toxiproxy.createProxy({ name: 'bots-backend', listen: '127.0.0.1:0', upstream: `127.0.0.1:${wsPort}` });
    await toxiproxy.createProxy({ name: 'bots-backend-v6', listen: '[::1]:0', upstream: `[::1]:${wsPort}` });
    const defaultCommand = [
      '--port', '{{ports.ws}}',
      '--admin-port', '{{ports.admin}}',
      '--database-url', '{{postgres.url}}',
      ...(options.backend.defect ? ['--defect', options.backend.defect] : []),
      ...(options.backend.extraArgs ?? []),
    ];
    const filled = fillAll(values, 'backend', options.backend.command ?? defaultCommand, options.backend.env);
    const backend = (parts.backend = new BackendContainer(wsPort, adminPort, {
      name: 'backend',
      debris,
      spec: {
        ...base,
        image,
        role: 'backend',
        env: filled.env,
        command: filled.command,
        ready: readinessOf(options.backend.ready, { ws: wsPort, admin: adminPort }, { http: { port: adminPort, path: '/readyz' } }),
        startupTimeoutMs: options.backend.ready?.timeoutMs,
        logFile: logFile('backend'),
      },
    }));
    await startPart(backend, 'backend', [wsPort, adminPort]);

    const [promPort] = await portsFor('prometheus', ['prometheus']);
    const promDir = path.join(workDir, 'prometheus');
    fs.mkdirSync(promDir, { recursive: true });
    const configFile = path.join(promDir, 'prometheus.yml');
    fs.writeFileSync(
      configFile,
      renderPrometheusConfig([
        { job: 'backend', target: `127.0.0.1:${adminPort}` },
        { job: 'toxiproxy', target: `127.0.0.1:${toxiPort}` },
        ...(options.scrapeTargets ?? []),
      ]),
    );
    const prometheus = (parts.prometheus = new PrometheusContainer(promPort, {
      name: 'prometheus',
      debris,
      spec: {
        ...base,
        image: imageFor('prometheus'),
        role: 'prometheus',
        env: { PROMETHEUS_PORT: String(promPort), PROMETHEUS_CONFIG_FILE: '/etc/lagstorm/prometheus.yml' },
        binds: [{ source: configFile, target: '/etc/lagstorm/prometheus.yml', readOnly: true }],
        ready: { http: { port: promPort, path: '/-/ready' } },
        logFile: logFile('prometheus'),
      },
    }));
    await startPart(prometheus, 'prometheus', [promPort]);
    checkAborted();

    const { links, endpoints } = stackEndpoints({ links: toxiproxy.links(), backend, postgres, toxiproxy, prometheus, backendDatabaseUrl });
    const extraServices = Object.fromEntries(parts.extras.map((extra) => [extra.name, extra]));
    return {
      runtime: 'containers',
      runId: options.runId,
      runDir,
      logsDir,
      workDir,
      endpoints,
      backend,
      postgres,
      toxiproxy,
      prometheus,
      links,
      debris,
      sut: containersSystemUnderTest({ runId: options.runId, walOnHost, workDir, debris, backend, postgres, toxiproxy, prometheus, links, extraServices }),
      stop: () => parts.stop(),
    };
  } catch (error) {
    await parts.stop().catch((teardownError: Error) => log(`stack: ${teardownError.message}`));
    if (abortSignal?.aborted) throw new HarnessError(`starting the containers stack was aborted (${String(abortSignal.reason ?? 'signal')}); everything started was torn down`, { cause: error });
    if (error instanceof HarnessError || error instanceof InvalidInputError) throw error;
    throw new HarnessError(`starting the containers stack failed: ${(error as Error).message}`, { cause: error });
  } finally {
    abortSignal?.removeEventListener('abort', onAbort);
    clearInterval(abortKiller);
  }
}

export const containersRuntime: Runtime = { name: 'containers', capabilities: containersRuntimeCapabilities(), start: startContainersStack };
