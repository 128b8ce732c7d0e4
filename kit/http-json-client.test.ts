/** The HTTP JSON helper against a tiny real http server on loopback. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LoginError, type ActionCall } from '../core/game';
import { httpJsonClient, type HttpJsonOptions } from './http-json-client';
import { testClientContext } from './testing';

type Body = { value?: number; error?: string };

function startServer(): Promise<{ url: string; close(): Promise<void> }> {
  let total = 0;
  const server = http.createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const body = text ? (JSON.parse(text) as { player?: string; by?: number }) : {};
      const json = (status: number, value: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (request.url === '/login') return body.player === 'banned' ? json(403, { error: 'banned' }) : json(200, { lastSeq: 9 });
      if (request.url === '/add') return json(200, { value: (total += body.by ?? 0) });
      if (request.url === '/busy') return json(503, { error: 'busy' });
      if (request.url === '/slow') return void setTimeout(() => json(200, {}), 2000).unref();
      json(404, { error: 'no such route' });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }) })));
}

const options = (player = 'p1', extra: Partial<HttpJsonOptions<Body>> = {}): HttpJsonOptions<Body> => ({
  login: () => ({ path: '/login', body: { player } }),
  loginResult: (reply) => (reply.status === 200 ? { lastSeq: (reply.body as { lastSeq: number }).lastSeq } : { refused: reply.body.error ?? `HTTP ${reply.status}` }),
  request: (call) => ({ path: `/${call.name}`, body: { player, seq: call.seq, ...(call.params as object) } }),
  classify: (reply) => (reply.status === 200 ? { type: 'ok', value: reply.body.value } : { type: reply.status === 503 ? 'fail' : 'info', error: reply.body?.error ?? `HTTP ${reply.status}` }),
  ...extra,
});
const call = (name: string, seq: number, params: unknown = {}): ActionCall => ({ name, params, seq, resend: false });
const hooks = () => ({ resume: false, onLoginSent: jest.fn(), onLinkLost: jest.fn() });

describe('httpJsonClient', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeEach(async () => (server = await startServer()));
  afterEach(() => server.close());

  it('logs in with a call and sends one request per action', async () => {
    const h = hooks();
    const { login, connection } = await httpJsonClient<Body>(testClientContext(server.url), options()).connect(h);
    expect(login.lastSeq).toBe(9);
    expect(h.onLoginSent).toHaveBeenCalledTimes(1);
    expect(await connection.invoke(call('add', 1, { by: 2 }))).toEqual({ type: 'ok', value: 2 });
    expect(await connection.invoke(call('busy', 2))).toEqual({ type: 'fail', error: 'busy' });
  });

  it('starts logged in when the backend has no login', async () => {
    const { login, connection } = await httpJsonClient<Body>(testClientContext(server.url), options('p1', { login: undefined })).connect(hooks());
    expect(login).toEqual({});
    expect(await connection.invoke(call('add', 1, { by: 1 }))).toMatchObject({ type: 'ok' });
  });

  it('turns a refused login into LoginError fail and an unreachable server into info', async () => {
    const refused = await httpJsonClient<Body>(testClientContext(server.url), options('banned')).connect(hooks()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LoginError);
    expect(refused).toMatchObject({ type: 'fail', message: 'banned' });
    const url = server.url;
    await server.close();
    const unreachable = await httpJsonClient<Body>(testClientContext(url), options()).connect(hooks()).catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ type: 'info', message: expect.stringMatching(/^login: /) });
    server = await startServer();
  });

  it('makes a request that outlives its timeout, or is cut by close, info', async () => {
    const { connection } = await httpJsonClient<Body>(testClientContext(server.url, { actionTimeoutMs: 100 }), options()).connect(hooks());
    expect(await connection.invoke(call('slow', 1))).toEqual({ type: 'info', error: 'request timeout' });
    const { connection: second } = await httpJsonClient<Body>(testClientContext(server.url), options()).connect(hooks());
    const cut = second.invoke(call('slow', 2));
    second.close(false, 'stopped');
    expect(await cut).toEqual({ type: 'info', error: 'closed' });
  });
});
