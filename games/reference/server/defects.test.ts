/**
 * Each planted defect behaves as backend/DEFECTS.md says, next to the correct backend under the
 * same stimulus (so each test proves the difference, not just a symptom). ack-before-commit needs
 * a SIGKILL and lives in process.test.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { STARTING_GOLD, checksum, type PlayerState } from '../rules';
import { adminGet, backendFixture, isAck, snapshot } from './test-support/stack';

const fx = backendFixture();
const start = (defect: string | undefined, overrides?: Parameters<typeof fx.start>[1]) => fx.start(defect, overrides);
const connect = (host?: string) => fx.connect(host);
const cutDatabase = () => fx.cutDatabase();
const healDatabase = () => fx.healDatabase();

describe('no-dedup', () => {
  it.each([
    [undefined, { duplicate: true, version: 1 }, 1],
    ['no-dedup', { duplicate: false, version: 2 }, 2],
  ])('defect %s: a resent action → %j, player version %i, log keeps one row', async (defect, resendAck, finalVersion) => {
    await start(defect);
    const c = await connect();
    await c.hello('nora');
    expect(await c.act(1, { kind: 'collect' })).toMatchObject({ version: 1, duplicate: false });
    expect(await c.act(1, { kind: 'collect' })).toMatchObject(resendAck);
    const player = (await adminGet<{ state: PlayerState }>(fx.backend.adminPort, '/admin/players/nora')).body.state;
    expect(player.version).toBe(finalVersion);
    expect(player.gold).toBe(STARTING_GOLD + 12 * finalVersion);
    expect((await snapshot(fx.backend.adminPort)).actions).toHaveLength(1);
  });
});

describe('nonatomic-gift', () => {
  it.each([
    [undefined, 0],
    ['nonatomic-gift', 80],
  ])('defect %s: the database link dies right after the gift is acked → %i gold destroyed', async (defect, destroyed) => {
    await start(defect);
    const a = await connect();
    const b = await connect();
    await a.hello('gina');
    await b.hello('hank');
    expect(await a.act(1, { kind: 'gift-send', to: 'hank', amount: 80 })).toMatchObject({ result: { outcome: 'applied' } });
    await cutDatabase();
    await sleep(500); // the defect's credit leg runs (and fails) in this window
    await healDatabase();
    await sleep(200);
    const s = await snapshot(fx.backend.adminPort);
    expect(s.ledger.sources - s.ledger.sinks - s.totalGold).toBe(destroyed);
    expect(s.gifts).toHaveLength(destroyed === 0 ? 1 : 0);
  });
});

describe('lost-push', () => {
  it.each([
    [undefined, true],
    ['lost-push', false],
  ])('defect %s: a gift right after the recipient resumed is pushed: %s', async (defect, pushed) => {
    await start(defect);
    const a = await connect();
    await a.hello('ivan');
    const first = await connect();
    const { resumeToken } = await first.hello('jane');
    first.close();
    const b = await connect('::1');
    const welcome = await b.hello('jane', resumeToken);
    expect(welcome.resumed).toBe(true);
    await a.act(1, { kind: 'gift-send', to: 'jane', amount: 25 });
    const push = await b.next((m) => m.t === 'push', 700).catch(() => undefined);
    expect(push !== undefined).toBe(pushed);
    // The client's shadow model applies what it was told; without the push it desyncs.
    let model: PlayerState = welcome.state;
    if (push?.t === 'push') model = { ...model, gold: model.gold + push.amount, version: push.version };
    const ack = await b.act(1, { kind: 'collect' });
    expect(isAck(ack)).toBe(true);
    const predicted = { ...model, gold: model.gold + 12, xp: 5, version: model.version + 1, lastSeq: 1 };
    expect(isAck(ack) && ack.checksum === checksum(predicted)).toBe(pushed);
  });
});

describe('retry-storm', () => {
  const retries = async () => {
    const text = (await adminGet<string>(fx.backend.adminPort, '/metrics')).body;
    return Number(/^game_db_retries_total (\d+)/m.exec(text)?.[1] ?? 0);
  };
  it.each([
    [undefined, 0, 25],
    ['retry-storm', 100, Infinity],
  ])('defect %s: a database outage draws between %i and %s retries within the 1 s budget', async (defect, min, max) => {
    await start(defect, { retry: { baseMs: 20, capMs: 500, budgetMs: 1000, backoff: defect !== 'retry-storm' } });
    const c = await connect();
    await c.hello('kai');
    await cutDatabase();
    try {
      expect(await c.act(1, { kind: 'collect' }, 5000)).toMatchObject({ code: 'unavailable' });
    } finally {
      await healDatabase();
    }
    const count = await retries();
    expect(count).toBeGreaterThanOrEqual(Math.max(min, 1));
    expect(count).toBeLessThanOrEqual(max);
  });
});

describe('ipv4-only', () => {
  it.each([
    [undefined, true],
    ['ipv4-only', false],
  ])('defect %s: an IPv6-only client can connect: %s', async (defect, v6) => {
    await start(defect);
    expect((await (await connect('127.0.0.1')).hello('lena')).state.id).toBe('lena');
    const connected = await connect('::1').then(
      () => true,
      (error: NodeJS.ErrnoException) => (expect(error.code).toBe('ECONNREFUSED'), false),
    );
    expect(connected).toBe(v6);
  });
});

describe('bank-lost-update', () => {
  it.each([
    [undefined, 60, 0],
    ['bank-lost-update', 10, 50],
  ])('defect %s: six deposits of 10 into one guild bank in one group commit → the bank holds %i, %i gold destroyed', async (defect, bankGold, destroyedGold) => {
    await start(defect, { groupCommitLingerMs: 20 });
    const players = ['ria', 'rob', 'rex', 'roy', 'ruth', 'rudy'];
    const clients = await Promise.all(players.map(() => connect()));
    for (const [i, c] of clients.entries()) await c.hello(players[i]);
    const acks = await Promise.all(clients.map((c) => c.act(1, { kind: 'guild-deposit', guild: 'hall', amount: 10 })));
    for (const ack of acks) expect(ack).toMatchObject({ result: { outcome: 'applied', goldDelta: -10 } });
    const s = await snapshot(fx.backend.adminPort);
    const bank = s.banks!.find((b) => b.id === 'hall')!;
    const destroyed = s.ledger.sources - s.ledger.sinks - s.totalGold;
    // The correct backend keeps all 60; the defect keeps only the last write of the commit.
    expect(bank.gold).toBe(bankGold);
    expect(destroyed).toBe(destroyedGold);
  });
});
