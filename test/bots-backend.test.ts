/**
 * The bot fleet against the REAL stack: a run-private PostgreSQL, the reference backend as a
 * child process, and a real toxiproxy-server between bots and backend. The link is cut twice
 * (proxy disabled, then a reset_peer toxic); the bots must reconnect, resume, resend what was
 * unacknowledged with its original seq, and finish in step with the server (no desync).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFleet, type FleetResult } from '../bots/fleet/fleet';
import { HistoryRecorder, readHistoryAll } from '../bots/history/recorder';
import { startBackend, type BackendProcess } from '../stack/backend';
import { freePort } from '../stack/ports';
import { startPostgres, type PostgresCluster } from '../stack/postgres';
import { startToxiproxy, type ToxiproxyServer } from '../stack/toxiproxy';
import { scenarioSchema } from '../core/scenario/schema';
import { isClientOp, type BotEvent, type ClientOp, type HistoryEntry } from '../core/history';
import { epochNowMs } from '../core/clock';

let dir: string;
let postgres: PostgresCluster | undefined;
let backend: BackendProcess | undefined;
let toxiproxy: ToxiproxyServer | undefined;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-bots-backend-'));
  postgres = await startPostgres({ baseDir: path.join(dir, 'pg'), logFile: path.join(dir, 'postgres.log') });
  backend = await startBackend({ wsPort: await freePort(), adminPort: await freePort(), databaseUrl: postgres.superuserUrl, logFile: path.join(dir, 'backend.log') });
  const apiPort = await freePort();
  toxiproxy = await startToxiproxy({ port: apiPort, logFile: path.join(dir, 'toxiproxy.log') });
}, 90_000);

afterAll(async () => {
  await toxiproxy?.shutdown().catch(() => undefined);
  await backend?.stop('SIGTERM', 10_000).catch(() => undefined);
  await postgres?.stop('SIGINT', 10_000).catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function toxiproxyApi(method: string, route: string, body?: unknown): Promise<void> {
  const response = await fetch(`${toxiproxy!.apiUrl}${route}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok && response.status !== 404) throw new Error(`toxiproxy ${method} ${route}: ${response.status} ${await response.text()}`);
}

const sleepUntil = (epochMs: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - epochNowMs())));

test('bots survive cut links to the real backend: reconnect, resume, resend with the original seq, no desync', async () => {
  const link = await toxiproxy!.createProxy({ name: 'bots-backend', listen: '127.0.0.1:0', upstream: `127.0.0.1:${backend!.wsPort}` });
  const scenario = {
    ...scenarioSchema.parse({
      name: 'bots-backend',
      duration: '7s',
      recovery: { window: '3s' },
      bots: { grind: { profile: 'grinder', count: 6, ramp: '500ms' }, gift: { profile: 'gifter', count: 4 } },
    }),
    seed: 11,
  };
  const historyFile = path.join(dir, 'history.jsonl');
  const runStartEpochMs = epochNowMs(); // the bots' clock: the faults below must land on their timeline
  const recorder = new HistoryRecorder(historyFile, { runStartEpochMs });
  const fleet = await startFleet({
    scenario,
    gameModule: path.join(__dirname, '..', 'games', 'reference', 'index.ts'),
    wsUrl: `ws://${link.listen}/`,
    runStartEpochMs,
    recorder,
    workers: 1,
    timing: { pingIntervalMs: 1000, pongTimeoutMs: 1000, actionTimeoutMs: 3000, backoffBaseMs: 100, backoffCapMs: 800, maxReconnectAttempts: 50 },
  });
  let result: FleetResult;
  try {
    // Fault 1: the proxy goes down (every connection dropped, new ones refused) for 1.5 s.
    await sleepUntil(runStartEpochMs + 2000);
    recorder.append({ type: 'info', process: 'nemesis', f: 'fault-start', time: recorder.now(), value: { id: 'down', fault: 'proxy-down', target: 'bots-backend', params: {} } });
    await toxiproxyApi('POST', '/proxies/bots-backend', { enabled: false });
    await sleepUntil(runStartEpochMs + 3500);
    await toxiproxyApi('POST', '/proxies/bots-backend', { enabled: true });
    recorder.append({ type: 'info', process: 'nemesis', f: 'fault-stop', time: recorder.now(), value: { id: 'down', fault: 'proxy-down', target: 'bots-backend', params: {} } });
    // Fault 2: TCP resets on every connection for 0.6 s.
    await sleepUntil(runStartEpochMs + 5000);
    await toxiproxyApi('POST', '/proxies/bots-backend/toxics', { name: 'reset', type: 'reset_peer', stream: 'downstream', toxicity: 1, attributes: { timeout: 0 } });
    await sleepUntil(runStartEpochMs + 5600);
    await toxiproxyApi('DELETE', '/proxies/bots-backend/toxics/reset');
    result = await fleet.done;
  } finally {
    await fleet.stop();
    await recorder.close();
  }

  expect(result).toMatchObject({ bots: 10, sessionsStarted: 10, desyncs: 0, gaveUp: 0, errors: [] });
  expect(result.reconnects).toBeGreaterThanOrEqual(10); // every bot lost its link at least once
  expect(result.actions.ok).toBeGreaterThan(50);
  expect(result.actions.info).toBeGreaterThan(0);

  const entries: HistoryEntry[] = await readHistoryAll(historyFile);
  const ops = entries.filter(isClientOp);
  // At least one action was cut before its ack and resent with its original seq, then acked.
  const infos = ops.filter((op) => op.type === 'info' && op.seq !== undefined);
  const resentAndAcked = infos.filter((info) => ops.some((op) => op.process === info.process && op.seq === info.seq && op.type === 'ok' && op.index > info.index));
  expect(resentAndAcked.length).toBeGreaterThan(0);
  expect(entries.some((e) => e.type === 'event' && e.f === 'desync')).toBe(false);

  // Exactly once: per player, the acked seqs are 1..lastSeq and the server agrees on the final state.
  const ends = entries.filter((e): e is BotEvent => e.type === 'event' && e.f === 'session-end');
  expect(ends).toHaveLength(10);
  for (const end of ends) {
    const value = end.value as { version: number; checksum: string; lastSeq: number; pendingInfo: number };
    const response = await fetch(`${backend!.adminUrl}/admin/players/${end.player}`, { signal: AbortSignal.timeout(5000) });
    const server = (await response.json()) as { state: { version: number; lastSeq: number }; checksum: string };
    expect(value.lastSeq).toBe(server.state.lastSeq);
    if (value.version === server.state.version) expect(value.checksum).toBe(server.checksum);
    // Only a gift committed after the recipient's session ended may move the server past the bot.
    if (end.player.startsWith('grind-')) expect(value.version).toBe(server.state.version);
    else expect(server.state.version).toBeGreaterThanOrEqual(value.version);
    expect(value.pendingInfo).toBe(0);
    const ackedSeqs = new Set(ops.filter((op): op is ClientOp => op.player === end.player && op.type === 'ok' && op.seq !== undefined).map((op) => op.seq));
    expect(ackedSeqs.size).toBe(server.state.lastSeq);
  }
}, 120_000);
