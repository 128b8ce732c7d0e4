/**
 * The reference client under the generic bot session, against the fake reference server over real
 * loopback sockets: the protocol-level behaviour (resume, resend, typed errors, shadow model).
 */
import WebSocket from 'ws';
import { checksum } from '../rules/checksum';
import type { BehaviourProfile } from '../../../core/game';
import type { BotEvent, ClientOp } from '../../../core/history';
import { epochNowMs, systemClock } from '../../../core/clock';
import { BotSession, type BotSessionOptions } from '../../../bots/core/session';
import type { HistoryDraft, SessionTiming } from '../../../bots/core/types';
import referenceGame from '../index';
import { FakeGameServer, type ActionBehaviour, type ActionCall } from './testing/fake-game-server';
import { classifyError, createReferenceClient, playerToken } from './reference-client';

const FAST: BehaviourProfile = {
  name: 'test-fast',
  description: 'constant 10 ms think time',
  mix: [
    { action: 'collect', weight: 3 },
    { action: 'buy', weight: 1 },
  ],
  thinkTime: { kind: 'constant', value: 10 },
  sessionLength: { kind: 'never' },
  offlineTime: { kind: 'constant', value: 10 },
  settings: { giftAmount: { min: 1, max: 5 } },
};

const TIMING: Partial<SessionTiming> = {
  pingIntervalMs: 200,
  pongTimeoutMs: 200,
  connectTimeoutMs: 1000,
  helloTimeoutMs: 1000,
  actionTimeoutMs: 400,
  backoffBaseMs: 10,
  backoffCapMs: 40,
  maxReconnectAttempts: 4,
  versionGapTimeoutMs: 150,
  stopGraceMs: 200,
};

type Entry = HistoryDraft;
const ops = (entries: Entry[], f?: string): ClientOp[] => entries.filter((e): e is ClientOp => e.type !== 'event' && (f === undefined || e.f === f)) as ClientOp[];
const events = (entries: Entry[], f: BotEvent['f']): BotEvent[] => entries.filter((e) => e.type === 'event' && e.f === f) as BotEvent[];
const actionOps = (entries: Entry[]): ClientOp[] => ops(entries).filter((op) => op.f !== 'login' && op.f !== 'read');

function sessionOptions(server: FakeGameServer, entries: Entry[], overrides: Partial<BotSessionOptions> & { resumeToken?: string } = {}): BotSessionOptions {
  const { resumeToken, ...rest } = overrides;
  return {
    botId: 'bot-1',
    playerId: 'players-1',
    url: server.url,
    profile: FAST,
    actions: referenceGame.actions,
    createClient: (context) => createReferenceClient(context, { resumeToken }),
    seed: 42,
    clock: systemClock(epochNowMs()),
    openWebSocket: (url) => new WebSocket(url, { perMessageDeflate: false }),
    sink: { record: (entry) => entries.push(entry) },
    maxActions: 6,
    timing: TIMING,
    ...rest,
  };
}

async function playBot(server: FakeGameServer, overrides: Partial<BotSessionOptions> & { resumeToken?: string } = {}, timeoutMs = 8000): Promise<{ entries: Entry[]; session: BotSession }> {
  const entries: Entry[] = [];
  const session = new BotSession(sessionOptions(server, entries, overrides));
  session.start();
  const timeout = setTimeout(() => void session.stop(), timeoutMs);
  await session.ended;
  clearTimeout(timeout);
  return { entries, session };
}

/** onAction that misbehaves once: on the first attempt of `seq`. */
const onceAt =
  (seq: number, behaviour: ActionBehaviour) =>
  (call: ActionCall): ActionBehaviour =>
    call.seq === seq && call.attempt === 1 ? behaviour : 'ack';

let server: FakeGameServer;
beforeEach(async () => {
  server = await FakeGameServer.start();
});
afterEach(async () => {
  await server.close();
});

test('plays, every action completes ok with the server checksum, and the session ends with the shadow in sync', async () => {
  const { entries } = await playBot(server);
  const actions = actionOps(entries);
  expect(actions.filter((op) => op.type === 'invoke').map((op) => op.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  const oks = actions.filter((op) => op.type === 'ok');
  expect(oks.map((op) => op.version)).toEqual([1, 2, 3, 4, 5, 6]);
  for (const op of oks) expect(op.time).toBeGreaterThanOrEqual(op.intendedAt);
  expect(ops(entries, 'login').map((op) => op.type)).toEqual(['invoke', 'ok']);
  expect(events(entries, 'desync')).toEqual([]);
  const end = events(entries, 'session-end')[0].value as { reason: string; version: number; checksum: string; pendingInfo: number };
  const serverState = server.player('players-1').state;
  expect(end).toMatchObject({ reason: 'max-actions', version: serverState.version, checksum: checksum(serverState), pendingInfo: 0 });
});

test('the same seed gives the same action sequence; another seed does not', async () => {
  const profile = { ...referenceGame.profiles.casual, thinkTime: { kind: 'constant' as const, value: 5 } };
  const pickPeer = (rng: { next(): number }): string => `players-${2 + Math.floor(rng.next() * 5)}`;
  const sequence = async (seed: number): Promise<unknown[]> => {
    const fresh = await FakeGameServer.start();
    try {
      const { entries } = await playBot(fresh, { profile, seed, pickPeer, maxActions: 25 });
      return actionOps(entries).map((op) => [op.type, op.f, op.seq, op.type === 'invoke' ? op.value : (op.value as { outcome?: string })?.outcome]);
    } finally {
      await fresh.close();
    }
  };
  const first = await sequence(7);
  const again = await sequence(7);
  const other = await sequence(8);
  expect(first).toHaveLength(50);
  expect(again).toEqual(first);
  expect(other).not.toEqual(first);
});

test('a link cut after the server applied, before the ack: info, then a resume and a resend with the original seq, acked as a duplicate', async () => {
  server.onAction = onceAt(3, 'apply-then-cut');
  const { entries } = await playBot(server, { maxActions: 5 });
  const seq3 = actionOps(entries).filter((op) => op.seq === 3);
  expect(seq3.map((op) => op.type)).toEqual(['invoke', 'info', 'invoke', 'ok']);
  expect(seq3[2].value).toEqual(seq3[0].value); // the same action resent
  expect(seq3[3].value).toMatchObject({ duplicate: true });
  expect(ops(entries, 'login').map((op) => op.type)).toEqual(['invoke', 'ok', 'invoke', 'ok']);
  expect(ops(entries, 'login')[3].value).toMatchObject({ resumed: true });
  const reconnected = events(entries, 'reconnected');
  expect(reconnected).toHaveLength(1);
  expect(reconnected[0].value).toMatchObject({ voluntary: false, resumed: true, resending: 3, shadowReplaced: true });
  expect(events(entries, 'desync')).toEqual([]);
  expect(server.player('players-1').state.lastSeq).toBe(5);
  expect(events(entries, 'session-end')[0].value).toMatchObject({ pendingInfo: 0, version: 5 });
});

test('a link cut before the server applied: info, then the resend is applied (not a duplicate)', async () => {
  server.onAction = onceAt(2, 'cut');
  const { entries } = await playBot(server, { maxActions: 4 });
  const seq2 = actionOps(entries).filter((op) => op.seq === 2);
  expect(seq2.map((op) => op.type)).toEqual(['invoke', 'info', 'invoke', 'ok']);
  expect((seq2[3].value as { duplicate?: boolean }).duplicate).toBeUndefined();
  expect(events(entries, 'desync')).toEqual([]);
  expect(events(entries, 'session-end')[0].value).toMatchObject({ pendingInfo: 0, version: 4 });
});

test('a black-holed link is detected (ack timeout), the op is info, and the bot resumes and resends', async () => {
  server.onAction = onceAt(2, 'blackhole');
  const { entries } = await playBot(server, { maxActions: 3 });
  const seq2 = actionOps(entries).filter((op) => op.seq === 2);
  expect(seq2.map((op) => op.type)).toEqual(['invoke', 'info', 'invoke', 'ok']);
  expect(seq2[1].error).toMatch(/timeout/);
  expect(events(entries, 'desync')).toEqual([]);
  expect(server.player('players-1').state.lastSeq).toBe(3);
});

test('a typed non-retryable error completes the op as fail and the seq is used again', async () => {
  server.onAction = onceAt(2, { error: 'malformed', retryable: false });
  const { entries } = await playBot(server, { maxActions: 4 });
  const actions = actionOps(entries);
  const failed = actions.filter((op) => op.type === 'fail');
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatchObject({ seq: 2, error: expect.stringMatching(/^malformed/) });
  // Four new actions, one refused: seqs 1..3 applied, seq 2 used twice.
  expect(actions.filter((op) => op.type === 'invoke').map((op) => op.seq)).toEqual([1, 2, 2, 3]);
  expect(events(entries, 'desync')).toEqual([]);
});

test("'overloaded' is fail; 'unavailable' is info and the action is resent with its seq", async () => {
  server.onAction = (call) => (call.seq === 2 && call.attempt === 1 ? { error: 'overloaded', retryable: true } : call.seq === 3 && call.attempt === 1 ? { error: 'unavailable', retryable: true, apply: true } : 'ack');
  const { entries } = await playBot(server, { maxActions: 4 });
  const actions = actionOps(entries);
  expect(actions.filter((op) => op.seq === 2).map((op) => op.type)).toEqual(['invoke', 'fail', 'invoke', 'ok']);
  const seq3 = actions.filter((op) => op.seq === 3);
  expect(seq3.map((op) => op.type)).toEqual(['invoke', 'info', 'invoke', 'ok']);
  expect(seq3[2].value).toEqual(seq3[0].value);
  expect(seq3[3].value).toMatchObject({ duplicate: true });
  expect(events(entries, 'desync')).toEqual([]);
  expect(events(entries, 'session-end')[0].value).toMatchObject({ pendingInfo: 0 });
});

test('a bot whose reconnects keep failing gives up, recorded as a gave-up event', async () => {
  server.onAction = (call) => {
    if (call.seq === 2) void server.close();
    return call.seq === 2 ? 'blackhole' : 'ack';
  };
  const { entries, session } = await playBot(server, { maxActions: 10 });
  const gaveUp = events(entries, 'gave-up');
  expect(gaveUp).toHaveLength(1);
  expect(gaveUp[0].value).toMatchObject({ attempts: 4 });
  expect(events(entries, 'session-end')[0].value).toMatchObject({ reason: 'gave-up', pendingInfo: 1 });
  expect(session.state).toBe('ended');
  expect(actionOps(entries).filter((op) => op.seq === 2).map((op) => op.type)).toEqual(['invoke', 'info']);
  await server.reopen(); // afterEach closes it again
});

test('a wrong checksum on an ack is a desync with the expected and the actual state', async () => {
  server.onAction = onceAt(2, 'wrong-checksum');
  const { entries } = await playBot(server, { maxActions: 4 });
  const desyncs = events(entries, 'desync');
  expect(desyncs).toHaveLength(1);
  const value = desyncs[0].value as { reason: string; seq: number; expected: { checksum: string; state: { version: number } }; actual: { checksum: string; server: { state: { version: number } } } };
  expect(value.reason).toBe('checksum-mismatch');
  expect(value.seq).toBe(2);
  expect(value.actual.checksum).toBe('bad0c0ffee');
  expect(value.expected.state.version).toBe(2);
  expect(value.expected.checksum).not.toBe('bad0c0ffee');
  expect(value.actual.server.state.version).toBeGreaterThanOrEqual(2); // the read that resynced the shadow
  expect(ops(entries, 'read').map((op) => op.type)).toEqual(['invoke', 'ok']);
  // Resynced: the later acks agree again and the session ends in step with the server.
  expect(events(entries, 'session-end')[0].value).toMatchObject({ checksum: checksum(server.player('players-1').state) });
});

test('a version gap that never fills is a desync', async () => {
  server.onAction = onceAt(2, 'skip-version');
  const { entries } = await playBot(server, { maxActions: 3, profile: { ...FAST, thinkTime: { kind: 'constant', value: 250 } } });
  const desyncs = events(entries, 'desync');
  expect(desyncs.map((d) => (d.value as { reason: string }).reason)).toEqual(['version-gap']);
  expect(desyncs[0].value).toMatchObject({ expected: { version: 2 }, actual: { bufferedVersions: [3] } });
});

test('gift pushes are applied to the shadow in version order without desync', async () => {
  const receiverEntries: Entry[] = [];
  const receiver = new BotSession(sessionOptions(server, receiverEntries, { botId: 'bot-2', playerId: 'players-2', profile: { ...FAST, thinkTime: { kind: 'constant', value: 30 } }, seed: 2, maxActions: 15 }));
  receiver.start();
  const gifter = { ...FAST, mix: [{ action: 'gift-send', weight: 1 }] };
  const { entries } = await playBot(server, { profile: gifter, maxActions: 10, pickPeer: () => 'players-2' });
  await receiver.ended;
  const gifts = actionOps(entries).filter((op) => op.type === 'ok' && (op.value as { outcome: string }).outcome === 'applied');
  expect(gifts.length).toBe(10);
  expect(events(receiverEntries, 'desync')).toEqual([]);
  expect(events(entries, 'desync')).toEqual([]);
  const end = events(receiverEntries, 'session-end')[0].value as { version: number };
  expect(end.version).toBe(server.player('players-2').state.version);
  expect(end.version).toBeGreaterThan(15); // own actions plus received gifts
});

test('voluntary disconnects resume the session with the token (churner shape)', async () => {
  const churn = { ...FAST, thinkTime: { kind: 'constant' as const, value: 20 }, sessionLength: { kind: 'constant' as const, value: 150 }, offlineTime: { kind: 'constant' as const, value: 30 } };
  const { entries } = await playBot(server, { profile: churn, maxActions: 20 });
  const reconnected = events(entries, 'reconnected');
  expect(reconnected.length).toBeGreaterThanOrEqual(2);
  for (const event of reconnected) expect(event.value).toMatchObject({ voluntary: true, resumed: true });
  expect(actionOps(entries).filter((op) => op.type === 'info')).toEqual([]);
  expect(events(entries, 'desync')).toEqual([]);
  expect(server.player('players-1').state.lastSeq).toBe(20);
});

test('a session that ran out while the bot was reconnecting still ends voluntarily after the unplanned reconnect', async () => {
  // Wide margins: the cut comes ~40 ms in, the session runs out at 600 ms, the welcome waits till ~1.2 s.
  const churn = { ...FAST, thinkTime: { kind: 'constant' as const, value: 20 }, sessionLength: { kind: 'constant' as const, value: 600 }, offlineTime: { kind: 'constant' as const, value: 30 } };
  server.onAction = (call) => {
    if (call.seq !== 2 || call.attempt !== 1) return 'ack';
    server.delayNextWelcomeMs = 1200; // the session timer fires while the bot waits for its welcome
    return 'cut';
  };
  const { entries } = await playBot(server, { profile: churn, maxActions: 40, timing: { ...TIMING, helloTimeoutMs: 5000 } });
  const reconnected = events(entries, 'reconnected').map((event) => (event.value as { voluntary: boolean }).voluntary);
  expect(reconnected[0]).toBe(false);
  expect(reconnected.slice(1)).toContain(true);
  expect(events(entries, 'desync')).toEqual([]);
  expect(server.player('players-1').state.lastSeq).toBe(40);
});

test('error classification follows what the server guarantees', () => {
  expect(classifyError('overloaded', true)).toBe('fail');
  expect(classifyError('shutting-down', true)).toBe('fail');
  expect(classifyError('unavailable', true)).toBe('info');
  expect(classifyError('malformed', false)).toBe('fail');
  expect(classifyError('internal', false)).toBe('info'); // PROTOCOL.md: outcome unknown
  expect(classifyError('out-of-order', false)).toBe('fail');
});

test('a resume token the server does not accept fails the login and, repeated, ends in gave-up (no hello loop)', async () => {
  await playBot(server, { maxActions: 1 }); // creates players-1 with the default token
  const before = server.received.filter((r) => r.message.t === 'hello').length;
  const { entries } = await playBot(server, { maxActions: 1, resumeToken: 'someone-elses-token' });
  const logins = ops(entries, 'login');
  expect(logins.filter((op) => op.type === 'fail')).toHaveLength(4);
  expect(logins.find((op) => op.type === 'fail')!.error).toMatch(/^bad-token/);
  expect(events(entries, 'gave-up')).toHaveLength(1);
  expect(server.received.filter((r) => r.message.t === 'hello').length - before).toBe(4);
});

test("every hello carries the player's token, derived from the player's seed, the same in every session of the player", async () => {
  await playBot(server, { maxActions: 1, seed: 11, playerSeed: 5 });
  await playBot(server, { maxActions: 1, seed: 12, playerSeed: 5 }); // a later window: another session seed
  const hellos = server.received.filter((r) => r.message.t === 'hello').map((r) => (r.message as { resumeToken?: string }).resumeToken);
  expect(hellos).toEqual([playerToken(5, 'players-1'), playerToken(5, 'players-1')]);
  expect(playerToken(5, 'players-1')).not.toBe(playerToken(11, 'players-1'));
  expect(server.player('players-1').state.lastSeq).toBe(2); // the second session resumed the same player
});
