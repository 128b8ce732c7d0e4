/**
 * The containers runtime end to end: lagstorm's images (built by `lagstorm setup --containers`, cached)
 * on host networking. Every endpoint answers, the links go through Toxiproxy, the SUT's ServiceControls
 * kill / stop / pause / restart the backend and PostgreSQL containers, and stop() leaves nothing.
 * Failures (no engine, a missing image, a readiness that never comes) are clear and leave nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import WebSocket from 'ws';
import { getContainerRuntimeClient } from 'testcontainers';
import { HarnessError, InvalidInputError } from '../core/exit-codes';
import { containersRuntime } from '../stack/containers-runtime';
import { ensureImages } from '../stack/images/images';
import { configureTestcontainers, RUN_ID_LABEL, removeRunContainers } from '../stack/images/start-container';
import { isListening } from '../stack/ports';
import { readStateFile } from '../stack/state-file';
import { ToxiproxyApi } from '../stack/toxiproxy-api';
import type { StackOptions, StartedStack } from '../stack/types';

const runIds: string[] = [];
let runsDir: string;

function newRun(name: string): Pick<StackOptions, 'runId' | 'runDir'> {
  const runId = `ct-${name}-${randomUUID().slice(0, 6)}`;
  runIds.push(runId);
  return { runId, runDir: path.join(runsDir, runId) };
}

async function containersOf(runId: string): Promise<string[]> {
  configureTestcontainers();
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  return (await docker.listContainers({ all: true, filters: { label: [`${RUN_ID_LABEL}=${runId}`] } })).map((info) => info.Names[0]);
}

async function wsOpens(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { handshakeTimeout: 3000 });
    socket.once('open', () => {
      socket.close();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function answers(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })).ok;
  } catch {
    return false;
  }
}

async function selectOne(url: string): Promise<number> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query('SELECT 1 AS one')).rows[0].one as number;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-containers-test-'));
  await ensureImages({ log: (line) => console.log(`images: ${line}`) }); // seconds when cached
}, 900_000);

afterAll(async () => {
  for (const runId of runIds) await removeRunContainers(runId);
  fs.rmSync(runsDir, { recursive: true, force: true });
});

describe('containers runtime, whole stack', () => {
  let stack: StartedStack | undefined;
  afterAll(async () => {
    await stack?.stop().catch(() => undefined);
  });

  it('starts every part, wires the links through Toxiproxy, controls services through the SUT, and stop leaves nothing', async () => {
    const lines: string[] = [];
    const run = newRun('stack');
    stack = await containersRuntime.start({ ...run, backend: {}, log: (line) => lines.push(line) });
    const s = stack;
    expect(s.runtime).toBe('containers');
    expect(s.sut.runtime).toBe('containers');

    // Every container recorded as debris by id while it runs.
    const recorded = readStateFile(path.join(run.runDir, 'state.json')).items.map((entry) => entry.item);
    expect(recorded.filter((item) => item.kind === 'container' && item.id).length).toBe(4);
    expect((await containersOf(run.runId)).length).toBe(4);

    // Endpoints: PostgreSQL straight and through backend-db, the backend's admin API, Toxiproxy, Prometheus.
    expect(await selectOne(s.endpoints.postgresUrl)).toBe(1);
    expect(await selectOne(s.endpoints.backendDatabaseUrl!)).toBe(1);
    expect(s.links['backend-db'].upstream).toBe(`127.0.0.1:${s.postgres.port}`);
    expect(await answers(`${s.endpoints.backendAdminUrl}/readyz`)).toBe(true);
    expect(s.toxiproxy.version).toBe('v2.12.0');
    expect(await answers(`${s.endpoints.prometheusUrl}/-/ready`)).toBe(true);
    await s.prometheus.waitForTargetsUp!(['backend', 'toxiproxy'], 20_000);

    // Bots reach the backend through the bots-backend proxies (IPv4, IPv6); a disabled proxy cuts them off.
    expect(await wsOpens(s.endpoints.botsWsUrl)).toBe(true);
    expect(await wsOpens(s.endpoints.botsWsUrlV6)).toBe(true);
    const api = new ToxiproxyApi(s.toxiproxy.apiUrl);
    await api.setEnabled('bots-backend', false);
    expect(await wsOpens(s.endpoints.botsWsUrl)).toBe(false);
    await api.setEnabled('bots-backend', true);
    expect(await wsOpens(s.endpoints.botsWsUrl)).toBe(true);
    expect(s.sut.host.portOf('bots-backend')).toBe(Number(s.links['bots-backend'].listen.split(':')[1]));

    // The backend through the SUT: kill, start, pause (nothing answers), resume, graceful stop.
    const backend = s.sut.services.backend;
    const before = backend.instance();
    expect(before).toMatch(/^container [0-9a-f]{12} \(pid \d+\)$/);
    await backend.kill();
    expect(backend.isRunning()).toBe(false);
    expect(backend.instance()).toBeUndefined();
    expect(await isListening(s.backend.adminPort)).toBe(false);
    await backend.start();
    expect(backend.isRunning()).toBe(true);
    expect(backend.instance()).not.toBe(before); // same container, new pid
    expect(await answers(`${s.endpoints.backendAdminUrl}/readyz`)).toBe(true);
    await backend.pause();
    expect(await answers(`${s.endpoints.backendAdminUrl}/readyz`, 1000)).toBe(false);
    await backend.resume();
    await backend.resume(); // idempotent
    expect(await answers(`${s.endpoints.backendAdminUrl}/readyz`)).toBe(true);
    await backend.stop();
    expect(backend.isRunning()).toBe(false);
    expect(fs.readFileSync(path.join(s.logsDir, 'backend.log'), 'utf8')).toContain('received SIGTERM');
    await backend.start();

    // PostgreSQL: a crash (immediate stop) recovers on start; a fast stop is clean.
    const postgres = s.sut.services.postgres;
    await postgres.kill();
    expect(postgres.isRunning()).toBe(false);
    await postgres.start();
    expect(await selectOne(s.sut.database.superuserUrl)).toBe(1);
    await s.sut.database.stopWithMode!('fast');
    expect(postgres.isRunning()).toBe(false);
    await postgres.start();
    expect(await selectOne(s.endpoints.backendDatabaseUrl!)).toBe(1);
    const pgLog = fs.readFileSync(path.join(s.logsDir, 'postgresql.log'), 'utf8');
    expect(pgLog).toContain('database system was interrupted'); // recovery after the immediate stop
    expect(pgLog).toMatch(/received fast shutdown request/);

    // Toxiproxy restart: the proxies come back on their ports.
    await s.toxiproxy.restart!();
    const proxies = await api.proxies();
    expect(Object.fromEntries(Object.entries(proxies).map(([name, proxy]) => [name, proxy.listen]))).toEqual(Object.fromEntries(Object.values(s.links).map((link) => [link.name, link.listen])));
    expect(await wsOpens(s.endpoints.botsWsUrl)).toBe(true);

    const ports = [s.postgres.port, s.backend.wsPort, s.backend.adminPort, Number(new URL(s.toxiproxy.apiUrl).port), Number(new URL(s.prometheus.url).port)];
    await s.stop();
    await s.stop(); // idempotent
    stack = undefined;
    expect(await containersOf(run.runId)).toEqual([]);
    expect(fs.existsSync(s.workDir)).toBe(false);
    expect(readStateFile(path.join(run.runDir, 'state.json')).items).toEqual([]);
    for (const port of ports) expect(await isListening(port)).toBe(false);
    expect(fs.readdirSync(s.logsDir).sort()).toEqual(['backend.log', 'postgresql.log', 'prometheus.log', 'toxiproxy.log']);
    expect(lines[lines.length - 1]).toMatch(/torn down in \d+ ms/);
  }, 240_000);
});

describe('containers runtime failures are clear and leave no container', () => {
  async function expectNothingLeft(run: Pick<StackOptions, 'runId' | 'runDir'>): Promise<void> {
    expect(await containersOf(run.runId)).toEqual([]);
    const stateFile = path.join(run.runDir, 'state.json');
    if (fs.existsSync(stateFile)) expect(readStateFile(stateFile).items).toEqual([]);
  }

  it('no Docker engine: names `lagstorm setup --containers`, writes nothing', async () => {
    const run = newRun('noengine');
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${path.join(runsDir, 'no-such-docker.sock')}`;
    try {
      const error = await containersRuntime.start({ ...run, backend: {} }).catch((e: unknown) => e);
      if (!(error instanceof Error)) await (error as StartedStack).stop(); // it must not start; if it did, leave nothing
      expect(error).toBeInstanceOf(HarnessError);
      expect((error as Error).message).toMatch(/no Docker engine answers .*run `lagstorm setup --containers`/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
    expect(fs.existsSync(run.runDir)).toBe(false);
  });

  it('a missing backend image: names it and the fix; PostgreSQL and Toxiproxy already started are removed', async () => {
    const run = newRun('noimage');
    const error = await containersRuntime.start({ ...run, backend: { image: 'lagstorm/no-such-backend:1' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as Error).message).toMatch(/image lagstorm\/no-such-backend:1 \(backend\) is not on this Docker engine/);
    await expectNothingLeft(run);
  }, 120_000);

  it('a readiness that never comes: says what it waited for and shows the log; nothing left', async () => {
    const run = newRun('notready');
    const error = await containersRuntime.start({ ...run, backend: { ready: { http: '/never-ready', timeoutMs: 3000 } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as Error).message).toMatch(/\(backend, run ct-notready-\w+\) did not become ready: GET http:\/\/127\.0\.0\.1:\d+\/never-ready did not succeed within 3000 ms \(last: HTTP 404\)/);
    await expectNothingLeft(run);
  }, 120_000);

  it('an abort (SIGINT) while a container waits for its readiness: stops at once, nothing left', async () => {
    const run = newRun('abort');
    const controller = new AbortController();
    const began = Date.now();
    const starting = containersRuntime.start({ ...run, backend: { ready: { log: 'a line that never comes', timeoutMs: 60_000 } }, signal: controller.signal }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    controller.abort('SIGINT');
    const error = await starting;
    expect((error as Error).message).toMatch(/starting the containers stack was aborted \(SIGINT\); everything started was torn down/);
    expect(Date.now() - began).toBeLessThan(20_000);
    await expectNothingLeft(run);
  }, 120_000);

  it('an unknown placeholder or a host-only entry point: refused before anything starts', async () => {
    const run = newRun('badinput');
    await expect(containersRuntime.start({ ...run, backend: { env: { REDIS: '{{services.redis.port}}' } } })).rejects.toThrow(/backend\.env\.REDIS: unknown placeholder \{\{services\.redis\.port\}\}/);
    await expect(containersRuntime.start({ ...newRun('entry'), backend: { entry: '/somewhere/server.ts' } })).rejects.toThrow(InvalidInputError);
    await expectNothingLeft(run);
  }, 120_000);
});
