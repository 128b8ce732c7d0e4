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

  it('runs a planned mix of faults, measures their effects and leaves the stack as it found it', async () => {
    const s = stack as StartedStack;
    const debrisBefore = s.debris.list().map((d) => d.id);
    const baseline = Math.min(await wsOpenMs(s.endpoints.botsWsUrl), await wsOpenMs(s.endpoints.botsWsUrl));
    const plan = planSchedule(
      {
        timeline: [
          { at: 0, duration: 1500, fault: 'latency', params: { latency: 200, stream: 'downstream' } },
          { at: 0, duration: 1500, fault: 'stuck-slot', params: { capMb: 64 } },
          { at: 100, duration: 600, fault: 'failing-archiver', params: {} },
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
    const records = await nemesis;
    const byFault = Object.fromEntries(records.map((r) => [r.fault, r]));

    expect(during).toBeGreaterThanOrEqual(baseline + 180);
    expect(byFault.latency).toMatchObject({ healed: true });
    expect(byFault['stuck-slot'].healed).toBe(true);
    expect(Number(byFault['stuck-slot'].observations?.retainedBytes)).toBeGreaterThanOrEqual(0);
    expect(byFault['backend-crash'].healed).toBe(true);
    expect(Number(byFault['backend-crash'].observations?.downtimeMs)).toBeGreaterThanOrEqual(300);
    // The stack passes archive_command with -c; the fault says so instead of faking the failure.
    const archiver = byFault['failing-archiver'];
    if (archiver.error) expect(archiver.error).toMatch(/command line/);
    else expect(Number(archiver.observations?.failedCount)).toBeGreaterThanOrEqual(0);

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
