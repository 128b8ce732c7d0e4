/** A part that does not come up: one clear HarnessError naming it, and nothing left running. */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { HarnessError } from '../core/exit-codes';
import { isListening } from '../stack/ports';
import { processRuntime } from '../stack/process-runtime';
import { readStateFile } from '../stack/state-file';
import type { StackOptions } from '../stack/types';
import { backendEntry, isAlive, liveGroupMembers, STAND_IN_BACKEND } from './stack-helpers';

/** Watches a start attempt: every pid the state file ever listed, every port a part came up on. */
function observe(runDir: string): { log: (line: string) => void; pids: Set<number>; ports: number[]; lines: string[] } {
  const pids = new Set<number>();
  const ports: number[] = [];
  const lines: string[] = [];
  return {
    pids,
    ports,
    lines,
    log: (line) => {
      lines.push(line);
      for (const match of line.matchAll(/up on port\(s\) ([\d, ]+)/g)) ports.push(...match[1].split(', ').map(Number));
      try {
        for (const { item } of readStateFile(path.join(runDir, 'state.json')).items) if (item.kind === 'process') pids.add(item.pid);
      } catch {
        // not written yet
      }
    },
  };
}

function tempDirsOf(runId: string): string[] {
  return fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith(`lagstorm-${runId}-`));
}

async function expectNothingLeft(runDir: string, runId: string, watched: ReturnType<typeof observe>): Promise<void> {
  expect([...watched.pids].filter((pid) => isAlive(pid) || liveGroupMembers(pid).length > 0)).toEqual([]);
  const listening: number[] = [];
  for (const port of watched.ports) if (await isListening(port)) listening.push(port);
  expect(listening).toEqual([]);
  expect(tempDirsOf(runId)).toEqual([]);
  expect(readStateFile(path.join(runDir, 'state.json')).items).toEqual([]);
}

async function startError(options: StackOptions): Promise<HarnessError> {
  const error = await processRuntime.start(options).then(
    async (stack) => {
      await stack.stop();
      throw new Error('the stack started although it should not have');
    },
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(HarnessError);
  return error as HarnessError;
}

describe('process runtime: a part that does not come up', () => {
  let runsDir: string;
  beforeAll(() => {
    runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-failure-test-'));
  });
  afterAll(() => fs.rmSync(runsDir, { recursive: true, force: true }));

  it('PostgreSQL with an impossible setting: the error names postgresql and quotes its log', async () => {
    const runId = `pgfail-${process.pid}`;
    const runDir = path.join(runsDir, runId);
    const watched = observe(runDir);
    const error = await startError({ runId, runDir, backend: { entry: backendEntry() }, postgres: { settings: { max_connections: '-5' } }, log: watched.log });
    expect(error.message).toMatch(/^postgresql exited while starting/);
    expect(error.message).toContain('max_connections');
    expect(error.message).toContain(path.join(runDir, 'logs', 'postgresql.log'));
    await expectNothingLeft(runDir, runId, watched);
  });

  it('Prometheus on a port the test holds: the error names prometheus; the parts already up are torn down', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const runId = `promfail-${process.pid}`;
      const runDir = path.join(runsDir, runId);
      const watched = observe(runDir);
      const error = await startError({ runId, runDir, backend: { entry: backendEntry() }, ports: { prometheus: taken }, log: watched.log });
      expect(error.message).toMatch(new RegExp(`^prometheus cannot start: port ${taken} \\(StackOptions.ports.prometheus\\) is already in use`));
      expect(watched.pids.size).toBe(3); // postgresql, toxiproxy, backend were up
      expect(watched.ports.length).toBeGreaterThanOrEqual(4);
      await expectNothingLeft(runDir, runId, watched);
    } finally {
      blocker.close();
    }
  });

  it('the backend cannot bind its IPv6 listener: the error names the backend and its port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '::1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const runId = `bindfail-${process.pid}`;
      const runDir = path.join(runsDir, runId);
      const watched = observe(runDir);
      const error = await startError({ runId, runDir, backend: { entry: backendEntry() }, ports: { backendWs: taken }, log: watched.log });
      expect(error.message).toMatch(new RegExp(`^backend could not bind its port\\(s\\) ${taken}, \\d+ after 1 attempt`));
      expect(error.message).toMatch(/EADDRINUSE/);
      await expectNothingLeft(runDir, runId, watched);
    } finally {
      blocker.close();
    }
  });

  it('aborting options.signal during start tears down what was started', async () => {
    const runId = `abort-${process.pid}`;
    const runDir = path.join(runsDir, runId);
    const watched = observe(runDir);
    const controller = new AbortController();
    const error = await startError({
      runId,
      runDir,
      backend: { entry: backendEntry() },
      signal: controller.signal,
      log: (line) => {
        watched.log(line);
        if (line.includes('toxiproxy up')) controller.abort('test abort');
      },
    });
    expect(error.message).toMatch(/starting the process stack was aborted \(test abort\)/);
    expect(watched.pids.size).toBeGreaterThanOrEqual(2);
    await expectNothingLeft(runDir, runId, watched);
  });

  it('refuses to reuse a run dir whose state file still lists debris', async () => {
    const runDir = path.join(runsDir, 'dirty');
    fs.mkdirSync(runDir, { recursive: true });
    fs.writeFileSync(path.join(runDir, 'state.json'), JSON.stringify({ version: 1, runId: 'dirty', owner: { pid: 1, startTime: '0' }, updatedAt: '', items: [{ id: '1', item: { kind: 'dir', path: '/tmp/x' } }] }));
    const error = await startError({ runId: 'dirty', runDir, backend: {} });
    expect(error.message).toMatch(/still lists 1 debris item\(s\) of an earlier run that did not finish; run `lagstorm cleanup` first/);
  });

  it('a port taken between pick and bind is retried on new ports, proxies following', async () => {
    const runId = `retry-${process.pid}`;
    const runDir = path.join(runsDir, runId);
    const marker = path.join(runsDir, 'conflict-marker');
    const lines: string[] = [];
    const stack = await processRuntime.start({ runId, runDir, backend: { entry: STAND_IN_BACKEND, env: { STANDIN_BIND_CONFLICT_ONCE: marker } }, log: (line) => lines.push(line) });
    try {
      const firstPort = Number(fs.readFileSync(marker, 'utf8'));
      expect(lines.some((line) => line.includes('backend found its port taken (attempt 1); retrying on another port'))).toBe(true);
      expect(fs.readFileSync(path.join(runDir, 'logs', 'backend.log'), 'utf8')).toMatch(/EADDRINUSE/);
      expect(stack.backend.wsPort).not.toBe(firstPort);
      expect(stack.links['bots-backend'].upstream).toBe(`127.0.0.1:${stack.backend.wsPort}`);
      expect(stack.links['bots-backend-v6'].upstream).toBe(`[::1]:${stack.backend.wsPort}`);
      expect(await isListening(Number(stack.links['bots-backend'].listen.split(':')[1]))).toBe(true);
    } finally {
      await stack.stop();
    }
    expect(readStateFile(path.join(runDir, 'state.json')).items).toEqual([]);
  });
});
