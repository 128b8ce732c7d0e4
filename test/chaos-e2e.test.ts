/** The chaos library against the real whole stack (process runtime): a seeded nemesis run that heals everything. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { debrisUndoers } from '../chaos/debris-undoers';
import { defaultRegistry } from '../chaos/registry';
import { planSchedule, runNemesis } from '../chaos/nemesis';
import { ToxiproxyApi } from '../stack/toxiproxy-api';
import type { NemesisOp } from '../core/history';
import { processRuntime } from '../stack/process-runtime';
import type { StartedStack } from '../stack/types';
import { judgeFaults } from '../chaos/efficacy';
import { withSuperuser } from '../chaos/wal/pg-admin';
import { backendEntry } from './stack-helpers';

/** Time for a WebSocket handshake through the bots' proxy (one round trip through Toxiproxy). */
function wsOpenMs(url: string, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const socket = new WebSocket(url);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('handshake timed out'));
    }, timeoutMs);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve(Date.now() - start);
      socket.close();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function openWebSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
    socket.on('error', () => undefined); // the backend-crash fault resets it later: expected
  });
}

/** One WebSocket ping → pong on an open connection; ms. */
function pingMs(socket: WebSocket, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const timer = setTimeout(() => reject(new Error('no pong')), timeoutMs);
    socket.once('pong', () => {
      clearTimeout(timer);
      resolve(Date.now() - start);
    });
    socket.ping();
  });
}

describe('chaos on the real process stack', () => {
  let stack: StartedStack | undefined;
  let runDir: string;

  beforeAll(async () => {
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-chaos-e2e-'));
    stack = await processRuntime.start({ runId: 'chaos-e2e', runDir, backend: { entry: backendEntry() }, log: () => undefined, debrisUndoers });
  });
  afterAll(async () => {
    await stack?.stop();
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('runs a planned mix of faults, measures the effect each had and leaves the stack as it found it', async () => {
    const s = stack as StartedStack;
    const url = s.postgres.superuserUrl;
    const debrisBefore = s.debris.list().map((d) => d.id);
    const baseline = Math.min(await wsOpenMs(s.endpoints.botsWsUrl), await wsOpenMs(s.endpoints.botsWsUrl));
    // A client connected through the bots' link for the whole run: the latency acts on its traffic.
    const client = await openWebSocket(s.endpoints.botsWsUrl);
    const plan = planSchedule(
      {
        timeline: [
          { at: 0, duration: 1500, fault: 'latency', params: { latency: 200, stream: 'downstream' } },
          { at: 0, duration: 1500, fault: 'stuck-slot', params: { capMb: 64 } },
          { at: 100, duration: 1300, fault: 'failing-archiver', params: {} },
          { at: 1700, duration: 1200, fault: 'backend-crash', params: { downtime: 300 } },
        ],
      },
      { seed: 1, durationMs: 4000 },
    );
    const ops: Array<Omit<NemesisOp, 'index'>> = [];
    const start = Date.now();
    const nemesis = runNemesis({ plan, target: { sut: s.sut, log: () => undefined }, registry: defaultRegistry, runStartEpochMs: start, append: (op) => ops.push(op) });
    await new Promise((r) => setTimeout(r, 400));
    const during = await wsOpenMs(s.endpoints.botsWsUrl);
    const pong = await pingMs(client);
    // WAL while the slot holds and the archiver fails: a finished segment the archiver must (fail to) archive.
    await withSuperuser(url, (c) => c.query("CREATE TABLE IF NOT EXISTS e2e_wal (pad text); INSERT INTO e2e_wal SELECT repeat('w', 500) FROM generate_series(1, 2000); SELECT pg_switch_wal()"));
    const records = judgeFaults(await nemesis, defaultRegistry);
    client.terminate();
    const byFault = Object.fromEntries(records.map((r) => [r.fault, r]));

    expect(during).toBeGreaterThanOrEqual(baseline + 180);
    expect(pong).toBeGreaterThanOrEqual(180);
    for (const record of records) expect(record).toMatchObject({ healed: true, efficacy: { bit: true } });
    expect(byFault.latency.efficacy?.effect).toMatch(/^\d+ B crossed bots-backend while delayed by 200 ms \(downstream\)$/);
    expect(Number(byFault['stuck-slot'].observations?.retainedBytes)).toBeGreaterThan(1024 * 1024);
    expect(Number(byFault['failing-archiver'].observations?.failedCount)).toBeGreaterThanOrEqual(1);
    expect(byFault['failing-archiver'].efficacy?.effect).toMatch(/^\d+ archive attempts failed/);
    expect(Number(byFault['backend-crash'].observations?.downtimeMs)).toBeGreaterThanOrEqual(300);
    expect(byFault['backend-crash'].efficacy?.effect).toMatch(/^backend down \d+ ms \(pid \d+ → pid \d+\)$/);

    expect(ops.filter((op) => op.f === 'fault-start')).toHaveLength(4);
    expect(ops.filter((op) => op.f === 'fault-stop')).toHaveLength(4);
    const proxies = await new ToxiproxyApi(s.toxiproxy.apiUrl).proxies();
    expect(Object.values(proxies).flatMap((p) => p.toxics)).toEqual([]);
    expect(Object.values(proxies).every((p) => p.enabled)).toBe(true);
    expect(s.backend.isRunning()).toBe(true);
    expect(await wsOpenMs(s.endpoints.botsWsUrl)).toBeLessThan(baseline + 100);
    // Only the restarted backend's process entry is new: every fault's debris was forgotten after healing.
    const added = s.debris.list().filter((d) => !debrisBefore.includes(d.id));
    expect(added.map((d) => d.item.kind)).toEqual(['process']);
  });
});
