/**
 * The `process` runtime: the whole stack as local processes on loopback, in this order:
 * PostgreSQL → Toxiproxy (+ proxies) → backend (through its proxies) → Prometheus.
 * A part that does not come up tears down everything already started before the error propagates;
 * stop() is idempotent, ordered and bounded in time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HarnessError, InvalidInputError } from '../core/exit-codes';
import { BackendProcess } from './backend';
import type { DebrisItem } from './debris';
import type { ManagedProcess } from './managed-process';
import { freePort, isListening } from './ports';
import { createPostgresCluster, preparePostgres, type PostgresCluster } from './postgres';
import { PROCESS_RUNTIME_CAPABILITIES, TARGET_CAPABILITIES, processSystemUnderTest } from './process-sut';
import { PrometheusServer } from './prometheus';
import { assertOptions, bounded, openStateFile, stackEndpoints } from './runtime-support';
import { StateFileRecorder, undoAll, describeItem } from './state-file';
import { ToxiproxyServer } from './toxiproxy';
import type { BackendTarget, LinkName, ProxyLink, RunStack, Runtime, StackOptions, StackPortName, StartedStack, TargetRuntime } from './types';
import type { DebrisUndoers } from './undo-debris';

const PORT_IN_USE = /address already in use|EADDRINUSE|could not bind/i;
const PORT_ATTEMPTS = 3;

type Log = (line: string) => void;

/** Everything a (partly) started stack owns, and its ordered teardown. */
class ProcessStackParts {
  postgres?: PostgresCluster;
  toxiproxy?: ToxiproxyServer;
  backend?: BackendProcess;
  prometheus?: PrometheusServer;
  workDir?: string;
  private workDirDebrisId?: string;
  /** The part being started right now: killed when options.signal aborts. */
  starting?: ManagedProcess;
  private stopping?: Promise<void>;

  constructor(
    readonly debris: StateFileRecorder,
    private readonly log: Log,
    private readonly undoers: DebrisUndoers | undefined,
  ) {}

  makeWorkDir(runId: string): string {
    const safeId = runId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40);
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), `lagstorm-${safeId}-`));
    this.workDirDebrisId = this.debris.record({ kind: 'dir', path: this.workDir });
    return this.workDir;
  }

  private ownParts(): ManagedProcess[] {
    return [this.backend, this.prometheus, this.toxiproxy, this.postgres].filter((part): part is NonNullable<typeof part> => part !== undefined);
  }

  private isOwnItem(id: string, item: DebrisItem): boolean {
    if (id === this.workDirDebrisId) return true;
    if (item.kind === 'toxiproxy-reset') return item.apiUrl === this.toxiproxy?.apiUrl;
    return item.kind === 'process' && this.ownParts().some((part) => part.pid === item.pid);
  }

  /** Idempotent: every call returns the same teardown. */
  stop(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  private async teardown(): Promise<void> {
    const began = Date.now();
    const errors: string[] = [];
    // Faults heal themselves; whatever they left recorded (nft tables, mounts, settings) is undone first.
    // Limits keep the worst case near a minute; a normal teardown takes well under a second.
    await bounded('leftover fault debris', 20_000, async () => {
      const actions = await undoAll(this.debris, { killTimeoutMs: 5000, undoers: this.undoers }, (id, item) => !this.isOwnItem(id, item));
      for (const action of actions) this.log(`stack: teardown ${action.outcome} ${describeItem(action.item)} ${action.detail}`);
    }, errors);
    // The backend drains in-flight actions on SIGTERM (10 s by default) before SIGKILL.
    if (this.backend) await bounded('backend', 15_000, () => this.backend!.stop('SIGTERM', 12_000), errors);
    if (this.prometheus) await bounded('prometheus', 10_000, () => this.prometheus!.stop('SIGTERM', 8000), errors);
    if (this.toxiproxy) await bounded('toxiproxy', 10_000, () => this.toxiproxy!.shutdown(), errors);
    // SIGINT = PostgreSQL's fast shutdown (clients disconnected, clean checkpoint).
    if (this.postgres) await bounded('postgresql', 20_000, () => this.postgres!.stop('SIGINT', 15_000), errors);
    if (this.workDir) {
      await bounded('temp dir', 5000, async () => fs.rmSync(this.workDir!, { recursive: true, force: true, maxRetries: 3 }), errors);
      if (!fs.existsSync(this.workDir) && this.workDirDebrisId) this.debris.forget(this.workDirDebrisId);
    }
    const left = this.debris.list();
    if (errors.length > 0 || left.length > 0) {
      const message = `teardown incomplete after ${Date.now() - began} ms: ${errors.join('; ') || 'no errors'}; ${left.length} item(s) left in ${this.debris.file}: run \`lagstorm cleanup\``;
      this.log(`stack: ${message}`);
      throw new HarnessError(message);
    } else {
      this.log(`stack: torn down in ${Date.now() - began} ms`);
    }
  }
}

/** host:port of a target URL (default ports for its scheme). */
export function targetHostPort(url: string): string {
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === 'https:' || parsed.protocol === 'wss:' ? '443' : '80');
  return `${parsed.hostname}:${port}`;
}

/** The URL bots use for a target: its scheme and path, through the proxy listening at `listen`. */
function throughProxy(target: string, listen: string): string {
  const parsed = new URL(target);
  return `${parsed.protocol}//${listen}${parsed.pathname === '/' ? '' : parsed.pathname}${parsed.search}`;
}

/** The whole stack, or (with a target) Toxiproxy and Prometheus in front of a backend that already runs. */
async function startProcessStack(options: StackOptions, target?: BackendTarget): Promise<RunStack> {
  assertOptions(options);
  const log: Log = options.log ?? (() => undefined);
  const runDir = path.resolve(options.runDir);
  const logsDir = path.join(runDir, 'logs');
  fs.mkdirSync(logsDir, { recursive: true });
  const parts = new ProcessStackParts(openStateFile(runDir, options.runId), log, options.debrisUndoers);
  const { debris } = parts;
  const abortSignal = options.signal;
  const onAbort = (): void => void parts.starting?.stop('SIGKILL', 2000);
  abortSignal?.addEventListener('abort', onAbort);
  const checkAborted = (): void => {
    if (abortSignal?.aborted) throw new HarnessError(`starting the process stack was aborted (${String(abortSignal.reason ?? 'signal')})`);
  };

  /** Starts one part on free ports, retrying with new ports when one was taken in between. */
  async function startPart<T extends ManagedProcess>(label: string, portNames: StackPortName[], create: (ports: number[]) => Promise<T>, keep: (part: T) => void): Promise<T> {
    const pinned = portNames.filter((name) => options.ports?.[name] !== undefined);
    for (const name of pinned) {
      const port = options.ports![name]!;
      if (await isListening(port)) throw new HarnessError(`${label} cannot start: port ${port} (StackOptions.ports.${name}) is already in use on 127.0.0.1; free it or leave ports.${name} unset to get a free port`);
    }
    for (let attempt = 1; ; attempt++) {
      checkAborted();
      const ports: number[] = [];
      for (const name of portNames) ports.push(options.ports?.[name] ?? (await freePort()));
      if (new Set(ports).size !== ports.length) continue; // two free-port picks collided
      const began = Date.now();
      const part = await create(ports);
      keep(part);
      parts.starting = part;
      try {
        await part.start();
        parts.starting = undefined;
        log(`stack: ${label} up on port(s) ${ports.join(', ')} in ${Date.now() - began} ms`);
        return part;
      } catch (error) {
        parts.starting = undefined;
        await part.stop('SIGKILL', 2000).catch(() => undefined);
        checkAborted();
        const message = (error as Error).message;
        if (PORT_IN_USE.test(message) && pinned.length === 0 && attempt < PORT_ATTEMPTS) {
          log(`stack: ${label} found its port taken (attempt ${attempt}); retrying on another port`);
          continue;
        }
        if (PORT_IN_USE.test(message)) {
          throw new HarnessError(`${label} could not bind its port(s) ${ports.join(', ')} after ${attempt} attempt(s): ${message}`, { cause: error });
        }
        throw error;
      }
    }
  }

  /** No backend, no PostgreSQL: the bots-backend proxies lead to the target, Prometheus scrapes Toxiproxy and the bots. */
  async function startInFrontOfTarget(target: BackendTarget, workDir: string): Promise<RunStack> {
    const upstream = targetHostPort(target.url);
    if (!(await isListening(Number(upstream.slice(upstream.lastIndexOf(':') + 1)), upstream.slice(0, upstream.lastIndexOf(':')).replace(/^\[|\]$/g, '')))) {
      throw new HarnessError(`target.url ${target.url}: nothing listens on ${upstream}; start your backend first (lagstorm does not start a target)`);
    }
    const toxiproxy = await startPart('toxiproxy', ['toxiproxy'], async ([port]) => new ToxiproxyServer(port, { port, logFile: path.join(logsDir, 'toxiproxy.log'), debris }), (part) => (parts.toxiproxy = part));
    await toxiproxy.createProxy({ name: 'bots-backend', listen: '127.0.0.1:0', upstream });
    await toxiproxy.createProxy({ name: 'bots-backend-v6', listen: '[::1]:0', upstream });
    const prometheus = await startPart(
      'prometheus',
      ['prometheus'],
      async ([port]) =>
        new PrometheusServer(port, {
          port,
          workDir: path.join(workDir, 'prometheus'),
          logFile: path.join(logsDir, 'prometheus.log'),
          targets: [{ job: 'toxiproxy', target: `127.0.0.1:${toxiproxy.port}` }, ...(options.scrapeTargets ?? [])],
          debris,
        }),
      (part) => (parts.prometheus = part),
    );
    checkAborted();
    const links = Object.fromEntries(toxiproxy.links().map((link) => [link.name, link])) as Record<LinkName, ProxyLink>;
    // Only what reaches the target: its links and nft on their ports; no service, database or volume.
    const sut = processSystemUnderTest({ runId: options.runId, workDir, debris, links, toxiproxy, onlyLinks: true });
    return {
      runtime: 'process',
      runId: options.runId,
      runDir,
      logsDir,
      workDir,
      endpoints: {
        botsWsUrl: throughProxy(target.url, links['bots-backend'].listen),
        botsWsUrlV6: throughProxy(target.url, links['bots-backend-v6'].listen),
        ...(target.adminUrl ? { backendAdminUrl: target.adminUrl } : {}),
        toxiproxyApiUrl: toxiproxy.apiUrl,
        prometheusUrl: prometheus.url,
      },
      toxiproxy,
      prometheus,
      links,
      debris,
      sut,
      stop: () => parts.stop(),
    };
  }

  try {
    checkAborted();
    const workDir = parts.makeWorkDir(options.runId);
    if (target) return await startInFrontOfTarget(target, workDir);

    const prepared = await preparePostgres({ baseDir: path.join(workDir, 'pg'), logFile: path.join(logsDir, 'postgresql.log'), settings: options.postgres?.settings, debris });
    const postgres = await startPart('postgresql', ['postgres'], async ([port]) => createPostgresCluster(prepared, port), (part) => (parts.postgres = part));

    const toxiproxy = await startPart(
      'toxiproxy',
      ['toxiproxy'],
      async ([port]) => new ToxiproxyServer(port, { port, logFile: path.join(logsDir, 'toxiproxy.log'), debris }),
      (part) => (parts.toxiproxy = part),
    );
    log(`stack: toxiproxy version ${toxiproxy.version}`);
    const dbLink = await toxiproxy.createProxy({ name: 'backend-db', listen: '127.0.0.1:0', upstream: `127.0.0.1:${postgres.port}` });
    const backendDatabaseUrl = `postgresql://postgres@${dbLink.listen}/${postgres.database}`;

    const backend = await startPart(
      'backend',
      ['backendWs', 'backendAdmin'],
      async ([wsPort, adminPort]) => {
        // Created (again) per attempt: the upstream follows the ws port, the listen port stays.
        const existing = Object.fromEntries(toxiproxy.links().map((link) => [link.name, link.listen]));
        await toxiproxy.createProxy({ name: 'bots-backend', listen: existing['bots-backend'] ?? '127.0.0.1:0', upstream: `127.0.0.1:${wsPort}` });
        await toxiproxy.createProxy({ name: 'bots-backend-v6', listen: existing['bots-backend-v6'] ?? '[::1]:0', upstream: `[::1]:${wsPort}` });
        return new BackendProcess(wsPort, adminPort, {
          wsPort,
          adminPort,
          databaseUrl: backendDatabaseUrl,
          logFile: path.join(logsDir, 'backend.log'),
          defect: options.backend.defect,
          env: options.backend.env,
          extraArgs: options.backend.extraArgs,
          entry: options.backend.entry,
          debris,
        });
      },
      (part) => (parts.backend = part),
    );

    const prometheus = await startPart(
      'prometheus',
      ['prometheus'],
      async ([port]) =>
        new PrometheusServer(port, {
          port,
          workDir: path.join(workDir, 'prometheus'),
          logFile: path.join(logsDir, 'prometheus.log'),
          targets: [
            { job: 'backend', target: `127.0.0.1:${backend.adminPort}` },
            { job: 'toxiproxy', target: `127.0.0.1:${toxiproxy.port}` },
            ...(options.scrapeTargets ?? []),
          ],
          debris,
        }),
      (part) => (parts.prometheus = part),
    );
    checkAborted();

    const { links, endpoints } = stackEndpoints({ links: toxiproxy.links(), backend, postgres, toxiproxy, prometheus, backendDatabaseUrl });
    const stack: StartedStack = {
      runtime: 'process',
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
      sut: processSystemUnderTest({ runId: options.runId, workDir, debris, backend, postgres, toxiproxy, prometheus, links }),
      stop: () => parts.stop(),
    };
    return stack;
  } catch (error) {
    await parts.stop().catch((teardownError: Error) => log(`stack: ${teardownError.message}`));
    if (abortSignal?.aborted) throw new HarnessError(`starting the process stack was aborted (${String(abortSignal.reason ?? 'signal')}); everything started was torn down`, { cause: error });
    if (error instanceof HarnessError || error instanceof InvalidInputError) throw error;
    throw new HarnessError(`starting the process stack failed: ${(error as Error).message}`, { cause: error });
  } finally {
    abortSignal?.removeEventListener('abort', onAbort);
  }
}

export const processRuntime: Runtime = {
  name: 'process',
  capabilities: PROCESS_RUNTIME_CAPABILITIES,
  // Without a target the backend and PostgreSQL are always started (or start fails).
  start: (options) => startProcessStack(options) as Promise<StartedStack>,
  forTarget: (target): TargetRuntime => ({
    name: 'process',
    label: 'runtime "process" with target.url (a backend lagstorm did not start)',
    capabilities: TARGET_CAPABILITIES,
    start: (options) => startProcessStack(options, target),
  }),
};
