/** The WebSocket JSON helper against a tiny real ws server on loopback. */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { LoginError, type ActionCall } from '../core/game';
import { testClientContext } from './testing';
import { webSocketJsonClient, type WebSocketJsonOptions } from './websocket-json-client';

type Reply = { id: number; ok: boolean; value?: number; lastSeq?: number; error?: string; retry?: boolean };

/** A server answering `login` (refusing player "banned") and `add`; `hold` requests are never answered. */
function startServer(): Promise<{ url: string; sockets: Set<WebSocket>; received: unknown[]; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const sockets = new Set<WebSocket>();
  const received: unknown[] = [];
  let total = 0;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('message', (data) => {
      const request = JSON.parse(String(data)) as { id: number; op: string; player?: string; by?: number };
      received.push(request);
      if (request.op === 'login') socket.send(JSON.stringify(request.player === 'banned' ? { id: request.id, ok: false, error: 'banned' } : { id: request.id, ok: true, lastSeq: 4 }));
      if (request.op === 'add') socket.send(JSON.stringify({ id: request.id, ok: true, value: (total += request.by ?? 0) }));
      if (request.op === 'busy') socket.send(JSON.stringify({ id: request.id, ok: false, retry: true, error: 'busy' }));
      if (request.op === 'push') socket.send(JSON.stringify({ push: 'hello' }));
      if (request.op === 'ping') socket.send(JSON.stringify({ id: request.id, ok: true }));
    });
  });
  return new Promise((resolve) =>
    server.on('listening', () =>
      resolve({
        url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
        sockets,
        received,
        close: () => new Promise((done) => { for (const s of sockets) s.terminate(); server.close(() => done()); }),
      }),
    ),
  );
}

const options = (player = 'p1', extra: Partial<WebSocketJsonOptions<Reply>> = {}): WebSocketJsonOptions<Reply> => ({
  login: ({ resume }) => ({ op: 'login', player, resume }),
  loginResult: (reply) => (reply.ok ? { lastSeq: reply.lastSeq, value: reply } : { refused: reply.error ?? 'refused' }),
  request: (call) => ({ op: call.name, seq: call.seq, ...(call.params as object) }),
  classify: (reply) => (reply.ok ? { type: 'ok', value: reply.value } : { type: reply.retry ? 'info' : 'fail', error: reply.error ?? 'refused' }),
  ...extra,
});
const call = (name: string, seq: number, params: unknown = {}): ActionCall => ({ name, params, seq, resend: false });
const hooks = () => ({ resume: false, onLoginSent: jest.fn(), onLinkLost: jest.fn() });

describe('webSocketJsonClient', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeEach(async () => (server = await startServer()));
  afterEach(() => server.close());

  it('logs in, matches replies to requests by id and classifies them', async () => {
    const h = hooks();
    const { login, connection } = await webSocketJsonClient<Reply>(testClientContext(server.url), options()).connect(h);
    expect(login.lastSeq).toBe(4);
    expect(h.onLoginSent).toHaveBeenCalledTimes(1);
    const outcomes = await Promise.all([connection.invoke(call('add', 5, { by: 2 })), connection.invoke(call('add', 6, { by: 3 })), connection.invoke(call('busy', 7))]);
    expect(outcomes).toEqual([{ type: 'ok', value: 2 }, { type: 'ok', value: 5 }, { type: 'info', error: 'busy' }]);
    expect(server.received).toContainEqual({ id: 2, op: 'add', seq: 5, by: 2 });
    connection.close(true);
    expect(h.onLinkLost).not.toHaveBeenCalled();
  });

  it('passes each bot its own context, so one options object serves every bot', async () => {
    const shared: WebSocketJsonOptions<Reply> = {
      login: (_login, context) => ({ op: 'login', player: context.playerId }),
      loginResult: (reply, context) => ({ value: { player: context.playerId, ok: reply.ok } }),
      request: (made, context) => ({ op: made.name, player: context.playerId, seq: made.seq }),
      classify: (reply, _made, context) => ({ type: 'ok', value: `${context.botId}:${reply.value}` }),
    };
    const bots = ['a', 'b'].map((name) => ({ ...testClientContext(server.url), botId: `bot-${name}`, playerId: `player-${name}` }));
    const connected = await Promise.all(bots.map((context) => webSocketJsonClient<Reply>(context, shared).connect(hooks())));
    expect(connected.map(({ login }) => login.value)).toEqual([{ player: 'player-a', ok: true }, { player: 'player-b', ok: true }]);
    expect(await connected[1].connection.invoke(call('add', 9))).toEqual({ type: 'ok', value: 'bot-b:0' });
    expect(server.received).toContainEqual({ id: 2, op: 'add', player: 'player-b', seq: 9 });
    for (const { connection } of connected) connection.close(true);
  });

  it('turns a refused login into LoginError fail', async () => {
    const error = await webSocketJsonClient<Reply>(testClientContext(server.url), options('banned')).connect(hooks()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginError);
    expect(error).toMatchObject({ type: 'fail', message: 'banned' });
  });

  it('fails a connect to a closed port as LoginError info', async () => {
    const url = server.url;
    await server.close();
    const error = await webSocketJsonClient<Reply>(testClientContext(url), options()).connect(hooks()).catch((e: unknown) => e);
    expect(error).toMatchObject({ type: 'info' });
  });

  it('settles every pending request as info after calling onLinkLost once when the link dies', async () => {
    const h = hooks();
    const order: string[] = [];
    h.onLinkLost.mockImplementation(() => order.push('link lost'));
    const { connection } = await webSocketJsonClient<Reply>(testClientContext(server.url), options()).connect(h);
    const held = [connection.invoke(call('hold', 1)), connection.invoke(call('hold', 2))].map((p) => p.then((outcome) => (order.push(`settled ${outcome.type}`), outcome)));
    await new Promise((r) => setTimeout(r, 50));
    for (const socket of server.sockets) socket.terminate();
    const outcomes = await Promise.all(held);
    expect(outcomes.map((o) => o.type)).toEqual(['info', 'info']);
    expect(order).toEqual(['link lost', 'settled info', 'settled info']);
    expect(h.onLinkLost).toHaveBeenCalledTimes(1);
    expect(await connection.invoke(call('add', 3, { by: 1 }))).toMatchObject({ type: 'info' });
  });

  it('settles pending requests as info without onLinkLost when the session closes the link', async () => {
    const h = hooks();
    const { connection } = await webSocketJsonClient<Reply>(testClientContext(server.url), options()).connect(h);
    const held = connection.invoke(call('hold', 1));
    connection.close(false, 'action timeout');
    expect(await held).toEqual({ type: 'info', error: 'action timeout' });
    expect(h.onLinkLost).not.toHaveBeenCalled();
  });

  it('hands messages that answer no request to onPush', async () => {
    const pushes: unknown[] = [];
    const { connection } = await webSocketJsonClient<Reply>(testClientContext(server.url), options('p1', { onPush: (m) => pushes.push(m) })).connect(hooks());
    void connection.invoke(call('push', 1));
    for (let i = 0; i < 50 && pushes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(pushes).toEqual([{ push: 'hello' }]);
    connection.close(true);
  });

  it('declares the link dead when a heartbeat goes unanswered', async () => {
    const h = hooks();
    const context = testClientContext(server.url, { pingIntervalMs: 50, pongTimeoutMs: 100 });
    const { connection } = await webSocketJsonClient<Reply>(context, options('p1', { heartbeat: () => ({ op: 'ping' }) })).connect(h);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.onLinkLost).not.toHaveBeenCalled(); // answered pings keep it alive
    const silent = testClientContext(server.url, { pingIntervalMs: 50, pongTimeoutMs: 100 });
    const h2 = hooks();
    await webSocketJsonClient<Reply>(silent, options('p2', { heartbeat: () => ({ op: 'hold' }) })).connect(h2);
    for (let i = 0; i < 50 && h2.onLinkLost.mock.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(h2.onLinkLost).toHaveBeenCalledWith('pong timeout');
    connection.close(true);
  });
});
