/**
 * One long-running container of the `containers` runtime as a ServiceHandle: the first start goes
 * through testcontainers (startContainer: host network, run-id labels, a wait strategy); stop, kill,
 * pause and later starts use the Docker API on the same container, so its ports, labels and data stay.
 * isRunning() is answered from a state polled every 250 ms (and updated at once by our own actions).
 * Output goes to a host log file, appended across restarts.
 */
import fs from 'node:fs';
import type Dockerode from 'dockerode';
import { getContainerRuntimeClient } from 'testcontainers';
import { HarnessError } from '../core/exit-codes';
import type { DebrisRecorder } from './debris';
import { tailFile } from './managed-process';
import { configureTestcontainers, HostLoopbackWait, removeContainer, startContainer, type ContainerSpec, type Readiness } from './images/start-container';
import type { ServiceHandle } from './types';

const POLL_MS = 250;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ContainerServiceOptions {
  /** The service's name ('backend', 'postgres', ...). */
  name: string;
  spec: ContainerSpec & { logFile: string };
  debris: DebrisRecorder;
  /** How long a start again may take to pass spec.ready (default: spec.startupTimeoutMs, else 60 s). */
  startTimeoutMs?: number;
}

export class ContainerService implements ServiceHandle {
  private container: Dockerode.Container | undefined;
  private state: { running: boolean; paused: boolean; pid?: number } = { running: false, paused: false };
  private poller: NodeJS.Timeout | undefined;
  private debrisId: string | undefined;
  private removed = false;

  constructor(protected readonly options: ContainerServiceOptions) {}

  get name(): string {
    return this.options.name;
  }
  /** The container's lagstorm.role label. */
  get role(): string {
    return this.options.spec.role;
  }
  get logFile(): string {
    return this.options.spec.logFile;
  }
  /** The host pid of the container's first process (changes after a restart); undefined while stopped. */
  get pid(): number | undefined {
    return this.state.running ? this.state.pid : undefined;
  }
  /** The container id (12 hex digits) once created. */
  get containerId(): string | undefined {
    return this.container?.id.slice(0, 12);
  }
  get isPaused(): boolean {
    return this.state.paused;
  }

  isRunning(): boolean {
    return this.state.running;
  }

  private async refresh(): Promise<void> {
    if (!this.container) return;
    try {
      const { State } = await this.container.inspect();
      this.state = { running: State.Running, paused: State.Paused, pid: State.Pid || undefined };
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) this.state = { running: false, paused: false };
    }
  }

  private startPolling(): void {
    if (this.poller) return;
    this.poller = setInterval(() => void this.refresh(), POLL_MS);
    this.poller.unref();
  }

  /** Creates and starts the container (first call) or starts it again; resolves once ready. */
  async start(): Promise<void> {
    if (this.removed) throw new HarnessError(`${this.name} container was removed; it cannot start again`);
    if (this.container) {
      await this.refresh();
      if (this.state.running) return;
      await this.startAgain();
      return;
    }
    fs.appendFileSync(this.logFile, `--- ${new Date().toISOString()} starting ${this.name}: container of ${this.options.spec.image}\n`);
    // Recorded before it exists: a run killed now leaves a run-labelled container cleanup removes.
    this.debrisId ??= this.options.debris.record({ kind: 'container', runId: this.options.spec.runId, name: this.options.spec.role });
    const started = await startContainer(this.options.spec);
    configureTestcontainers();
    this.container = (await getContainerRuntimeClient()).container.getById(started.getId());
    this.options.debris.forget(this.debrisId);
    this.debrisId = this.options.debris.record({ kind: 'container', runId: this.options.spec.runId, id: started.getId(), name: started.getName().replace(/^\//, '') });
    await this.refresh();
    this.startPolling();
  }

  private async startAgain(): Promise<void> {
    const container = this.container!;
    const client = await getContainerRuntimeClient();
    fs.appendFileSync(this.logFile, `--- ${new Date().toISOString()} starting ${this.name} again (container ${this.containerId})\n`);
    const since = Date.now() / 1000;
    const logOffset = fs.statSync(this.logFile).size;
    await container.start();
    const logs = await client.container.logs(container, { since });
    logs.pipe(fs.createWriteStream(this.logFile, { flags: 'a' }));
    await this.refresh();
    try {
      await this.waitReady(container, logOffset);
    } catch (error) {
      throw new HarnessError(`${this.name} (container ${this.containerId}) did not become ready again: ${(error as Error).message}; last log lines:\n${tailFile(this.logFile, 10)}`, { cause: error });
    }
  }

  private async waitReady(container: Dockerode.Container, logOffset: number): Promise<void> {
    const ready: Readiness = this.options.spec.ready;
    const timeoutMs = this.options.startTimeoutMs ?? this.options.spec.startupTimeoutMs ?? 60_000;
    if (!('log' in ready)) {
      const wait = 'http' in ready ? new HostLoopbackWait(ready.http.port, ready.http.path) : new HostLoopbackWait(ready.port);
      await wait.withStartupTimeout(timeoutMs).waitUntilReady(container);
      return;
    }
    const deadline = Date.now() + timeoutMs;
    const matches = (text: string) => (typeof ready.log === 'string' ? text.includes(ready.log) : ready.log.test(text));
    while (Date.now() < deadline) {
      if (matches(readFrom(this.logFile, logOffset))) return;
      await this.refresh();
      if (!this.state.running) throw new Error(`container exited before printing ${String(ready.log)}`);
      await sleep(100);
    }
    throw new Error(`no ${String(ready.log)} in its log within ${timeoutMs} ms`);
  }

  /**
   * SIGKILL: docker kill. Other signals go to the container's first process; then wait up to
   * timeoutMs for the container to exit, and SIGKILL it after that. A paused container is resumed first.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    const container = this.container;
    if (!container) return;
    await this.refresh();
    if (!this.state.running) return;
    if (this.state.paused) await this.resume();
    await container.kill({ signal }).catch(ignoreNotRunning);
    const deadline = Date.now() + (signal === 'SIGKILL' ? 10_000 : timeoutMs);
    while (Date.now() < deadline) {
      await this.refresh();
      if (!this.state.running) return;
      await sleep(50);
    }
    if (signal !== 'SIGKILL') {
      fs.appendFileSync(this.logFile, `--- ${new Date().toISOString()} ${this.name} did not exit within ${timeoutMs} ms of ${signal}: SIGKILL\n`);
      await this.stop('SIGKILL');
      return;
    }
    throw new HarnessError(`${this.name} container ${this.containerId} is still running after SIGKILL`);
  }

  /** SIGSTOP / SIGCONT freeze and thaw the whole container (docker pause); other signals go to its first process. */
  signal(signal: NodeJS.Signals): void {
    if (signal === 'SIGSTOP') void this.pause().catch(() => undefined);
    else if (signal === 'SIGCONT') void this.resume().catch(() => undefined);
    else void this.container?.kill({ signal }).catch(() => undefined);
  }

  /** docker pause (cgroup freezer): every process of the container frozen; resolves once frozen. */
  async pause(): Promise<void> {
    if (!this.container || !this.state.running) throw new HarnessError(`${this.name} is not running; cannot pause it`);
    await this.container.pause();
    await this.refresh();
    if (!this.state.paused) throw new HarnessError(`${this.name} container ${this.containerId} is not paused after docker pause`);
  }

  /** docker unpause; idempotent. */
  async resume(): Promise<void> {
    if (!this.container) return;
    await this.refresh();
    if (!this.state.paused) return;
    await this.container.unpause();
    await this.refresh();
    if (this.state.paused) throw new HarnessError(`${this.name} container ${this.containerId} is still paused after docker unpause`);
  }

  /** Removes the container (force) and forgets its debris; idempotent. */
  async remove(): Promise<void> {
    clearInterval(this.poller);
    this.poller = undefined;
    this.removed = true;
    if (this.container) await removeContainer(this.container.id);
    this.state = { running: false, paused: false };
    if (this.debrisId) this.options.debris.forget(this.debrisId);
    this.debrisId = undefined;
  }
}

function ignoreNotRunning(error: unknown): void {
  const status = (error as { statusCode?: number }).statusCode;
  if (status === 409 || status === 404) return; // not running / gone: what we wanted
  throw error;
}

function readFrom(file: string, offset: number): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const length = Math.max(0, fs.fstatSync(fd).size - offset);
      const buffer = Buffer.alloc(Math.min(length, 1024 * 1024));
      fs.readSync(fd, buffer, 0, buffer.length, offset);
      return buffer.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}
