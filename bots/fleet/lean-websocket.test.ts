/**
 * LeanWebSocket against real servers on loopback (a `ws` server, and raw TCP servers that break
 * the protocol): each case runs with `ws`'s client too, and both must report the same events.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { WebSocketServer } from 'ws';
import type { WebSocketLike } from '../../core/websocket-like';
import { LeanWebSocket } from './lean-websocket';

type Client = 'lean' | 'ws';
const CLIENTS: Client[] = ['lean', 'ws'];

function open(client: Client, url: string): WebSocketLike {
  return client === 'lean' ? new LeanWebSocket(url) : new WebSocket(url, { perMessageDeflate: false });
}

/** Every event the client reports, in order, until it closes (or `timeoutMs`). */
function watch(socket: WebSocketLike, onOpen: (socket: WebSocketLike) => void = () => undefined, timeoutMs = 5000): Promise<string[]> {
  const events: string[] = [];
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve([...events, 'timeout']), timeoutMs);
    socket.onopen = () => {
      events.push('open');
      onOpen(socket);
    };
    socket.onmessage = (event) => events.push(typeof event.data === 'string' ? `text ${event.data.length > 40 ? `${event.data.length} chars` : event.data}` : `binary ${(event.data as Buffer).length} bytes`);
    socket.onerror = (error) => events.push(`error ${(error as Error).message ?? error}`);
    socket.onclose = (event) => {
      events.push(`close ${event.code}${event.reason ? ` ${event.reason}` : ''}`);
      clearTimeout(timer);
      resolve(events);
    };
  });
}

async function listen(server: net.Server | http.Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as net.AddressInfo).port;
}

let servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const server of servers) server.close();
  servers = [];
});

/** A `ws` server; `onConnection` plays the server's side of each case. */
async function wsServer(onConnection: (socket: WebSocket, request: http.IncomingMessage) => void, host = '127.0.0.1'): Promise<string> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', onConnection);
  const port = await listen(server, host);
  servers.push({ close: () => (wss.clients.forEach((client) => client.terminate()), wss.close(), server.close()) });
  return host.includes(':') ? `ws://[${host}]:${port}` : `ws://${host}:${port}`;
}

/** A raw TCP server that answers the upgrade (correctly unless `accept` is given) and then writes `after`. */
async function rawServer(after: (socket: net.Socket) => void, accept?: string): Promise<string> {
  const server = net.createServer((socket) => {
    let head = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const key = /sec-websocket-key: (\S+)/i.exec(head)?.[1] ?? '';
      const expected = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept ?? expected}\r\n\r\n`);
      after(socket);
    });
  });
  const port = await listen(server);
  servers.push(server);
  return `ws://127.0.0.1:${port}`;
}

test.each(CLIENTS)('%s: text and binary of every length encoding both ways, the path and query reach the server, over IPv4 and IPv6', async (client) => {
  for (const host of ['127.0.0.1', '::1']) {
    const paths: string[] = [];
    const url = await wsServer((socket, request) => {
      paths.push(request.url ?? '');
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    }, host);
    const sizes = [5, 200, 70_000];
    const events = await watch(open(client, `${url}/play?bot=7`), (socket) => {
      for (const size of sizes) socket.send('é'.repeat(size / 2));
      for (const size of sizes) (socket.send as unknown as (data: Buffer) => void).call(socket, Buffer.alloc(size, 7));
      setTimeout(() => socket.close(1000, 'done'), 300);
    });
    expect(events).toEqual(['open', 'text éé', 'text 100 chars', 'text 35000 chars', 'binary 5 bytes', 'binary 200 bytes', 'binary 70000 bytes', 'close 1000 done']);
    expect(paths).toEqual(['/play?bot=7']);
  }
});

test.each(CLIENTS)('%s: a fragmented message arrives whole, a ping is answered with its payload, and the server\'s close code and reason are reported', async (client) => {
  const pongs: string[] = [];
  const url = await wsServer((socket) => {
    socket.on('pong', (data) => pongs.push(data.toString()));
    socket.send('hel', { fin: false });
    socket.send('lo ', { fin: false });
    socket.send('world', { fin: true });
    socket.ping('are you there');
    setTimeout(() => socket.close(4001, 'bye'), 200);
  });
  expect(await watch(open(client, url))).toEqual(['open', 'text hello world', 'close 4001 bye']);
  expect(pongs).toEqual(['are you there']);
});

test.each(CLIENTS)('%s: our close reaches the server with its code; terminate() is an abnormal close (1006) on both sides', async (client) => {
  const seen: string[] = [];
  const url = await wsServer((socket) => socket.on('close', (code, reason) => seen.push(`${code} ${reason.toString()}`)));
  expect(await watch(open(client, url), (socket) => socket.close(4000, 'leaving'))).toEqual(['open', 'close 4000 leaving']);
  expect(await watch(open(client, url), (socket) => socket.terminate?.())).toEqual(['open', 'close 1006']);
  for (let i = 0; i < 50 && seen.length < 2; i++) await sleep(20);
  expect(seen).toEqual(['4000 leaving', '1006 ']);
});

test.each(CLIENTS)('%s: refusals before the upgrade are an error, then close 1006', async (client) => {
  const refusing = http.createServer((_request, response) => response.writeHead(403).end('no'));
  const refusingPort = await listen(refusing);
  servers.push(refusing);
  expect(await watch(open(client, `ws://127.0.0.1:${refusingPort}`))).toEqual(['error Unexpected server response: 403', 'close 1006']);

  const closed = net.createServer();
  const closedPort = await listen(closed);
  closed.close(); // nothing listens there now
  expect(await watch(open(client, `ws://127.0.0.1:${closedPort}`))).toEqual([`error connect ECONNREFUSED 127.0.0.1:${closedPort}`, 'close 1006']);

  expect(await watch(open(client, await rawServer(() => undefined, 'not-the-hash')))).toEqual(['error Invalid Sec-WebSocket-Accept header', 'close 1006']);
});

test.each(CLIENTS)('%s: closing while connecting is an error then close 1006, and a send before open throws', async (client) => {
  const url = await wsServer(() => undefined);
  const socket = open(client, url);
  expect(() => socket.send('too early')).toThrow(/not open: readyState 0/);
  const events = watch(socket);
  socket.close();
  expect(await events).toEqual(['error WebSocket was closed before the connection was established', 'close 1006']);
});

test.each(CLIENTS)('%s: frames split byte by byte are read, and a connection dropped mid-frame is close 1006 without an error', async (client) => {
  const frame = Buffer.concat([Buffer.from([0x81, 126, 0, 130]), Buffer.alloc(130, 'x')]);
  const url = await rawServer((socket) => {
    void (async () => {
      for (const byte of frame) {
        socket.write(Buffer.from([byte]));
        await sleep(1);
      }
      socket.write(Buffer.from([0x81, 10, 0x61])); // a frame promising 10 bytes, with 1
      await sleep(50);
      socket.destroy();
    })();
  });
  expect(await watch(open(client, url))).toEqual(['open', 'text 130 chars', 'close 1006']);
});

test.each(CLIENTS)('%s: a server breaking the protocol (a masked frame) is an error and the connection ends', async (client) => {
  const url = await rawServer((socket) => socket.write(Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61])));
  const events = await watch(open(client, url));
  expect(events[0]).toBe('open');
  expect(events[1]).toBe('error Invalid WebSocket frame: MASK must be clear');
  expect(events.slice(2)).toEqual(['close 1006']); // the server never answers our close frame (1002)
});

/** A server frame (unmasked, FIN) with `payload`. */
function serverFrame(opcode: number, payload: Buffer): Buffer {
  const header = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

test.each(CLIENTS)('%s: frames that came with the upgrade are read even when onopen closes at once', async (client) => {
  const closeFrame = Buffer.from([0x03, 0xe8]); // 1000
  const url = await rawServer((socket) => socket.write(Buffer.concat([serverFrame(0x1, Buffer.from('hi')), serverFrame(0x1, Buffer.from('hello')), serverFrame(0x8, closeFrame)])));
  expect(await watch(open(client, url), (socket) => socket.close())).toEqual(['open', 'text hi', 'text hello', 'close 1000']);
});

test.each(CLIENTS)('%s: a close() from the error handler while connecting reports one error, not two', async (client) => {
  const closed = net.createServer();
  const port = await listen(closed);
  closed.close();
  const socket = open(client, `ws://127.0.0.1:${port}`);
  const events = watch(socket);
  const report = socket.onerror!;
  socket.onerror = (error) => {
    report(error);
    socket.close();
  };
  expect(await events).toEqual([`error connect ECONNREFUSED 127.0.0.1:${port}`, 'close 1006']);
});

test.each(CLIENTS)('%s: a text message that is not UTF-8, or a close code no peer may send, fails the connection', async (client) => {
  const badText = await rawServer((socket) => socket.write(serverFrame(0x1, Buffer.from([0x61, 0xff, 0xfe]))));
  const textEvents = await watch(open(client, badText));
  expect(textEvents).toEqual(['open', 'error Invalid WebSocket frame: invalid UTF-8 sequence', 'close 1006']);
  const badCode = await rawServer((socket) => socket.write(serverFrame(0x8, Buffer.from([0x03, 0xed])))); // 1005: never sent on the wire
  const codeEvents = await watch(open(client, badCode));
  expect(codeEvents).toEqual(['open', 'error Invalid WebSocket frame: invalid status code 1005', 'close 1006']);
});

test.each(CLIENTS)('%s: close() refuses a code no peer may send and a reason over 123 bytes, and a 4 MB frame in 64 KB reads arrives whole', async (client) => {
  const big = Buffer.alloc(4 * 1024 * 1024, 'b');
  const url = await rawServer((socket) => {
    const frame = Buffer.concat([Buffer.from([0x82, 127, 0, 0, 0, 0]), Buffer.from([(big.length >>> 24) & 0xff, (big.length >>> 16) & 0xff, (big.length >>> 8) & 0xff, big.length & 0xff]), big]);
    void (async () => {
      for (let at = 0; at < frame.length; at += 65_536) {
        socket.write(frame.subarray(at, at + 65_536));
        await sleep(0);
      }
    })();
  });
  const socket = open(client, url);
  const events = watch(socket, () => undefined, 10_000);
  const received = await new Promise<number>((resolve) => {
    const report = socket.onmessage!;
    socket.onmessage = (event) => {
      report(event);
      resolve((event.data as Buffer).length);
    };
  });
  expect(received).toBe(big.length);
  expect(() => socket.close(1005)).toThrow(TypeError);
  expect(() => socket.close(1000, 'x'.repeat(124))).toThrow(RangeError);
  socket.terminate?.();
  expect(await events).toEqual(['open', 'binary 4194304 bytes', 'close 1006']);
});

test('LeanWebSocket refuses wss:// (that stays on ws) and reports the socket gone once, before onclose', async () => {
  expect(() => new LeanWebSocket('wss://127.0.0.1:1')).toThrow(/ws:\/\/ only/);
  const url = await wsServer((socket) => socket.close(1000));
  const order: string[] = [];
  const socket = new LeanWebSocket(url, { onGone: () => order.push('gone') });
  await new Promise<void>((resolve) => (socket.onclose = () => (order.push('close'), resolve())));
  expect(order).toEqual(['gone', 'close']);
  expect(socket.readyState).toBe(3);
});
