/**
 * A child process of the stack: started in its own process group (so a terminal Ctrl-C reaches
 * only lagstorm, which then tears down in order), output appended to a log file, health-checked
 * with a timeout, stoppable with escalation to SIGKILL, recorded as debris while it runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from '../core/exit-codes';
import type { DebrisRecorder } from './debris';
import type { ServiceHandle } from './types';

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
  /** Resolves true once the process serves; polled every 100 ms until startTimeoutMs. */
  healthCheck: () => Promise<boolean>;
  startTimeoutMs?: number;
  /** Run as this uid/gid (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  debris?: DebrisRecorder;
}

export function tailFile(file: string, lines = 20): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').filter(Boolean).slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The fields of /proc/<pid>/stat lagstorm needs; undefined when the process is gone. */
export function readProcStat(pid: number): { state: string; pgid: number; startTime: string } | undefined {
  try {
    // The comm field may hold spaces, so split after its ')'; starttime is field 22.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], pgid: Number(fields[2]), startTime: fields[19] };
  } catch {
    return undefined;
  }
}

export function processStartTime(pid: number): string | undefined {
  return readProcStat(pid)?.startTime;
}

export class ManagedProcess implements ServiceHandle {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private debrisId: string | undefined;
  private lastExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(private readonly options: ManagedProcessOptions) {}

  get name(): string {
    return this.options.name;
  }
  get logFile(): string {
    return this.options.logFile;
  }
  get pid(): number | undefined {
    return this.isRunning() ? this.child?.pid : undefined;
  }

  isRunning(): boolean {
    return this.child?.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.isRunning()) return;
    const { name, command, args, env, cwd, logFile, uid, gid } = this.options;
    const log = fs.openSync(logFile, 'a');
    fs.writeSync(log, `\n--- ${new Date().toISOString()} starting ${name}: ${command} ${args.join(' ')}\n`);
    let child: ChildProcess;
    try {
      child = spawn(command, args, { env: env ?? process.env, cwd, detached: true, stdio: ['ignore', log, log], uid, gid });
    } finally {
      fs.closeSync(log);
    }
    this.child = child;
    this.lastExit = undefined;
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.lastExit = { code, signal };
        this.forgetDebris();
        resolve();
      });
      // A failed spawn (ENOENT, EACCES, EAGAIN) never emits 'exit': settle here, or stop() would wait forever.
      child.once('error', () => {
        if (child.pid === undefined) resolve();
      });
    });
    if (child.pid === undefined) {
      const error = await spawnError;
      throw this.startError(`could not be started (${error.message}); is it installed? run \`lagstorm doctor\``);
    }
    if (this.options.debris) {
      this.debrisId = this.options.debris.record({ kind: 'process', name, pid: child.pid, startTime: processStartTime(child.pid) });
    }
    await this.waitHealthy(spawnError);
  }

  private async waitHealthy(spawnError: Promise<Error>): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let failure: Error | undefined;
    void spawnError.then((error) => (failure = error));
    while (Date.now() < deadline) {
      if (failure) throw this.startError(`could not be started (${failure.message}); is it installed? run \`lagstorm doctor\``);
      if (!this.isRunning()) {
        await sleep(50); // let the exit event land so the code is known
        throw this.startError(`exited while starting (code ${this.lastExit?.code ?? '?'}, signal ${this.lastExit?.signal ?? 'none'})`);
      }
      if (await this.options.healthCheck().catch(() => false)) return;
      await sleep(100);
    }
    await this.stop('SIGKILL');
    throw this.startError(`did not become healthy within ${timeoutMs / 1000}s`);
  }

  private startError(reason: string): HarnessError {
    return new HarnessError(`${this.name} ${reason}. Last lines of ${this.logFile}:\n${tailFile(this.logFile)}`);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.isRunning() && this.child?.pid) process.kill(this.child.pid, signal);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    if (this.child?.pid === undefined) return;
    if (!this.isRunning()) return this.exited;
    this.signal('SIGCONT'); // a paused process cannot act on SIGTERM
    this.signal(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut && this.isRunning()) {
      this.signal('SIGKILL');
      await this.exited;
    }
  }

  /** Resolves when the current process exits (at once if none runs). */
  waitForExit(): Promise<void> {
    return this.exited;
  }

  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.lastExit;
  }

  private forgetDebris(): void {
    if (this.debrisId && this.options.debris) this.options.debris.forget(this.debrisId);
    this.debrisId = undefined;
  }
}
