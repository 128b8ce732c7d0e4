/** The process runtime end to end with real parts: PostgreSQL, Toxiproxy, the backend, Prometheus. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import WebSocket from 'ws';
import { httpRequest } from '../stack/http';
import { processRuntime } from '../stack/process-runtime';
import { readStateFile } from '../stack/state-file';
import type { PrometheusServer } from '../stack/prometheus';
import type { ToxiproxyServer } from '../stack/toxiproxy';
import { ToxiproxyApi } from '../stack/toxiproxy-api';
import type { StartedStack } from '../stack/types';
import { backendEntry, isAlive, leftovers, NOTHING_LEFT, tracesOf } from './stack-helpers';

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

async function targetHealth(prometheusUrl: string, job: string): Promise<string | undefined> {
  const response = await httpRequest(`${prometheusUrl}/api/v1/targets?state=active`).catch(() => undefined);
  if (!response || response.status !== 200) return undefined;
  const targets = (JSON.parse(response.body) as { data: { activeTargets: Array<{ labels: { job: string }; health: string }> } }).data.activeTargets;
  return targets.find((target) => target.labels.job === job)?.health;
}

describe('process runtime, whole stack', () => {
  let runsDir: string;
  let stack: StartedStack | undefined;

  beforeAll(() => {
    runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-stack-test-'));
  });
  afterAll(async () => {
    await stack?.stop();
    fs.rmSync(runsDir, { recursive: true, force: true });
  });

  it('starts every part healthy, survives a toxiproxy restart, and stop leaves nothing behind', async () => {
    const lines: string[] = [];
    const runDir = path.join(runsDir, 'e2e');
    stack = await processRuntime.start({ runId: 'e2e', runDir, backend: { entry: backendEntry() }, log: (line) => lines.push(line) });
    const traces = tracesOf(stack);

    // Every part recorded as debris while it runs, with its start time.
    const recorded = readStateFile(traces.stateFile).items.map((entry) => entry.item);
    expect(recorded.filter((item) => item.kind === 'process').map((item) => (item.kind === 'process' ? item.name : '')).sort()).toEqual(['backend', 'postgresql', 'prometheus', 'toxiproxy']);
    expect(recorded).toContainEqual({ kind: 'dir', path: stack.workDir });
    expect(recorded).toContainEqual({ kind: 'toxiproxy-reset', apiUrl: stack.toxiproxy.apiUrl });
    expect(stack.workDir.startsWith(fs.realpathSync(os.tmpdir())) || stack.workDir.startsWith(os.tmpdir())).toBe(true);

    // PostgreSQL through the backend-db proxy.
    const db = new Client({ connectionString: stack.endpoints.backendDatabaseUrl, connectionTimeoutMillis: 3000 });
    await db.connect();
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await db.end();
    expect(stack.links['backend-db'].upstream).toBe(`127.0.0.1:${stack.postgres.port}`);

    // The backend through the bots-backend proxies, IPv4 and IPv6.
    expect(stack.endpoints.botsWsUrlV6).toMatch(/^ws:\/\/\[::1\]:\d+$/);
    expect(await wsOpens(stack.endpoints.botsWsUrl)).toBe(true);
    expect(await wsOpens(stack.endpoints.botsWsUrlV6)).toBe(true);

    // Prometheus scrapes the backend, and takes a target added during the run.
    const prometheus = stack.prometheus as PrometheusServer; // the process runtime's handle
    await prometheus.waitForTargetsUp(['backend', 'toxiproxy']);
    expect(await targetHealth(stack.endpoints.prometheusUrl, 'backend')).toBe('up');
    await prometheus.addScrapeTarget({ job: 'late-joiner', target: new URL(stack.backend.adminUrl).host });
    const loaded = await httpRequest(`${stack.endpoints.prometheusUrl}/api/v1/status/config`);
    expect(loaded.body).toContain('late-joiner'); // the running config, reloaded (new targets are scraped ~5 s later)

    // Toxiproxy: version known, proxies there; a restart re-creates them on the same ports.
    expect(stack.toxiproxy.version).not.toBe('unknown');
    const toxiproxy = stack.toxiproxy as ToxiproxyServer; // the process runtime's handle
    const toxiproxyPid = toxiproxy.pid;
    await toxiproxy.restart();
    expect(toxiproxy.pid).not.toBe(toxiproxyPid);
    const proxies = await new ToxiproxyApi(toxiproxy.apiUrl).proxies();
    expect(Object.fromEntries(Object.entries(proxies).map(([name, proxy]) => [name, proxy.listen]))).toEqual(
      Object.fromEntries(Object.values(stack.links).map((link) => [link.name, link.listen])),
    );
    expect(await wsOpens(stack.endpoints.botsWsUrlV6)).toBe(true);
    expect(lines.some((line) => /postgresql up on port/.test(line))).toBe(true);

    const restartedTraces = tracesOf(stack);
    await stack.stop();
    await stack.stop(); // idempotent
    expect(await leftovers({ ...restartedTraces, pids: { ...restartedTraces.pids, oldToxiproxy: toxiproxyPid! } })).toEqual(NOTHING_LEFT);
    expect(isAlive(traces.pids.postgresql)).toBe(false);
    expect(fs.readdirSync(path.join(runDir, 'logs')).sort()).toEqual(['backend.log', 'postgresql.log', 'prometheus.log', 'toxiproxy.log']);
    expect(lines[lines.length - 1]).toMatch(/torn down in \d+ ms/);
    stack = undefined;
  });
});
