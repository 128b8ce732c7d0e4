/**
 * The Docker Swarm calls of the swarm agent engine and of `lagstorm cleanup`: a one-node swarm on
 * loopback when none is active (FIELD-NOTES: `swarm init --advertise-addr 127.0.0.1` works here),
 * a replicated-job service with its scenario as a Swarm config, its tasks read through the Engine
 * API (one socket request per poll instead of a docker CLI process), and removal of all of it.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { HarnessError } from '../../core/exit-codes';
import { dockerEnv } from './docker-cli';

const exec = promisify(execFile);
const DOCKER_SOCKET = '/var/run/docker.sock';

async function docker(args: string[], timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await exec('docker', args, { env: dockerEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = ((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
    throw new HarnessError(`docker ${args.slice(0, 2).join(' ')} failed: ${stderr.split('\n').slice(-3).join(' ')}`);
  }
}

/** GET on the Engine API over its unix socket, parsed as JSON. */
function engineGet<T>(path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = http.get({ socketPath: DOCKER_SOCKET, path, timeout: 10_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode !== 200) return reject(new HarnessError(`docker engine GET ${path}: ${response.statusCode} ${body.trim()}`));
        try {
          resolve(JSON.parse(body) as T);
        } catch (error) {
          reject(error);
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`docker engine GET ${path} timed out`)));
    request.on('error', reject);
  });
}

/** Makes this engine a one-node swarm on loopback unless it already is a manager; says whether it did (then it leaves afterwards). */
export async function ensureSwarm(log: (line: string) => void = () => undefined): Promise<{ initialized: boolean }> {
  const state = (await docker(['info', '--format', '{{.Swarm.LocalNodeState}}/{{.Swarm.ControlAvailable}}'])).trim();
  if (state === 'active/true') return { initialized: false };
  if (state.startsWith('active/')) throw new HarnessError('this Docker engine is a swarm worker, not a manager: run lagstorm on a manager node (docker node ls)');
  if (!state.startsWith('inactive')) throw new HarnessError(`the swarm is "${state}"; fix it (docker swarm leave --force) and run again`);
  log('agents: docker swarm init on 127.0.0.1 (left again when the run ends)');
  await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:2377']);
  return { initialized: true };
}

export interface SwarmTask {
  id: string;
  /** 1-based, as {{.Task.Slot}}. */
  slot: number;
  /** Swarm's task state: new … running, then complete, failed, shutdown, rejected, orphaned, remove. */
  state: string;
  error?: string;
  containerId?: string;
  exitCode?: number;
}

export const FINAL_TASK_STATES = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove']);

interface EngineTask {
  ID: string;
  CreatedAt?: string;
  Slot?: number;
  Status?: { State?: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
}

/** The tasks of a service, oldest first (empty once it is removed). */
export async function serviceTasks(service: string): Promise<SwarmTask[]> {
  const filters = encodeURIComponent(JSON.stringify({ service: [service] }));
  const tasks = await engineGet<EngineTask[]>(`/tasks?filters=${filters}`);
  // By time, not as strings: the engine drops trailing zeros of the fraction (".12345Z" vs ".123456789Z").
  tasks.sort((a, b) => Date.parse(a.CreatedAt ?? '') - Date.parse(b.CreatedAt ?? '') || 0);
  return tasks.map((task) => ({
    id: task.ID,
    slot: task.Slot ?? 0,
    state: task.Status?.State ?? 'unknown',
    ...(task.Status?.Err ? { error: task.Status.Err } : {}),
    ...(task.Status?.ContainerStatus?.ContainerID ? { containerId: task.Status.ContainerStatus.ContainerID } : {}),
    ...(task.Status?.ContainerStatus?.ExitCode !== undefined ? { exitCode: task.Status.ContainerStatus.ExitCode } : {}),
  }));
}

export interface JobService {
  name: string;
  image: string;
  replicas: number;
  args: string[];
  /** Values may hold Swarm templates ({{.Task.Slot}}): they expand in --env only. */
  env: Record<string, string>;
  labels: Record<string, string>;
  /** A Swarm config made from a host file, mounted at `target`. */
  config: { name: string; hostFile: string; target: string };
  /** Host folders bound read-only at the same path. */
  hostPaths: string[];
  stopGraceSeconds: number;
}

/** Creates the config and a replicated-job service on host networking. Swarm still replaces a failed task despite `--restart-condition none` (measured); the engine ends such replacements. */
export async function createJobService(spec: JobService): Promise<void> {
  const labels = Object.entries(spec.labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
  await docker(['config', 'create', ...labels, spec.config.name, spec.config.hostFile]);
  await docker([
    'service', 'create', '--detach', '--quiet',
    '--name', spec.name,
    '--mode', 'replicated-job', '--replicas', String(spec.replicas), '--max-concurrent', String(spec.replicas),
    '--restart-condition', 'none',
    '--network', 'host',
    '--stop-grace-period', `${spec.stopGraceSeconds}s`,
    ...labels,
    ...Object.entries(spec.labels).flatMap(([key, value]) => ['--container-label', `${key}=${value}`]),
    ...Object.entries(spec.env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
    '--config', `source=${spec.config.name},target=${spec.config.target},mode=0444`,
    ...spec.hostPaths.flatMap((dir) => ['--mount', `type=bind,source=${dir},target=${dir},readonly`]),
    spec.image, ...spec.args,
  ]);
}

/** A task container's output (empty when it is gone). */
export async function containerLogs(containerId: string): Promise<string> {
  try {
    const { stdout, stderr } = await exec('docker', ['logs', containerId], { env: dockerEnv(), timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout + stderr;
  } catch {
    return '';
  }
}

/** Ends a task's container at once (the engine's last resort, and the tests' way to kill an agent). */
export async function killContainer(containerId: string, signal = 'KILL'): Promise<void> {
  await exec('docker', ['kill', '--signal', signal, containerId], { env: dockerEnv(), timeout: 30_000 }).catch(() => undefined);
}

export interface SwarmDebris {
  service: string;
  config: string;
  /** This run made the swarm: leave it after the service is gone. */
  leaveSwarm: boolean;
}

/**
 * Removes the service (Swarm stops its tasks: SIGTERM, SIGKILL after the grace period), waits until
 * its containers are gone, removes the config and leaves a swarm the run made. Idempotent; says
 * whether anything was still there.
 */
export async function removeSwarmService(item: SwarmDebris, timeoutMs = 15_000): Promise<boolean> {
  const present = (await docker(['service', 'ls', '--quiet', '--filter', `name=${item.service}`])).trim() !== '';
  if (present) await docker(['service', 'rm', item.service]).catch(() => undefined);
  // Swarm stops the tasks but keeps the ended ones' containers (measured: still there 11 minutes later): remove them here.
  const filters = encodeURIComponent(JSON.stringify({ label: [`com.docker.swarm.service.name=${item.service}`] }));
  const leftovers = async (): Promise<string[]> => (await engineGet<Array<{ Id: string }>>(`/containers/json?all=1&filters=${filters}`)).map((container) => container.Id);
  const deadline = Date.now() + timeoutMs;
  for (let ids = await leftovers(); ids.length > 0; ids = await leftovers()) {
    if (Date.now() > deadline) throw new HarnessError(`${ids.length} container(s) of swarm service ${item.service} were still there ${Math.round(timeoutMs / 1000)} s after docker service rm`);
    await exec('docker', ['rm', '--force', ...ids], { env: dockerEnv(), timeout: 60_000 }).catch(() => undefined);
    await sleep(250);
  }
  const config = (await docker(['config', 'ls', '--quiet', '--filter', `name=${item.config}`])).trim() !== '';
  if (config) await docker(['config', 'rm', item.config]);
  let left = false;
  if (item.leaveSwarm && (await docker(['info', '--format', '{{.Swarm.LocalNodeState}}'])).trim() === 'active') {
    await docker(['swarm', 'leave', '--force']);
    left = true;
  }
  return present || config || left;
}
