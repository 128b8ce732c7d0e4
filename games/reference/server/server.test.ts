/**
 * The real server in-process against a real PostgreSQL over real WebSockets (IPv4 and IPv6).
 * One cluster for the file, one database and one backend per test.
 */
import type { FinalSnapshot } from '../rules/snapshot';
import { STARTING_GOLD, checksum, type PlayerState } from '../rules';
import { adminGet, backendFixture, isAck, isError, query, snapshot } from './test-support/stack';

const fx = backendFixture({ startEachTest: true });
const connect = (host?: string) => fx.connect(host);

function expectConserved(s: FinalSnapshot): void {
  expect(s.totalGold).toBe(s.ledger.sources - s.ledger.sinks);
  expect(s.players.reduce((sum, p) => sum + p.state.gold, 0)).toBe(s.totalGold);
  for (const p of s.players) {
    expect(p.state.gold).toBeGreaterThanOrEqual(0);
    expect(p.checksum).toBe(checksum(p.state));
  }
}

describe('protocol', () => {
  it('creates a player on first hello with the starting grant in the ledger, and resumes with its token', async () => {
    const a = await connect();
    const welcome = await a.hello('alice');
    expect(welcome).toMatchObject({ resumed: false, state: { id: 'alice', gold: STARTING_GOLD, version: 0, lastSeq: 0 } });
    expect(welcome.checksum).toBe(checksum(welcome.state));
    const ack = await a.act(1, { kind: 'collect' });
    expect(ack).toMatchObject({ t: 'ack', seq: 1, version: 1, duplicate: false, result: { outcome: 'applied' } });
    a.close();

    const again = await connect();
    const resumed = await again.hello('alice', welcome.resumeToken);
    expect(resumed).toMatchObject({ resumed: true, resumeToken: welcome.resumeToken, state: { version: 1, lastSeq: 1 } });
    expect(resumed.checksum).toBe(isAck(ack) ? ack.checksum : '');
    const s = await snapshot(fx.backend.adminPort);
    expect(s.ledger.byReason['starting-grant']).toBe(STARTING_GOLD);
  });

  it('adopts a client-chosen resume token and refuses a wrong or missing one with bad-token', async () => {
    await (await connect()).hello('bob', 'my-own-secret-token');
    for (const token of ['wrong-token-123', undefined]) {
      const c = await connect();
      c.send({ t: 'hello', playerId: 'bob', ...(token ? { resumeToken: token } : {}) });
      expect(await c.next(isError)).toMatchObject({ code: 'bad-token', retryable: false });
      c.send({ t: 'action', seq: 1, action: { kind: 'collect' } });
      expect(await c.next(isError)).toMatchObject({ code: 'not-logged-in' });
    }
    expect((await connect().then((c) => c.hello('bob', 'my-own-secret-token'))).resumed).toBe(true);
  });

  it('a second connection takes over the session and the old socket is closed', async () => {
    const first = await connect();
    const { resumeToken } = await first.hello('carol');
    const second = await connect('::1');
    await second.hello('carol', resumeToken);
    await first.next(() => false, 2000).catch(() => undefined);
    expect(first.closed?.code).toBe(4000);
    expect(await second.act(1, { kind: 'collect' })).toMatchObject({ t: 'ack', version: 1 });
  });

  it('resend of an applied seq returns the ORIGINAL result with duplicate:true and is not applied again', async () => {
    const c = await connect();
    await c.hello('dave');
    const original = await c.act(1, { kind: 'buy', item: 'sword' });
    await c.act(2, { kind: 'collect' });
    const resent = await c.act(1, { kind: 'buy', item: 'sword' });
    expect(isAck(original) && isAck(resent)).toBe(true);
    expect(resent).toMatchObject({ duplicate: true, version: (original as { version: number }).version, checksum: (original as { checksum: string }).checksum, result: (original as { result: unknown }).result });
    // After a reconnect the stored result comes from the database (not the in-memory cache).
    await fx.restart();
    const fresh = await connect();
    const token = (await query<{ resume_token: string }>(fx.url, 'SELECT resume_token FROM players WHERE id = $1', ['dave']))[0].resume_token;
    await fresh.hello('dave', token);
    expect(await fresh.act(1, { kind: 'buy', item: 'sword' })).toMatchObject({ duplicate: true, version: 1, result: { outcome: 'applied', goldDelta: -120 } });
    const rows = await query<{ n: string }>(fx.url, "SELECT count(*) AS n FROM action_log WHERE player = 'dave'");
    expect(Number(rows[0].n)).toBe(2);
    const player = (await adminGet<{ state: PlayerState }>(fx.backend.adminPort, '/admin/players/dave')).body.state;
    expect(player).toMatchObject({ gold: STARTING_GOLD - 120 + 12, inventory: { sword: 1 }, version: 2 });
  });

  it('bad messages get typed errors and never touch state', async () => {
    const c = await connect();
    c.send({ t: 'action', seq: 1, action: { kind: 'collect' } });
    expect(await c.next(isError)).toMatchObject({ code: 'not-logged-in', seq: 1 });
    const { state } = await c.hello('erin');
    c.sendRaw('{not json');
    expect(await c.next(isError)).toMatchObject({ code: 'malformed', retryable: false });
    c.send({ t: 'teleport' });
    expect(await c.next(isError)).toMatchObject({ code: 'malformed', message: expect.stringContaining('unknown message type') });
    c.send({ t: 'action', seq: 1, action: { kind: 'collect', extra: 1 }, junk: true });
    await c.reply(1);
    c.send({ t: 'action', seq: 'two', action: { kind: 'collect' } });
    expect(await c.next(isError)).toMatchObject({ code: 'malformed' });
    expect(await c.act(5, { kind: 'collect' })).toMatchObject({ t: 'error', code: 'out-of-order', expectedSeq: 2, retryable: false });
    c.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await c.next(isError)).toMatchObject({ code: 'malformed' });
    c.send({ t: 'hello', playerId: 'erin' });
    expect(await c.next(isError)).toMatchObject({ code: 'malformed', message: expect.stringContaining('already logged in') });
    c.send({ t: 'ping', id: 9 });
    expect(await c.next((m) => m.t === 'pong')).toMatchObject({ id: 9 });
    c.send({ t: 'read' });
    const read = await c.next((m) => m.t === 'state');
    expect(read).toMatchObject({ state: { ...state, gold: state.gold + 12, version: 1, lastSeq: 1, xp: 5 } });
    const log = (await adminGet<{ actions: unknown[] }>(fx.backend.adminPort, '/admin/players/erin/actions')).body.actions;
    expect(log).toHaveLength(1);
  });

  it('listens on IPv6 loopback', async () => {
    const c = await connect('::1');
    expect((await c.hello('frank')).state.id).toBe('frank');
  });
});

describe('gifts', () => {
  it('moves gold atomically, pushes to the online recipient in version order with its own acks, conserves the total', async () => {
    const a = await connect();
    const b = await connect('::1');
    await a.hello('ann');
    const { state: bState } = await b.hello('ben');
    const gift = await a.act(1, { kind: 'gift-send', to: 'ben', amount: 70 });
    expect(gift).toMatchObject({ result: { outcome: 'applied', goldDelta: -70 }, version: 1 });
    const push = await b.next((m) => m.t === 'push');
    expect(push).toMatchObject({ kind: 'gift-received', from: 'ann', amount: 70, version: 1, checksum: checksum({ ...bState, gold: bState.gold + 70, version: 1 }) });
    expect(await b.act(1, { kind: 'collect' })).toMatchObject({ version: 2 });
    expect(await a.act(2, { kind: 'gift-send', to: 'nobody', amount: 5 })).toMatchObject({ result: { outcome: 'rejected', reason: 'invalid-target' }, version: 2 });
    const s = await snapshot(fx.backend.adminPort);
    expect(s.gifts).toEqual([{ from: 'ann', to: 'ben', amount: 70, senderSeq: 1, recipientVersion: 1 }]);
    expectConserved(s);
  });

  it('concurrent gifts in both directions among many players: no lost update, versions gapless, total conserved', async () => {
    const names = ['g0', 'g1', 'g2', 'g3', 'g4', 'g5'];
    const players = await Promise.all(names.map(async (name) => ({ name, client: await connect(), versions: [] as number[] })));
    await Promise.all(players.map((p) => p.client.hello(p.name)));
    for (const p of players) {
      p.client.socket.on('message', (data) => {
        const m = JSON.parse(data.toString());
        if (m.t === 'ack' || m.t === 'push') p.versions.push(m.version);
      });
    }
    await Promise.all(
      players.map(async (p, i) => {
        for (let seq = 1; seq <= 30; seq += 1) {
          const to = names[(i + seq) % names.length] === p.name ? names[(i + seq + 1) % names.length] : names[(i + seq) % names.length];
          p.client.send({ t: 'action', seq, action: seq % 3 === 0 ? { kind: 'collect' } : { kind: 'gift-send', to, amount: 1 + (seq % 7) } });
        }
        await p.client.reply(30, 15_000);
      }),
    );
    const s = await snapshot(fx.backend.adminPort);
    expectConserved(s);
    expect(s.actions).toHaveLength(names.length * 30);
    for (const p of players) {
      const state = s.players.find((row) => row.state.id === p.name)!.state;
      // Every version from 1 to the final one reached the client exactly once, in order.
      expect(p.versions).toEqual(Array.from({ length: state.version }, (_, i) => i + 1));
    }
  });
});

describe('admin', () => {
  it('serves healthz, readyz, players (404 for unknown), snapshot and the contract metrics', async () => {
    const c = await connect();
    await c.hello('mia');
    await c.act(1, { kind: 'collect' });
    expect((await adminGet(fx.backend.adminPort, '/healthz')).status).toBe(200);
    expect((await adminGet(fx.backend.adminPort, '/readyz')).status).toBe(200);
    expect((await adminGet(fx.backend.adminPort, '/admin/players/nobody')).status).toBe(404);
    const player = await adminGet<{ state: PlayerState; checksum: string }>(fx.backend.adminPort, '/admin/players/mia');
    expect(player.body.checksum).toBe(checksum(player.body.state));
    const s = await snapshot(fx.backend.adminPort);
    expect(Object.keys(s).sort()).toEqual(['actions', 'banks', 'gifts', 'ledger', 'players', 'takenAt', 'totalGold']);
    const metrics = (await adminGet<string>(fx.backend.adminPort, '/metrics')).body;
    for (const name of ['game_sessions_online 1', 'game_actions_total{kind="collect",outcome="applied"} 1', 'game_action_duration_seconds_bucket', 'game_db_query_duration_seconds_bucket', 'game_queue_depth', 'game_reconnects_total', 'game_gifts_total', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(metrics).toContain(name);
    }
  });
});

describe('database faults', () => {
  it('retries a write through a short outage with backoff and acks it once the database is back', async () => {
    const c = await connect();
    await c.hello('olga');
    await fx.cutDatabase();
    try {
      c.send({ t: 'action', seq: 1, action: { kind: 'collect' } });
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(c.received.filter((m) => m.t === 'ack')).toHaveLength(0);
    } finally {
      await fx.healDatabase();
    }
    expect(await c.reply(1, 8000)).toMatchObject({ t: 'ack', version: 1, duplicate: false });
    expect((await snapshot(fx.backend.adminPort)).actions).toHaveLength(1);
  });

  it('gives up after the retry budget with unavailable (outcome unknown), then a resend of the same seq resolves it', async () => {
    await fx.restart({ retry: { baseMs: 20, capMs: 200, budgetMs: 800, backoff: true } });
    const c = await connect();
    await c.hello('pia');
    await fx.cutDatabase();
    try {
      expect(await c.act(1, { kind: 'collect' }, 5000)).toMatchObject({ t: 'error', code: 'unavailable', retryable: true, seq: 1 });
    } finally {
      await fx.healDatabase();
    }
    expect(await c.act(1, { kind: 'collect' }, 8000)).toMatchObject({ t: 'ack', version: 1 });
    expectConserved(await snapshot(fx.backend.adminPort));
  });

  it('reloads from the database when its in-memory version is stale instead of overwriting (no lost update)', async () => {
    const c = await connect();
    const { resumeToken } = await c.hello('quinn');
    await c.act(1, { kind: 'collect' });
    // Another writer changes the row behind the backend's back.
    await query(fx.url, "UPDATE players SET gold = gold + 1000, version = version + 1 WHERE id = 'quinn'");
    await query(fx.url, "INSERT INTO ledger (player, kind, reason, amount) VALUES ('quinn', 'source', 'collect', 1000)");
    // The client never heard of version 2: rather than ack version 3 across a gap, the server
    // closes the session (4009) so the client resyncs from its next welcome.
    await expect(c.act(2, { kind: 'collect' }, 8000)).rejects.toThrow(/socket closed 4009/);
    const resumed = await (await connect()).hello('quinn', resumeToken);
    expect(resumed.state).toMatchObject({ version: 3, lastSeq: 2 });
    const player = (await adminGet<{ state: PlayerState }>(fx.backend.adminPort, '/admin/players/quinn')).body.state;
    expect(player.gold).toBe(STARTING_GOLD + 12 + 1000 + 12);
    expectConserved(await snapshot(fx.backend.adminPort));
  });

  it('lets one read per session wait for the database; a second gets overloaded, the first still answers', async () => {
    const c = await connect();
    await c.hello('quinn');
    await fx.cutDatabase();
    try {
      c.send({ t: 'action', seq: 1, action: { kind: 'collect' } }); // queued: the state in memory is no longer current
      c.send({ t: 'read' });
      c.send({ t: 'read' });
      expect(await c.next((m) => m.t === 'error')).toMatchObject({ code: 'overloaded', retryable: true, message: expect.stringMatching(/read of this session is already waiting/) });
      expect(c.received.filter((m) => m.t === 'state')).toHaveLength(0);
    } finally {
      await fx.healDatabase();
    }
    expect(await c.reply(1, 8000)).toMatchObject({ t: 'ack', version: 1 });
    expect(await c.next((m) => m.t === 'state', 8000)).toMatchObject({ state: { version: 1 } });
    c.send({ t: 'read' }); // the bound is per waiting read, not per session lifetime
    expect(await c.next((m) => m.t === 'state')).toMatchObject({ state: { version: 1 } });
  });

  it('sheds actions past the queue limit with overloaded (guaranteed not applied)', async () => {
    await fx.restart({ maxQueueDepth: 3 });
    const c = await connect();
    await c.hello('rob');
    await fx.cutDatabase();
    try {
      for (let seq = 1; seq <= 5; seq += 1) c.send({ t: 'action', seq, action: { kind: 'collect' } });
      expect(await c.reply(4)).toMatchObject({ code: 'overloaded', retryable: true });
      // 4 was shed (not applied), so 5 now skips ahead.
      expect(await c.reply(5)).toMatchObject({ code: 'out-of-order', expectedSeq: 4 });
    } finally {
      await fx.healDatabase();
    }
    expect(await c.reply(3, 8000)).toMatchObject({ t: 'ack', version: 3 });
    const s = await snapshot(fx.backend.adminPort);
    expect(s.actions.map((a) => a.seq)).toEqual([1, 2, 3]);
  });
});
