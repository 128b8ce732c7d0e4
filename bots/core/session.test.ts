/**
 * The session state machine on the fake clock with a fake GameClient (no sockets): schedule,
 * sequence numbers, resends, timeouts, backoff, voluntary disconnects, the graceful stop.
 * The reference protocol's behaviour is tested in games/reference/client/reference-client.test.ts.
 */
import { ManualClock } from '../../core/clock';
import type { ActionSpec, BehaviourProfile } from '../../core/game';
import type { BotEvent, ClientOp } from '../../core/history';
import { uniformInt } from '../../core/rng';
import { FakeGameClient, FakeServer, type FakeClientOptions } from '../testing/fake-game';
import { ACCEPTS, BotSession, type BotSessionOptions } from './session';
import type { HistoryDraft, SessionTiming } from './types';

const ACTIONS: Record<string, ActionSpec> = {
  tick: { description: 'one step', params: ({ rng }) => ({ n: uniformInt(rng, 1, 6) }) },
  poke: {
    description: 'pokes a peer',
    params: ({ rng, pickPeer }) => {
      const to = pickPeer(rng);
      return to === undefined ? undefined : { to };
    },
    fallback: 'rest',
  },
  rest: { description: 'does nothing (no params, no draws)' },
};

const STEADY: BehaviourProfile = {
  name: 'steady',
  description: 'a tick every 100 ms',
  mix: [{ action: 'tick', weight: 1 }],
  thinkTime: { kind: 'constant', value: 100 },
  sessionLength: { kind: 'never' },
  offlineTime: { kind: 'constant', value: 200 },
};

const TIMING: Partial<SessionTiming> = { actionTimeoutMs: 1000, backoffBaseMs: 100, backoffCapMs: 400, maxReconnectAttempts: 4, stopGraceMs: 300 };

type Entry = HistoryDraft;
const ops = (entries: Entry[], f?: string): ClientOp[] => entries.filter((e) => e.type !== 'event' && (f === undefined || e.f === f)) as ClientOp[];
const actionOps = (entries: Entry[]): ClientOp[] => ops(entries).filter((op) => op.f !== 'login');
const events = (entries: Entry[], f: BotEvent['f']): BotEvent[] => entries.filter((e) => e.type === 'event' && e.f === f) as BotEvent[];

interface Harness {
  clock: ManualClock;
  session: BotSession;
  client: FakeGameClient;
  server: FakeServer;
  entries: Entry[];
  /** Moves the fake clock forward 1 ms at a time, letting promise callbacks run in between. */
  run(ms: number): Promise<void>;
}

function harness(options: { client?: FakeClientOptions; session?: Partial<BotSessionOptions>; server?: FakeServer } = {}): Harness {
  const clock = new ManualClock();
  const server = options.server ?? new FakeServer();
  const entries: Entry[] = [];
  let client!: FakeGameClient;
  const session = new BotSession({
    botId: 'bot-1',
    playerId: 'p-1',
    url: 'fake://game',
    profile: STEADY,
    actions: ACTIONS,
    createClient: (context) => (client = new FakeGameClient(context, server, { latencyMs: 10, ...options.client })),
    seed: 7,
    clock,
    openWebSocket: () => {
      throw new Error('the fake client opens no sockets');
    },
    sink: { record: (entry) => entries.push(entry) },
    timing: TIMING,
    ...options.session,
  });
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 6; i++) await Promise.resolve();
  };
  return {
    clock,
    session,
    client,
    server,
    entries,
    run: async (ms) => {
      await settle();
      for (let i = 0; i < ms; i++) {
        clock.advance(1);
        await settle();
      }
    },
  };
}

test('acts on the think-time schedule, one action at a time; a slow server does not shift intendedAt (no coordinated omission)', async () => {
  const h = harness({ client: { latencyMs: 250 } });
  h.session.start();
  await h.run(1500);
  const invokes = actionOps(h.entries).filter((op) => op.type === 'invoke');
  // Logged in at 250; slots every 100 ms from 350; each answer takes 250 ms, so the bot falls behind.
  expect(invokes.slice(0, 4).map((op) => op.intendedAt)).toEqual([350, 450, 550, 650]);
  expect(invokes.slice(0, 4).map((op) => op.time)).toEqual([350, 600, 850, 1100]);
  expect(invokes.map((op) => op.seq)).toEqual(invokes.map((_, i) => i + 1));
  const oks = actionOps(h.entries).filter((op) => op.type === 'ok');
  expect(oks[0]).toMatchObject({ seq: 1, intendedAt: 350, time: 600, value: { applied: 1 }, version: 1 });
  expect(h.session.state).toBe('ready');
});

test('sequence numbers continue after the login lastSeq', async () => {
  const server = new FakeServer();
  Object.assign(server.player('p-1'), { lastSeq: 41, version: 50 });
  const h = harness({ server, session: { maxActions: 3 } });
  h.session.start();
  await h.run(1000);
  expect(ops(h.entries, 'login').map((op) => [op.type, op.value])).toEqual([
    ['invoke', { reconnect: false }],
    ['ok', { lastSeq: 41, version: 50 }],
  ]);
  expect(actionOps(h.entries).filter((op) => op.type === 'invoke').map((op) => op.seq)).toEqual([42, 43, 44]);
  expect(server.player('p-1').lastSeq).toBe(44);
});

test('a link lost after the server applied: info, resume, and the resend keeps the ORIGINAL seq and params as a new invoke with resend: true', async () => {
  const h = harness({ client: { onInvoke: (call, attempt) => (call.seq === 2 && attempt === 1 ? 'apply-then-cut' : 'ok') }, session: { maxActions: 4 } });
  h.session.start();
  await h.run(2000);
  const seq2 = actionOps(h.entries).filter((op) => op.seq === 2);
  expect(seq2.map((op) => op.type)).toEqual(['invoke', 'info', 'invoke', 'ok']);
  expect(seq2[1].error).toBe('cut');
  expect(seq2[2].value).toEqual(seq2[0].value);
  expect(seq2[3].value).toEqual({ applied: 2, duplicate: true });
  expect(h.client.calls.filter((call) => call.seq === 2).map((call) => call.resend)).toEqual([false, true]);
  expect(h.client.connects.map((c) => c.resume)).toEqual([false, true]);
  expect(ops(h.entries, 'login').map((op) => op.type)).toEqual(['invoke', 'ok', 'invoke', 'ok']);
  const reconnected = events(h.entries, 'reconnected');
  expect(reconnected).toHaveLength(1);
  expect(reconnected[0].value).toMatchObject({ voluntary: false, resending: 2, fake: true });
  expect(actionOps(h.entries).filter((op) => op.type === 'invoke').map((op) => op.seq)).toEqual([1, 2, 2, 3, 4]);
  expect(events(h.entries, 'session-end')[0].value).toMatchObject({ reason: 'max-actions', lastSeq: 4, pendingInfo: 0, actions: 4, reconnects: 1, version: 4 });
});

test('no answer within actionTimeoutMs: info, the link is declared dead (close(false)), then resume and resend', async () => {
  const h = harness({ client: { onInvoke: (call, attempt) => (call.seq === 1 && attempt === 1 ? 'hang' : 'ok') }, session: { maxActions: 2 } });
  h.session.start();
  await h.run(3000);
  const seq1 = actionOps(h.entries).filter((op) => op.seq === 1);
  expect(seq1.map((op) => op.type)).toEqual(['invoke', 'info', 'invoke', 'ok']);
  expect(seq1[1]).toMatchObject({ error: 'action timeout', time: seq1[0].time + 1000 });
  expect(h.client.closes[0]).toEqual({ graceful: false, reason: 'action timeout' });
  expect(h.server.player('p-1').lastSeq).toBe(2);
});

test('failed connects back off with capped exponential full-jitter delays, then give up after maxReconnectAttempts', async () => {
  const h = harness({ client: { onConnect: () => 'refuse' } });
  const attemptsAt: number[] = [];
  const connect = h.client.connect.bind(h.client);
  h.client.connect = (options) => {
    attemptsAt.push(h.clock.now());
    return connect(options);
  };
  h.session.start();
  await h.run(3000);
  expect(attemptsAt).toHaveLength(4);
  // A refusal takes 10 ms; the delay after failure n is in [0, min(400, 100 * 2^n)].
  const delays = attemptsAt.slice(1).map((at, i) => at - attemptsAt[i] - 10);
  delays.forEach((delay, i) => {
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThanOrEqual(Math.min(400, 100 * 2 ** (i + 1)) + 1);
  });
  expect(ops(h.entries)).toEqual([]); // refused before any login went out: no op
  expect(events(h.entries, 'gave-up').map((e) => e.value)).toEqual([{ attempts: 4, lastError: 'connect ECONNREFUSED' }]);
  expect(events(h.entries, 'session-end')[0].value).toMatchObject({ reason: 'gave-up' });
  expect(h.session.state).toBe('ended');
  expect(h.clock.pendingTimers).toBe(0);
});

test('the jitter is drawn from the seed: the same seed backs off the same way, another seed does not', async () => {
  // The give-up time is the sum of the four jittered delays.
  const backoffs = async (seed: number): Promise<number[]> => {
    const h = harness({ client: { onConnect: () => 'refuse' }, session: { seed } });
    h.session.start();
    await h.run(3000);
    return events(h.entries, 'gave-up').map((e) => e.time);
  };
  expect(await backoffs(1)).toEqual(await backoffs(1));
  expect(await backoffs(1)).not.toEqual(await backoffs(2));
});

test('a refused login is a login fail op and a failed attempt; a success resets the count', async () => {
  const h = harness({ client: { onConnect: (attempt) => (attempt <= 2 ? { loginFail: 'bad-token: nope' } : 'ok') }, session: { maxActions: 1 } });
  h.session.start();
  await h.run(2000);
  expect(ops(h.entries, 'login').map((op) => [op.type, op.error])).toEqual([
    ['invoke', undefined],
    ['fail', 'bad-token: nope'],
    ['invoke', undefined],
    ['fail', 'bad-token: nope'],
    ['invoke', undefined],
    ['ok', undefined],
  ]);
  expect(events(h.entries, 'gave-up')).toEqual([]);
  // The first login failed, so the one that worked counts as a reconnect.
  expect(events(h.entries, 'reconnected')).toHaveLength(1);
});

test("voluntary disconnect after the profile's session length, back after its offline time, resumed with the seqs continuing", async () => {
  const profile = { ...STEADY, sessionLength: { kind: 'constant' as const, value: 350 }, offlineTime: { kind: 'constant' as const, value: 200 } };
  const h = harness({ session: { profile } });
  h.session.start();
  await h.run(1200);
  expect(h.client.closes[0]).toEqual({ graceful: true, reason: 'session over' });
  expect(h.client.connects.map((c) => c.resume)).toEqual([false, true, true]);
  const reconnected = events(h.entries, 'reconnected');
  expect(reconnected.map((e) => (e.value as { voluntary: boolean }).voluntary)).toEqual([true, true]);
  expect(reconnected[0].value).toMatchObject({ resumeMs: 10 }); // decided at the offline timer, logged in 10 ms later
  // Logged in at 10, out at 360, offline 200 ms: back at 570.
  expect(reconnected[0].time).toBe(570);
  expect(actionOps(h.entries).filter((op) => op.type === 'info')).toEqual([]);
  const seqs = actionOps(h.entries).filter((op) => op.type === 'invoke').map((op) => op.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
});

test('a session that runs out while the link is down still ends voluntarily once the resume is done', async () => {
  const profile = { ...STEADY, sessionLength: { kind: 'constant' as const, value: 300 } };
  const h = harness({
    session: { profile, timing: { ...TIMING, backoffBaseMs: 1000, backoffCapMs: 1000 } },
    client: { onInvoke: (call, attempt) => (call.seq === 2 && attempt === 1 ? 'cut' : 'ok') },
  });
  h.session.start();
  await h.run(3000);
  const reconnected = events(h.entries, 'reconnected').map((e) => (e.value as { voluntary: boolean }).voluntary);
  expect(reconnected[0]).toBe(false);
  expect(reconnected.slice(1)).toContain(true);
  // The resend went out and was answered before the voluntary close.
  const seq2 = actionOps(h.entries).filter((op) => op.seq === 2).map((op) => op.type);
  expect(seq2).toEqual(['invoke', 'info', 'invoke', 'ok']);
  expect(h.client.closes.some((c) => c.graceful && c.reason === 'session over')).toBe(true);
});

test('stop with an action in flight waits stopGraceMs for it, then records it as info', async () => {
  const h = harness({ client: { onInvoke: (call) => (call.seq === 3 ? 'hang' : 'ok') } });
  h.session.start();
  await h.run(350); // seq 3 sent at 310
  const stopped = h.session.stop();
  expect(h.session.state).toBe('stopping');
  await h.run(299);
  expect(h.session.state).toBe('stopping');
  await h.run(1);
  await stopped;
  expect(actionOps(h.entries).filter((op) => op.seq === 3).map((op) => [op.type, op.error, op.time])).toEqual([
    ['invoke', undefined, 310],
    ['info', 'stopped', 650],
  ]);
  expect(events(h.entries, 'session-end')[0].value).toMatchObject({ reason: 'stopped', pendingInfo: 1 });
  expect(events(h.entries, 'session-end')[0].value).not.toHaveProperty('thinkingUntil');
  expect(h.client.closes).toEqual([{ graceful: true, reason: 'stopped' }]);
  expect(h.clock.pendingTimers).toBe(0);
});

test('stop with an action in flight that completes within the grace records it ok and ends at once', async () => {
  const h = harness({ client: { latencyMs: 50 } });
  h.session.start();
  await h.run(160); // logged in at 50; seq 1 sent at 150, answered at 200
  void h.session.stop();
  await h.run(60);
  expect(h.session.state).toBe('ended');
  expect(actionOps(h.entries).map((op) => [op.type, op.seq, op.time])).toEqual([
    ['invoke', 1, 150],
    ['ok', 1, 200],
  ]);
  expect(events(h.entries, 'session-end')[0].time).toBe(200);
});

test('stopped while connected and thinking: session-end carries thinkingUntil (the next slot); not while reconnecting', async () => {
  const h = harness();
  h.session.start();
  await h.run(250); // slots at 110, 210; the next at 310
  await h.session.stop();
  expect(events(h.entries, 'session-end')[0].value).toMatchObject({ reason: 'stopped', thinkingUntil: 310 });

  const down = harness({ client: { onInvoke: () => 'cut' }, session: { timing: { ...TIMING, backoffBaseMs: 10_000, backoffCapMs: 10_000 } } });
  down.session.start();
  await down.run(200);
  expect(down.session.state).toBe('backoff');
  await down.session.stop();
  expect(events(down.entries, 'session-end')[0].value).not.toHaveProperty('thinkingUntil');
});

test('an outcome naming the expected seq resets the next seq and drops the unresolved action', async () => {
  let resends = 0;
  const h = harness({
    session: { maxActions: 3 },
    client: {
      onInvoke: (call) => {
        if (call.seq === 1 && !call.resend) return { type: 'info', error: 'unavailable: db down' };
        if (call.seq === 1 && call.resend) {
          resends += 1;
          return { type: 'fail', error: 'out-of-order', expectedSeq: 9 };
        }
        return 'ok';
      },
    },
  });
  h.session.start();
  await h.run(40); // logged in with lastSeq 0
  Object.assign(h.server.player('p-1'), { lastSeq: 8 }); // the server moved on meanwhile (another device)
  await h.run(1000);
  expect(resends).toBe(1);
  const invokes = actionOps(h.entries).filter((op) => op.type === 'invoke').map((op) => op.seq);
  expect(invokes).toEqual([1, 1, 9, 10]);
  expect(actionOps(h.entries).filter((op) => op.seq === 1).map((op) => op.type)).toEqual(['invoke', 'info', 'invoke', 'fail']);
});

test('a failed resend stays unresolved and is resent again (same seq) until it is ok', async () => {
  const h = harness({
    session: { maxActions: 2 },
    client: {
      onInvoke: (call, attempt) => {
        if (call.seq !== 1) return 'ok';
        if (attempt === 1) return { type: 'info', error: 'unavailable: db down' };
        if (attempt === 2) return { type: 'fail', error: 'overloaded: shed' };
        return 'ok';
      },
    },
  });
  h.session.start();
  await h.run(1000);
  expect(actionOps(h.entries).filter((op) => op.seq === 1).map((op) => op.type)).toEqual(['invoke', 'info', 'invoke', 'fail', 'invoke', 'ok']);
  expect(h.client.calls.filter((call) => call.seq === 1).map((call) => call.resend)).toEqual([false, true, true]);
  expect(actionOps(h.entries).filter((op) => op.type === 'invoke').map((op) => op.seq)).toEqual([1, 1, 1, 2]);
  expect(events(h.entries, 'session-end')[0].value).toMatchObject({ reason: 'max-actions', pendingInfo: 0, actions: 2 });
});

test('a plain fail (not a resend) frees its seq for the next new action', async () => {
  const h = harness({ session: { maxActions: 3 }, client: { onInvoke: (call, attempt) => (call.seq === 2 && attempt === 1 ? { type: 'fail', error: 'malformed' } : 'ok') } });
  h.session.start();
  await h.run(1000);
  expect(actionOps(h.entries).filter((op) => op.type === 'invoke').map((op) => op.seq)).toEqual([1, 2, 2]);
});

test('maxActions: exactly that many new actions, then the session ends with reason max-actions', async () => {
  const h = harness({ session: { maxActions: 5 } });
  h.session.start();
  await h.run(2000);
  expect(actionOps(h.entries).filter((op) => op.type === 'invoke')).toHaveLength(5);
  expect(h.session.state).toBe('ended');
  expect(events(h.entries, 'session-end')[0].value).toMatchObject({ reason: 'max-actions', actions: 5, lastSeq: 5, thinkingUntil: 610 });
  expect(h.client.closes).toEqual([{ graceful: true, reason: 'max-actions' }]);
});

test('the action sequence is a function of the seed; an impossible action falls back without extra draws', async () => {
  const mixed = { ...STEADY, mix: [{ action: 'tick', weight: 1 }, { action: 'poke', weight: 1 }] };
  const sequence = async (seed: number, pickPeer?: BotSessionOptions['pickPeer']): Promise<unknown[]> => {
    const h = harness({ session: { seed, profile: mixed, maxActions: 30, pickPeer } });
    h.session.start();
    await h.run(4000);
    return actionOps(h.entries)
      .filter((op) => op.type === 'invoke')
      .map((op) => [op.f, op.value, op.intendedAt]);
  };
  const peer: BotSessionOptions['pickPeer'] = (rng) => `p-${2 + Math.floor(rng.next() * 3)}`;
  const first = await sequence(3, peer);
  expect(first).toHaveLength(30);
  expect(await sequence(3, peer)).toEqual(first);
  expect(await sequence(4, peer)).not.toEqual(first);
  // Without peers every poke falls back to a rest; pickPeer still draws once and rest draws nothing, so the rest stays aligned.
  const alone = await sequence(3, (rng) => {
    rng.next();
    return undefined;
  });
  expect(first.some((entry) => (entry as unknown[])[0] === 'poke')).toBe(true);
  expect(alone.map((entry) => (entry as unknown[])[0])).toEqual(first.map((entry) => ((entry as unknown[])[0] === 'poke' ? 'rest' : 'tick')));
  const firstTicks = first.map((entry, i) => ((entry as unknown[])[0] === 'tick' ? i : -1)).filter((i) => i >= 0);
  for (const i of firstTicks) expect(alone[i]).toEqual(first[i]);
});

test('a link lost before the session saw the login is handled right after it (reconnect), not lost', async () => {
  const h = harness({ client: { onConnect: (attempt) => (attempt === 1 ? 'ok-then-cut' : 'ok') }, session: { maxActions: 1 } });
  h.session.start();
  await h.run(1000);
  expect(ops(h.entries, 'login').map((op) => op.type)).toEqual(['invoke', 'ok', 'invoke', 'ok']);
  expect(events(h.entries, 'reconnected')).toHaveLength(1);
  expect(actionOps(h.entries).map((op) => op.type)).toEqual(['invoke', 'ok']);
});

test('stopped while the login is out: the login is info, and a login that completes later is logged out at once', async () => {
  let resolveLater: (() => void) | undefined;
  const h = harness({ client: { onConnect: () => 'hang' } });
  const connect = h.client.connect.bind(h.client);
  h.client.connect = (options) => {
    void connect(options);
    return new Promise((resolve) => {
      resolveLater = () => resolve({ login: { lastSeq: 0 }, connection: { invoke: () => new Promise(() => undefined), close: (graceful, reason) => h.client.closes.push({ graceful, reason }) } });
    });
  };
  h.session.start();
  await h.run(20);
  await h.session.stop();
  expect(ops(h.entries, 'login').map((op) => [op.type, op.error])).toEqual([
    ['invoke', undefined],
    ['info', 'stopped'],
  ]);
  resolveLater!();
  await h.run(1);
  expect(h.client.closes).toEqual([{ graceful: true, reason: 'session moved on' }]);
  expect(ops(h.entries, 'login')).toHaveLength(2);
});

test("the client's desync findings and ops land in the history and are counted", async () => {
  const h = harness({ session: { maxActions: 1 } });
  h.session.start();
  await h.run(20);
  h.client.context.recordOp('invoke', 'read', { intendedAt: 15 });
  h.client.context.recordOp('ok', 'read', { intendedAt: 15, value: { gold: 1 }, version: 3, checksum: 'abc' });
  h.client.context.recordDesync({ reason: 'checksum-mismatch', seq: 1, expected: { checksum: 'x' }, actual: { checksum: 'y' } });
  await h.run(500);
  expect(ops(h.entries, 'read')).toEqual([
    { type: 'invoke', process: 'bot-1', player: 'p-1', f: 'read', intendedAt: 15, time: 20 },
    { type: 'ok', process: 'bot-1', player: 'p-1', f: 'read', value: { gold: 1 }, intendedAt: 15, time: 20, version: 3, checksum: 'abc' },
  ]);
  expect(events(h.entries, 'desync').map((e) => e.value)).toEqual([{ reason: 'checksum-mismatch', seq: 1, expected: { checksum: 'x' }, actual: { checksum: 'y' } }]);
  expect(events(h.entries, 'session-end')[0].value).toMatchObject({ desyncs: 1 });
});

test('every state names the events it accepts; stale events are dropped', async () => {
  expect(ACCEPTS.ended).toEqual([]);
  expect(ACCEPTS.idle).toEqual(['start', 'stop']);
  expect(ACCEPTS.offline).not.toContain('outcome');
  const h = harness();
  h.session.dispatch({ type: 'slot-due' }); // idle does not take it
  h.session.dispatch({ type: 'backoff-over' });
  expect(h.session.state).toBe('idle');
  expect(h.entries).toEqual([]);
  h.session.start();
  await h.run(50);
  h.session.dispatch({ type: 'link-lost', attempt: 99, reason: 'an older link' }); // not this attempt
  expect(h.session.state).toBe('ready');
});

test('a profile naming an action the game lacks is refused at construction, naming both', () => {
  expect(() => harness({ session: { profile: { ...STEADY, mix: [{ action: 'jump', weight: 1 }] } } })).toThrow(/profile "steady": the mix names action "jump", which the game does not have; use one of: tick, poke, rest/);
});

// ---- pipelining (timing.maxInFlight > 1) ----

/** The most actions of one bot in flight at once, from the history (ops keyed by seq). */
function maxOpen(entries: Entry[]): number {
  const open = new Set<number>();
  let most = 0;
  for (const op of actionOps(entries)) {
    if (op.type === 'invoke') open.add(op.seq!);
    else open.delete(op.seq!);
    most = Math.max(most, open.size);
  }
  return most;
}

test('pipelining: up to maxInFlight actions in flight, seqs in send order, the schedule kept (intendedAt from the slots)', async () => {
  const h = harness({ client: { latencyMs: 350 }, session: { timing: { ...TIMING, maxInFlight: 3 }, maxActions: 8 } });
  h.session.start();
  await h.run(3000);
  const invokes = actionOps(h.entries).filter((op) => op.type === 'invoke');
  expect(maxOpen(h.entries)).toBe(3);
  // Logged in at 350; slots every 100 ms: three go out on time, the fourth (slot 750) waits for the first ack (800).
  expect(invokes.slice(0, 4).map((op) => [op.seq, op.intendedAt, op.time])).toEqual([
    [1, 450, 450],
    [2, 550, 550],
    [3, 650, 650],
    [4, 750, 800],
  ]);
  expect(invokes.map((op) => op.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(h.server.player('p-1').lastSeq).toBe(8);
  expect(events(h.entries, 'session-end')[0].value).toMatchObject({ reason: 'max-actions', lastSeq: 8, actions: 8 });
});

test('pipelining with maxInFlight 1 (the default) never has two actions in flight', async () => {
  const h = harness({ client: { latencyMs: 250 }, session: { maxActions: 5 } });
  h.session.start();
  await h.run(2500);
  expect(maxOpen(h.entries)).toBe(1);
  expect(actionOps(h.entries).filter((op) => op.type === 'invoke')).toHaveLength(5);
});

test('pipelining: a lost link settles every in-flight action as info; after the resume each is resent with its ORIGINAL seq, lowest first', async () => {
  const h = harness({
    client: { latencyMs: 250, onInvoke: (call, attempt) => (call.seq === 2 && attempt === 1 ? 'apply-then-cut' : 'ok') },
    session: { timing: { ...TIMING, maxInFlight: 3 }, maxActions: 5 },
  });
  h.session.start();
  await h.run(3000);
  const all = actionOps(h.entries);
  // 1 was acked; 2 (applied, then the cut), 3 and 4 were in flight: all three info, in send order.
  expect(all.filter((op) => op.type === 'info').map((op) => op.seq)).toEqual([2, 3, 4]);
  const resends = h.client.calls.filter((call) => call.resend);
  expect(resends.map((call) => call.seq)).toEqual([2, 3, 4]);
  for (const seq of [2, 3, 4]) {
    const first = all.find((op) => op.seq === seq && op.type === 'invoke')!;
    const again = all.filter((op) => op.seq === seq && op.type === 'invoke')[1];
    expect(again.value).toEqual(first.value);
  }
  expect(all.filter((op) => op.seq === 2 && op.type === 'ok')[0].value).toEqual({ applied: 2, duplicate: true });
  expect(events(h.entries, 'reconnected')[0].value).toMatchObject({ resending: 2, resendingSeqs: [2, 3, 4] });
  // Each seq applied once on the server; the next new action continues after the highest.
  expect(h.server.player('p-1').lastSeq).toBe(5);
  expect(all.filter((op) => op.type === 'invoke' && op.seq === 5)).toHaveLength(1);
  expect(events(h.entries, 'session-end')[0].value).toMatchObject({ reason: 'max-actions', lastSeq: 5, pendingInfo: 0, actions: 5 });
});

test('pipelining: a refused action frees its seq; the later ones in flight are refused as out-of-order and numbering restarts at the refused seq', async () => {
  const h = harness({
    client: { latencyMs: 250, onInvoke: (call, attempt) => (call.seq === 2 && attempt === 1 ? { type: 'fail', error: 'overloaded: shed' } : 'ok') },
    session: { timing: { ...TIMING, maxInFlight: 3 }, maxActions: 7 },
  });
  h.session.start();
  await h.run(3000);
  const invokes = actionOps(h.entries).filter((op) => op.type === 'invoke').map((op) => [op.seq, op.time]);
  // 2 refused → 3 and 4 (out-of-order, expected 2) refused → new sends wait until the last refusal (900), then reuse 2, 3 (late slots 750, 850) and 4 (slot 950).
  expect(actionOps(h.entries).filter((op) => op.type === 'fail').map((op) => [op.seq, op.error, op.time])).toEqual([
    [2, 'overloaded: shed', 700],
    [3, 'out-of-order', 800],
    [4, 'out-of-order', 900],
  ]);
  expect(invokes).toEqual([
    [1, 350],
    [2, 450],
    [3, 550],
    [4, 650],
    [2, 900],
    [3, 900],
    [4, 950],
  ]);
  expect(h.server.player('p-1').lastSeq).toBe(4);
  expect(actionOps(h.entries).filter((op) => op.type === 'ok').map((op) => op.seq)).toEqual([1, 2, 3, 4]);
});

test('burst schedule: `actions` actions at every multiple of everyMs since run start (all bots of a group at the same instant)', async () => {
  const h = harness({ session: { burst: { everyMs: 500, actions: 3 }, timing: { ...TIMING, maxInFlight: 3 }, maxActions: 6 } });
  h.session.start();
  await h.run(1500);
  const invokes = actionOps(h.entries).filter((op) => op.type === 'invoke');
  expect(invokes.map((op) => [op.seq, op.intendedAt, op.time])).toEqual([
    [1, 500, 500],
    [2, 500, 500],
    [3, 500, 500],
    [4, 1000, 1000],
    [5, 1000, 1000],
    [6, 1000, 1000],
  ]);
});
