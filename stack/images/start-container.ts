/**
 * Starts one container of the stack through testcontainers 11: host networking (loopback only),
 * labelled with the run id so `lagstorm cleanup` finds it, Ryuk off (its image cannot be pulled
 * here) and the host set to 127.0.0.1 (see configureTestcontainers), a local image only (never a pull), and a readiness check. When it does not become ready,
 * the error names the image, the exit code and the last log lines, and no container is left.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type Dockerode from 'dockerode';
import type { StartedTestContainer, WaitStrategy } from 'testcontainers';
import { HarnessError } from '../../core/exit-codes';
import { GenericContainer, getContainerRuntimeClient, Wait } from 'testcontainers';
import fs from 'node:fs';
import { imageHash } from './docker-cli';
import { engineStatus } from './engine';

/**
 * testcontainers reads these when it first needs them; explicit user settings win. Ryuk's image
 * cannot be pulled here. The host override: on a machine that is itself a container (/.dockerenv),
 * testcontainers looks for the gateway of the `bridge` network, which a dockerd started with
 * --bridge=none does not have ("no such network"); with host networking the host is loopback anyway.
 */
export function configureTestcontainers(env: NodeJS.ProcessEnv = process.env): void {
  env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
}

export const RUN_ID_LABEL = 'lagstorm.run-id';
type BindMode = NonNullable<Parameters<GenericContainer['withBindMounts']>[0][number]['mode']>;
const START_ID_LABEL = 'lagstorm.start-id';

/** When a container counts as ready. HTTP and port checks go to 127.0.0.1 from the host. */
export type Readiness = { log: string | RegExp } | { http: { port: number; path: string } } | { port: number };

export interface ContainerSpec {
  image: string;
  /** The run this container belongs to (label lagstorm.run-id). */
  runId: string;
  /** For messages and the container name, e.g. "postgres". */
  role: string;
  ready: Readiness;
  env?: Record<string, string>;
  command?: string[];
  /** Host directories or files → container paths. */
  /** rslave: mounts made on the host under `source` later (and their unmounts) show up in the container too. */
  binds?: { source: string; target: string; readOnly?: boolean; propagation?: 'rslave' }[];
  /** Default 60 s. */
  startupTimeoutMs?: number;
  /** Appends the container's output (stdout and stderr) to this host file. */
  logFile?: string;
}

/** Polls a loopback port (optionally an HTTP path for a 2xx) and fails fast when the container exits. */
export class HostLoopbackWait implements WaitStrategy {
  private timeoutMs = 60_000;
  private timeoutSet = false;
  constructor(private readonly port: number, private readonly httpPath?: string) {}

  withStartupTimeout(ms: number): this {
    this.timeoutMs = ms;
    this.timeoutSet = true;
    return this;
  }
  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }
  getStartupTimeout(): number {
    return this.timeoutMs;
  }

  async waitUntilReady(container: Dockerode.Container): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    const what = this.httpPath ? `GET http://127.0.0.1:${this.port}${this.httpPath}` : `a connection to 127.0.0.1:${this.port}`;
    let last = 'no answer';
    while (Date.now() < deadline) {
      const state = (await container.inspect()).State;
      if (!state.Running) throw new Error(`container exited (code ${state.ExitCode}) before ${what} succeeded`);
      try {
        if (this.httpPath) {
          const response = await fetch(`http://127.0.0.1:${this.port}${this.httpPath}`, { signal: AbortSignal.timeout(2000) });
          if (response.ok) return;
          last = `HTTP ${response.status}`;
        } else {
          await connectOnce(this.port);
          return;
        }
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`${what} did not succeed within ${this.timeoutMs} ms (last: ${last})`);
  }
}

function connectOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000, () => socket.destroy(new Error('connect timeout')));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });
}

function waitStrategyOf(ready: Readiness): WaitStrategy {
  if ('log' in ready) return Wait.forLogMessage(ready.log);
  if ('http' in ready) return new HostLoopbackWait(ready.http.port, ready.http.path);
  return new HostLoopbackWait(ready.port);
}

/** Removes every container (running or not) carrying `label=value`; returns how many. */
export async function removeLabelled(label: string, value: string): Promise<number> {
  configureTestcontainers();
  const client = await getContainerRuntimeClient();
  const docker = client.container.dockerode;
  const found = await docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
  await Promise.all(found.map((info) => docker.getContainer(info.Id).remove({ force: true, v: true }).catch(() => undefined)));
  return found.length;
}

/** Removes one container by id; false when it was already gone. */
export async function removeContainer(id: string): Promise<boolean> {
  configureTestcontainers();
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

/** Throws a HarnessError naming `lagstorm setup --containers` when no Docker engine answers. */
export async function assertEngineAnswers(): Promise<void> {
  const status = await engineStatus();
  if (!status.answers) throw new HarnessError(`no Docker engine answers (${status.reason || 'no reason given'}); run \`lagstorm setup --containers\` (starts dockerd and builds lagstorm's images), or use --runtime process`);
}

/** SIGKILLs the running containers of a run in one role (a start to abort: its wait strategy then fails at once). */
export async function killRunContainers(runId: string, role: string): Promise<number> {
  configureTestcontainers();
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const found = await docker.listContainers({ filters: { label: [`${RUN_ID_LABEL}=${runId}`, `lagstorm.role=${role}`] } });
  await Promise.all(found.map((info) => docker.getContainer(info.Id).kill().catch(() => undefined)));
  return found.length;
}

/** Removes every container of a run (for cleanup after a crash). */
export function removeRunContainers(runId: string): Promise<number> {
  return removeLabelled(RUN_ID_LABEL, runId);
}

export async function startContainer(spec: ContainerSpec): Promise<StartedTestContainer> {
  configureTestcontainers();
  await assertEngineAnswers();
  // testcontainers would try a pull for a missing image, which cannot work here (no registry).
  if ((await imageHash(spec.image)) === undefined) {
    throw new HarnessError(`image ${spec.image} (${spec.role}) is not on this Docker engine; run \`lagstorm setup --containers\` to build lagstorm's images, or load/pull ${spec.image} yourself`);
  }
  const startId = randomUUID();
  const logTail: string[] = [];
  let container = new GenericContainer(spec.image)
    .withNetworkMode('host')
    .withName(`lagstorm-${spec.runId}-${spec.role}-${startId.slice(0, 8)}`)
    .withLabels({ [RUN_ID_LABEL]: spec.runId, [START_ID_LABEL]: startId, 'lagstorm.role': spec.role })
    .withEnvironment(spec.env ?? {})
    .withWaitStrategy(waitStrategyOf(spec.ready))
    .withStartupTimeout(spec.startupTimeoutMs ?? 60_000)
    .withLogConsumer((stream) => {
      const file = spec.logFile ? fs.createWriteStream(spec.logFile, { flags: 'a' }) : undefined;
      if (file) stream.pipe(file);
      stream.on('data', (chunk: Buffer | string) => {
        logTail.push(...String(chunk).split('\n').filter((line) => line.trim()));
        logTail.splice(0, Math.max(0, logTail.length - 8));
      });
    });
  if (spec.command) container = container.withCommand(spec.command);
  // Docker reads "rw,rslave" from the Binds mode; testcontainers' BindMode type only knows the first part.
  if (spec.binds?.length) container = container.withBindMounts(spec.binds.map((b) => ({ source: b.source, target: b.target, mode: `${b.readOnly ? 'ro' : 'rw'}${b.propagation ? `,${b.propagation}` : ''}` as BindMode })));
  try {
    return await container.start();
  } catch (error) {
    // testcontainers removes a container that failed its wait; one that failed to start at all stays.
    await removeLabelled(START_ID_LABEL, startId).catch(() => undefined);
    const logs = logTail.length ? `; its last log lines:\n  ${logTail.join('\n  ')}` : '';
    throw new HarnessError(`container ${spec.image} (${spec.role}, run ${spec.runId}) did not become ready: ${(error as Error).message}${logs}`, { cause: error });
  }
}
