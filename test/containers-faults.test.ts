/**
 * Every built-in fault, injected into a containers stack through its SystemUnderTest and healed
 * (the WAL-volume ones through pg_wal on a host path, see containers-sut.ts): the fault bites where that is cheap to see, and after each heal the
 * stack serves again (backend ready, PostgreSQL through backend-db, WebSockets through bots-backend)
 * with no fault debris left.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import WebSocket from 'ws';
import { debrisUndoers } from '../chaos/debris-undoers';
import { defaultRegistry, faultProblems } from '../chaos/registry';
import { containersRuntime } from '../stack/containers-runtime';
import { hostWalSupport } from '../stack/containers-sut';
import { ensureImages } from '../stack/images/images';
import { removeRunContainers } from '../stack/images/start-container';
import type { DebrisItem } from '../stack/debris';
import type { StartedStack } from '../stack/types';

const runId = `ct-faults-${randomUUID().slice(0, 6)}`;
let runsDir: string;
let stack: StartedStack;
const log: string[] = [];

async function ready(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })).ok;
  } catch {
    return false;
  }
}

function wsOpens(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { handshakeTimeout: 3000 });
    socket.once('open', () => {
      socket.close();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function serves(): Promise<void> {
  expect(await ready(`${stack.endpoints.backendAdminUrl}/readyz`, 5000)).toBe(true);
  const client = new Client({ connectionString: stack.endpoints.backendDatabaseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  await client.query('SELECT 1');
  await client.end();
  expect(await wsOpens(stack.endpoints.botsWsUrl)).toBe(true);
}

const PARAMS: Record<string, Record<string, unknown>> = { 'backend-crash': { downtime: '300ms' }, 'postgres-crash': { downtime: '300ms' } };
const paramsOf = (type: string): Record<string, unknown> => PARAMS[type] ?? (defaultRegistry.get(type).family === 'toxiproxy' ? { link: 'bots-backend' } : defaultRegistry.get(type).family === 'kernel' ? { target: 'bots-backend' } : {});
const offered = defaultRegistry
  .list()
  .map((fault) => fault.type)
  .filter((type) => faultProblems({ timeline: [{ fault: type, params: paramsOf(type) }] }, containersRuntime).length === 0);

beforeAll(async () => {
  runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-containers-faults-'));
  await ensureImages();
  stack = await containersRuntime.start({ runId, runDir: path.join(runsDir, runId), backend: {}, debrisUndoers, log: (line) => log.push(line) });
}, 900_000);

afterAll(async () => {
  await stack?.stop();
  await removeRunContainers(runId);
  fs.rmSync(runsDir, { recursive: true, force: true });
});

afterEach(async () => {
  await serves();
  const own = (item: DebrisItem) => item.kind === 'container' || item.kind === 'dir' || (item.kind === 'mount' && item.path === stack.workDir);
  expect(stack.debris.list().filter(({ item }) => !own(item))).toEqual([]);
});

test('on this host (root, loop devices) the containers runtime takes every built-in fault but slow-wal-disk', () => {
  expect(hostWalSupport()).toEqual({ walDir: true });
  expect(defaultRegistry.list().map((fault) => fault.type).filter((type) => !offered.includes(type))).toEqual(['slow-wal-disk']);
  expect(stack.sut.database.dataDir?.startsWith(stack.workDir)).toBe(true);
});

test('wal-disk-full: pg_wal of the container on a loop volume fills until PostgreSQL PANICs; heal recovers', async () => {
  const params = defaultRegistry.parse('wal-disk-full', { sizeMb: 48 });
  const handle = await defaultRegistry.get('wal-disk-full').inject({ sut: stack.sut, log: (l) => log.push(l) }, params, new AbortController().signal);
  for (let i = 0; i < 300 && !handle.observations?.panic; i++) await new Promise((resolve) => setTimeout(resolve, 200));
  expect(String(handle.observations?.panic)).toMatch(/PANIC:.*No space left on device/);
  await handle.heal();
  expect(fs.readFileSync('/proc/self/mounts', 'utf8')).not.toContain(path.join(stack.workDir, 'wal-volume-'));
}, 180_000);

test('backend-pause freezes the backend container: nothing answers until heal', async () => {
  const handle = await defaultRegistry.get('backend-pause').inject({ sut: stack.sut, log: (l) => log.push(l) }, defaultRegistry.parse('backend-pause', {}), new AbortController().signal);
  expect(await ready(`${stack.endpoints.backendAdminUrl}/readyz`, 800)).toBe(false);
  await handle.heal();
  expect(handle.observations?.pid).toMatch(/^container [0-9a-f]{12}/);
});

test('backend-crash: the backend container is down, back after `downtime`, downtime measured', async () => {
  const handle = await defaultRegistry.get('backend-crash').inject({ sut: stack.sut, log: (l) => log.push(l) }, defaultRegistry.parse('backend-crash', PARAMS['backend-crash']), new AbortController().signal);
  expect(stack.backend.isRunning()).toBe(false);
  await handle.heal();
  expect(Number(handle.observations?.downtimeMs)).toBeGreaterThanOrEqual(300);
  expect(handle.observations?.pidAfter).not.toBe(handle.observations?.pidBefore);
});

test.each(offered.filter((type) => !['backend-pause', 'backend-crash', 'wal-disk-full'].includes(type)))('%s injects and heals on the containers stack', async (type) => {
  const handle = await defaultRegistry.get(type).inject({ sut: stack.sut, log: (l) => log.push(l) }, defaultRegistry.parse(type, paramsOf(type)), new AbortController().signal);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await handle.heal();
  await handle.heal(); // idempotent
}, 120_000);
