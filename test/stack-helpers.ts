/** Shared by the whole-stack tests: which backend to run, and proof that nothing was left behind. */
import fs from 'node:fs';
import path from 'node:path';
import { isListening } from '../stack/ports';
import { readStateFile } from '../stack/state-file';
import type { StartedStack } from '../stack/types';

const REAL_BACKEND = path.resolve(__dirname, '..', 'games', 'reference', 'server', 'main.ts');
export const STAND_IN_BACKEND = path.resolve(__dirname, 'fixtures', 'stand-in-backend.ts');

/** The real backend once games/reference/server/main.ts exists; the stand-in until then. */
export function backendEntry(): string | undefined {
  return fs.existsSync(REAL_BACKEND) ? undefined : STAND_IN_BACKEND;
}

export function usesRealBackend(): boolean {
  return backendEntry() === undefined;
}

export interface StackTraces {
  pids: Record<string, number>;
  /** Every listening socket of the stack: [host, port]. */
  ports: Array<[string, number]>;
  workDir: string;
  stateFile: string;
}

export function tracesOf(stack: StartedStack): StackTraces {
  const hostPort = (listen: string): [string, number] => {
    const at = listen.lastIndexOf(':');
    return [listen.slice(0, at).replace(/^\[|\]$/g, ''), Number(listen.slice(at + 1))];
  };
  return {
    pids: Object.fromEntries([stack.postgres, stack.toxiproxy, stack.backend, stack.prometheus].map((part) => [part.name, part.pid!])),
    ports: [
      ['127.0.0.1', stack.postgres.port],
      ['127.0.0.1', Number(new URL(stack.toxiproxy.apiUrl).port)],
      ['127.0.0.1', stack.backend.wsPort],
      ['::1', stack.backend.wsPort],
      ['127.0.0.1', stack.backend.adminPort],
      ['127.0.0.1', Number(new URL(stack.prometheus.url).port)],
      ...Object.values(stack.links).map((link) => hostPort(link.listen)),
    ],
    workDir: stack.workDir,
    stateFile: path.join(stack.runDir, 'state.json'),
  };
}

function procStat(pid: number): { state: string; pgid: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], pgid: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/** Running (not a zombie waiting for a parent that does not reap). */
export function isAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** Live processes in process group pgid (PostgreSQL's children share the postmaster's group). */
export function liveGroupMembers(pgid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      const stat = procStat(pid);
      return stat !== undefined && stat.pgid === pgid && stat.state !== 'Z' && stat.state !== 'X';
    });
}

/** Polls a condition (bounded) and returns its last value. */
export async function eventually<T>(probe: () => T | Promise<T>, accept: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await probe();
  }
  return value;
}

/** What a stack left behind: empty lists and false everywhere when teardown was complete. */
export async function leftovers(traces: StackTraces): Promise<{ processes: string[]; listening: string[]; workDirExists: boolean; stateItems: unknown[] }> {
  const processes = Object.entries(traces.pids)
    .filter(([, pid]) => isAlive(pid) || liveGroupMembers(pid).length > 0)
    .map(([name, pid]) => `${name} (pid ${pid})`);
  const listening: string[] = [];
  for (const [host, port] of traces.ports) if (await isListening(port, host)) listening.push(`${host}:${port}`);
  return {
    processes,
    listening,
    workDirExists: fs.existsSync(traces.workDir),
    stateItems: readStateFile(traces.stateFile).items,
  };
}

export const NOTHING_LEFT = { processes: [], listening: [], workDirExists: false, stateItems: [] };
