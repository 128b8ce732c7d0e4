/**
 * The Docker engine the containers runtime talks to. Debian's `docker.io` gives `dockerd`; when
 * no engine answers, setup starts one detached, with no bridge and no iptables rules, so that
 * containers can only use host networking (loopback only, see DESIGN.md).
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { HarnessError } from '../../core/exit-codes';

const exec = promisify(execFile);

/** dockerd's own pid file: dockerd refuses to start twice while the pid in it is alive. */
export const DOCKERD_PID_FILE = '/var/run/lagstorm-dockerd.pid';
export const DOCKERD_LOG_FILE = '/var/log/lagstorm-dockerd.log';
export const DOCKERD_ARGS = ['--iptables=false', '--bridge=none', '--ip-forward=false', '--ip-masq=false', `--pidfile=${DOCKERD_PID_FILE}`];

export interface EngineStatus {
  answers: boolean;
  /** Server version when it answers. */
  version?: string;
  /** The pid from our pid file when that process is alive (an engine we started). */
  pid?: number;
  /** Why it does not answer (the client's last error line). */
  reason?: string;
}

function lastLine(error: unknown): string {
  const text = (error as { stderr?: string }).stderr || (error as Error).message;
  return text.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
}

export function alivePid(pidFile = DOCKERD_PID_FILE): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

export async function engineStatus(): Promise<EngineStatus> {
  const pid = alivePid();
  try {
    // env passed explicitly: callers (and tests) may point DOCKER_HOST elsewhere in process.env.
    const { stdout } = await exec('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 10_000, env: process.env });
    return { answers: true, version: stdout.trim(), ...(pid ? { pid } : {}) };
  } catch (error) {
    return { answers: false, reason: lastLine(error), ...(pid ? { pid } : {}) };
  }
}

async function which(command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin'])) {
    if (dir && fs.existsSync(path.join(dir, command))) return path.join(dir, command);
  }
  return undefined;
}

export interface EnsureEngineOptions {
  log?: (line: string) => void;
  /** How long to wait for a freshly started dockerd to answer (default 60 s). */
  timeoutMs?: number;
}

/**
 * Makes sure an engine answers: installs `docker.io` through apt when dockerd is missing (root),
 * starts dockerd detached when nothing answers (unless the pid file names a live one that is still
 * starting), and waits for it. Throws a HarnessError saying what to do when it cannot.
 */
export async function ensureEngine(options: EnsureEngineOptions = {}): Promise<EngineStatus> {
  const log = options.log ?? (() => undefined);
  let status = await engineStatus();
  if (status.answers) return status;

  const isRoot = process.getuid?.() === 0;
  let dockerd = await which('dockerd');
  if (!dockerd || !(await which('docker'))) {
    if (!isRoot) throw new HarnessError('dockerd is not installed; run `sudo apt-get install -y docker.io`, then `lagstorm setup --containers` again');
    log('installing Debian docker.io (dockerd)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      await exec('apt-get', ['update', '-qq'], { env, timeout: 600_000 });
      await exec('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'docker.io'], { env, timeout: 1_800_000, maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      throw new HarnessError(`apt-get install docker.io failed (${lastLine(error)}); install it by hand, then run \`lagstorm setup --containers\` again`);
    }
    dockerd = await which('dockerd');
    if (!dockerd) throw new HarnessError('docker.io installed but dockerd is not on PATH; check `dpkg -L docker.io`');
  }

  if (!status.pid) {
    if (!isRoot) throw new HarnessError(`no Docker engine answers (${status.reason}); start one as root: dockerd ${DOCKERD_ARGS.join(' ')}`);
    log(`starting dockerd (log ${DOCKERD_LOG_FILE}, pid file ${DOCKERD_PID_FILE})`);
    const out = fs.openSync(DOCKERD_LOG_FILE, 'a');
    // Detached in its own session so it outlives setup; stdio goes to the log file only.
    const child = spawn(dockerd, DOCKERD_ARGS, { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    fs.closeSync(out);
  } else {
    log(`dockerd (pid ${status.pid}) is running but does not answer yet; waiting`);
  }

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    status = await engineStatus();
    if (status.answers) return status;
  }
  const tail = fs.existsSync(DOCKERD_LOG_FILE) ? fs.readFileSync(DOCKERD_LOG_FILE, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
  throw new HarnessError(`dockerd did not answer within ${(options.timeoutMs ?? 60_000) / 1000}s (${status.reason}); see ${DOCKERD_LOG_FILE}: ${tail}`);
}
