/**
 * The real entry point (node bin/run-ts.js games/reference/server/main.ts) as a child process: bad flags,
 * SIGKILL recovery (nothing acknowledged is lost), SIGTERM drain, and the ack-before-commit defect.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ServerMessage } from '../rules';
import { BackendProcess, GameClient, REPO_ROOT, TestPostgres, isAck, query, snapshot } from './test-support/stack';

let pg: TestPostgres;
let logDir: string;
const started: BackendProcess[] = [];
const clients: GameClient[] = [];

beforeAll(async () => {
  pg = await TestPostgres.start();
  logDir = path.join(pg.dir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
});
afterAll(async () => {
  for (const client of clients) client.close();
  for (const backend of started) await backend.stop('SIGKILL');
  await pg?.stop();
});

async function launch(url: string, extraArgs: string[] = []): Promise<BackendProcess> {
  const backend = await BackendProcess.launch(url, logDir, extraArgs);
  started.push(backend);
  return backend;
}
async function connect(backend: BackendProcess): Promise<GameClient> {
  const client = await GameClient.connect(backend.wsUrl);
  clients.push(client);
  return client;
}

type Ack = Extract<ServerMessage, { t: 'ack' }>;

/** N players pipeline actions (gifts to each other included); returns every ack they got. */
async function pipelineLoad(backend: BackendProcess, players: string[], perPlayer: number) {
  const sessions = await Promise.all(players.map(async (id) => ({ id, client: await connect(backend), acks: [] as Ack[], token: '' })));
  for (const s of sessions) s.token = (await s.client.hello(s.id)).resumeToken;
  for (const s of sessions) {
    s.client.socket.on('message', (data) => {
      const m = JSON.parse(data.toString()) as ServerMessage;
      if (isAck(m)) s.acks.push(m);
    });
    for (let seq = 1; seq <= perPlayer; seq += 1) {
      const to = players[(players.indexOf(s.id) + 1) % players.length];
      s.client.send({ t: 'action', seq, action: seq % 4 === 0 ? { kind: 'gift-send', to, amount: 3 } : { kind: 'collect' } });
    }
  }
  return sessions;
}

describe('backend process', () => {
  it('exits 3 with a clear message on bad flags', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ['bin/run-ts.js', 'games/reference/server/main.ts', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    const badPort = run('--port', 'x', '--admin-port', '1', '--database-url', 'postgresql://u@127.0.0.1:1/db');
    expect(badPort.status).toBe(3);
    expect(badPort.stderr).toContain("--port must be an integer 0-65535, got 'x'");
    const badDefect = run('--port', '1', '--admin-port', '2', '--database-url', 'postgresql://u@127.0.0.1:1/db', '--defect', 'nope');
    expect(badDefect.status).toBe(3);
    expect(badDefect.stderr).toContain('use one of ack-before-commit, no-dedup');
  });

  it('after SIGKILL and restart every acknowledged action is in the database, and sessions resume', async () => {
    const url = await pg.createDatabase('crash');
    const backend = await launch(url);
    const players = ['c1', 'c2', 'c3', 'c4'];
    const sessions = await pipelineLoad(backend, players, 300);
    // Kill mid-stream: once some acks arrived, but (almost certainly) not all.
    const deadline = Date.now() + 10_000;
    while (sessions.reduce((n, s) => n + s.acks.length, 0) < 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
    await backend.stop('SIGKILL');
    const acked = sessions.flatMap((s) => s.acks.map((ack) => ({ player: s.id, ...ack })));
    expect(acked.length).toBeGreaterThanOrEqual(200);

    await backend.start();
    const s = await snapshot(backend.adminPort);
    const log = new Map(s.actions.map((row) => [`${row.player}/${row.seq}`, row]));
    const missing = acked.filter((ack) => log.get(`${ack.player}/${ack.seq}`)?.checksum !== ack.checksum);
    expect(missing).toEqual([]);
    expect(s.totalGold).toBe(s.ledger.sources - s.ledger.sinks);

    for (const session of sessions) {
      const again = await connect(backend);
      const welcome = await again.hello(session.id, session.token);
      expect(welcome.resumed).toBe(true);
      expect(welcome.state.lastSeq).toBeGreaterThanOrEqual(Math.max(0, ...session.acks.map((a) => a.seq)));
      const next = welcome.state.lastSeq + 1;
      expect(await again.act(next, { kind: 'collect' })).toMatchObject({ t: 'ack', seq: next, duplicate: false });
    }
  });

  it('SIGTERM drains in-flight actions, closes sessions with shutting-down and exits 0', async () => {
    const url = await pg.createDatabase('drain');
    const backend = await launch(url);
    const sessions = await pipelineLoad(backend, ['d1', 'd2', 'd3'], 200);
    const errors: ServerMessage[] = [];
    for (const session of sessions) session.client.socket.on('message', (data) => {
      const m = JSON.parse(data.toString()) as ServerMessage;
      if (m.t === 'error') errors.push(m);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await backend.stop('SIGTERM', 15_000);
    expect(backend.exitStatus).toEqual({ code: 0, signal: null });
    for (const session of sessions) {
      await session.client.next(() => false, 3000).catch(() => undefined);
      expect(session.client.closed?.code).toBe(1001);
    }
    expect(errors.some((m) => m.t === 'error' && m.code === 'shutting-down' && m.retryable)).toBe(true);
    // Every answered action is durable; every action was answered (ack, or shutting-down = not applied).
    const rows = await query<{ player: string; seq: number }>(url, 'SELECT player, seq FROM action_log');
    const logged = new Set(rows.map((r) => `${r.player}/${r.seq}`));
    for (const session of sessions) {
      expect(session.acks.length).toBeGreaterThan(0);
      for (const ack of session.acks) expect(logged.has(`${session.id}/${ack.seq}`)).toBe(true);
    }
    const answered = sessions.reduce((n, s) => n + s.acks.length, 0) + errors.filter((m) => m.t === 'error' && m.seq !== undefined).length;
    expect(answered).toBe(600);
    expect(rows.length).toBe(sessions.reduce((n, s) => n + s.acks.length, 0));
  });

  it('defect ack-before-commit: after SIGKILL some acknowledged actions are missing', async () => {
    const url = await pg.createDatabase('abc');
    const backend = await launch(url, ['--defect', 'ack-before-commit']);
    const client = await connect(backend);
    await client.hello('zed');
    const acked: Ack[] = [];
    for (let seq = 1; seq <= 20; seq += 1) {
      const reply = await client.act(seq, { kind: 'collect' });
      if (isAck(reply)) acked.push(reply);
    }
    await backend.stop('SIGKILL');
    expect(acked).toHaveLength(20);
    await backend.start();
    const s = await snapshot(backend.adminPort);
    const logged = new Set(s.actions.map((row) => row.seq));
    const lost = acked.filter((ack) => !logged.has(ack.seq));
    expect(lost.length).toBeGreaterThan(0);
  });
});
