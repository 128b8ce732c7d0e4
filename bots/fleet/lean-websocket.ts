/**
 * The fleet's WebSocket client for ws:// URLs (RFC 6455): one net.Socket, the upgrade written by
 * hand and a frame parser, with no http.ClientRequest and no Receiver/Sender streams. An open `ws`
 * socket held 3.5 KB of heap and 13–15 KB of RSS, this one 1.8 KB and 5.7 KB (4 000 idle sockets
 * each; the bots bench's memory part compares whole bots on both), and a bot holds one for its session.
 * It behaves as `ws` does where the bots can tell: the same events in the same order, close codes,
 * and a `terminate()`; wss:// and anything it does not speak stay on `ws` (bot-host.ts).
 */
import { isUtf8 } from 'node:buffer';
import crypto from 'node:crypto';
import net from 'node:net';
import type { CloseEventLike, MessageEventLike, WebSocketLike } from '../../core/websocket-like';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** As ws: a server that never answers our close frame loses the connection after this long. */
const CLOSE_TIMEOUT_MS = 30_000;
/** As ws's maxPayload: a larger message fails the connection (1009) instead of buffering without end. */
const MAX_PAYLOAD_BYTES = 100 * 1024 * 1024;
const MAX_HANDSHAKE_BYTES = 16 * 1024;
const NO_STATUS = 1005;
const ABNORMAL = 1006;
/** Close codes a peer may send (RFC 6455 7.4): 1000–1003, 1007–1014, and 3000–4999. */
const isSendableCloseCode = (code: number): boolean => (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);

type BinaryData = Buffer | ArrayBuffer | ArrayBufferView;
type Listener<E> = ((event: E) => void) | null;

/** Random mask keys, 2 048 at a time: a fresh key per frame, as the RFC asks, without a syscall per frame. */
let maskPool = Buffer.alloc(0);
let maskOffset = 0;
function writeMaskKey(into: Buffer, at: number): void {
  if (maskOffset + 4 > maskPool.length) {
    maskPool = crypto.randomFillSync(Buffer.allocUnsafe(8192));
    maskOffset = 0;
  }
  maskPool.copy(into, at, maskOffset, maskOffset + 4);
  maskOffset += 4;
}

/** One masked frame in one buffer (a client's frames are always masked). */
function encodeFrame(opcode: number, payload: string | Buffer): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const start = 2 + lengthBytes + 4;
  const frame = Buffer.allocUnsafe(start + length);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 0) frame[1] = 0x80 | length;
  else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  writeMaskKey(frame, start - 4);
  if (typeof payload === 'string') frame.write(payload, start, 'utf8');
  else payload.copy(frame, start);
  for (let i = 0; i < length; i++) frame[start + i] ^= frame[start - 4 + (i & 3)];
  return frame;
}

function asBuffer(data: BinaryData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

const OWNER = Symbol('lagstorm.leanWebSocket');
type OwnedSocket = net.Socket & { [OWNER]: LeanWebSocket };

// Shared handlers (the socket points back to its owner): no closures per connection.
function onSocketConnect(this: OwnedSocket): void {
  this[OWNER].sendUpgrade();
}
function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[OWNER].receive(chunk);
}
function onSocketEnd(this: OwnedSocket): void {
  this[OWNER].socketEnded();
}
function onSocketError(this: OwnedSocket, error: Error): void {
  this[OWNER].socketError(error);
}
function onSocketClose(this: OwnedSocket): void {
  this[OWNER].socketClosed();
}

export interface LeanWebSocketOptions {
  /** Called once when the connection is gone, before `onclose` (the fleet's set of open sockets). */
  onGone?: (socket: LeanWebSocket) => void;
}

export class LeanWebSocket implements WebSocketLike {
  readyState = CONNECTING;
  onopen: Listener<unknown> = null;
  onmessage: Listener<MessageEventLike> = null;
  onclose: Listener<CloseEventLike> = null;
  onerror: Listener<unknown> = null;

  private readonly socket: OwnedSocket;
  /** The upgrade's key while the handshake runs; then undefined. */
  private key: string | undefined;
  private readonly hostHeader: string;
  private readonly path: string;
  /** Reads not parsed yet (a frame or the handshake split across reads), and how many bytes it takes to go on. */
  private unread: Buffer[] | undefined;
  private unreadBytes = 0;
  private unreadNeeds = 0;
  private fragments: Buffer[] | undefined;
  private fragmentsBytes = 0;
  private fragmentsOpcode = 0;
  private closeSent = false;
  private closeReceived: CloseEventLike | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  /** No more frames are read: the server's close frame came, or it broke the protocol. */
  private readingDone = false;

  constructor(
    url: string,
    private readonly options: LeanWebSocketOptions = {},
  ) {
    const target = new URL(url);
    if (target.protocol !== 'ws:') throw new SyntaxError(`LeanWebSocket speaks ws:// only, not ${target.protocol}//`);
    this.hostHeader = target.host;
    this.path = `${target.pathname || '/'}${target.search}`;
    this.key = crypto.randomBytes(16).toString('base64');
    const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
    this.socket = net.connect({ host, port: Number(target.port || 80), noDelay: true }) as OwnedSocket;
    this.socket[OWNER] = this;
    // `on`, not `once`, for events a socket emits once at most: a once-wrapper is kept for the socket's life (about 130 B each).
    this.socket.once('connect', onSocketConnect);
    this.socket.on('data', onSocketData);
    this.socket.on('end', onSocketEnd);
    this.socket.on('error', onSocketError);
    this.socket.on('close', onSocketClose);
  }

  send(data: string | BinaryData): void {
    if (this.readyState === CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (this.readyState !== OPEN) return; // as ws: a send after close is dropped
    this.socket.write(typeof data === 'string' ? encodeFrame(0x1, data) : encodeFrame(0x2, asBuffer(data)));
  }

  close(code?: number, reason?: string): void {
    if (code !== undefined && !isSendableCloseCode(code)) throw new TypeError(`First argument must be a valid error code number, not ${code}`);
    if (reason !== undefined && Buffer.byteLength(reason) > 123) throw new RangeError('The message must not be greater than 123 bytes');
    if (this.readyState === CLOSED) return;
    if (this.readyState === CONNECTING) return this.abort('WebSocket was closed before the connection was established');
    if (this.closeSent) return;
    this.sendClose(code, reason);
    if (this.closeReceived) this.socket.end();
  }

  terminate(): void {
    if (this.readyState === CLOSED) return;
    if (this.readyState === CONNECTING) return this.abort('WebSocket was closed before the connection was established');
    this.readyState = CLOSING;
    this.socket.destroy();
  }

  /** @internal the TCP connection is up: ask for the upgrade. */
  sendUpgrade(): void {
    this.socket.write(`GET ${this.path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${this.key}\r\n\r\n`);
  }

  /** @internal Reads are kept until they hold what the parser asked for: a large frame is copied once, not once per read. */
  receive(chunk: Buffer): void {
    let bytes = chunk;
    if (this.unread) {
      this.unread.push(chunk);
      this.unreadBytes += chunk.length;
      if (this.unreadBytes < this.unreadNeeds) return;
      bytes = Buffer.concat(this.unread, this.unreadBytes);
      this.unread = undefined;
    }
    if (this.readyState === CONNECTING) this.readHandshake(bytes);
    else this.readFrames(bytes, 0);
  }

  /** @internal the server ended its side without a close frame: no more sends. */
  socketEnded(): void {
    if (this.readyState === OPEN) this.readyState = CLOSING;
  }

  /** @internal as ws: a network error is an error event only while connecting; after that it is a close (1006). */
  socketError(error: Error): void {
    const connecting = this.readyState === CONNECTING;
    this.readyState = CLOSING; // first: a close() from the handler must not report a second error
    if (connecting) this.onerror?.(error);
  }

  /** @internal */
  socketClosed(): void {
    if (this.readyState === CLOSED) return; // a net.Socket emits 'close' once; this keeps onclose once if that ever changed
    if (this.readyState === CONNECTING) {
      this.readyState = CLOSING;
      this.onerror?.(new Error('socket hang up')); // closed before any upgrade response, as ws reports it
    }
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.readyState = CLOSED;
    this.unread = undefined;
    this.fragments = undefined;
    this.options.onGone?.(this);
    const received = this.closeReceived;
    this.onclose?.({ code: received ? received.code : ABNORMAL, reason: received ? received.reason : '' });
  }

  private readHandshake(bytes: Buffer): void {
    const end = bytes.indexOf('\r\n\r\n');
    if (end < 0) {
      if (bytes.length > MAX_HANDSHAKE_BYTES) return this.abort(`the server's upgrade response is over ${MAX_HANDSHAKE_BYTES} bytes`);
      return this.keep(bytes, 0, bytes.length + 1);
    }
    const [statusLine, ...headerLines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1];
    if (status !== '101') return this.abort(`Unexpected server response: ${status ?? statusLine}`);
    const headers = new Map<string, string>();
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const accept = crypto.createHash('sha1').update(`${this.key}${ACCEPT_GUID}`).digest('base64');
    if (headers.get('upgrade')?.toLowerCase() !== 'websocket') return this.abort('Invalid Upgrade header');
    if (headers.get('sec-websocket-accept') !== accept) return this.abort('Invalid Sec-WebSocket-Accept header');
    if (headers.has('sec-websocket-protocol')) return this.abort('Server sent a subprotocol but none was requested');
    if (headers.has('sec-websocket-extensions')) return this.abort('Server sent a Sec-WebSocket-Extensions header but no extension was requested');
    this.key = undefined;
    this.readyState = OPEN;
    this.onopen?.({});
    if (end + 4 < bytes.length) this.readFrames(bytes, end + 4); // frames that came with the upgrade, even if onopen closed
  }

  private keep(bytes: Buffer, from: number, needs: number): void {
    this.unread = [from === 0 ? bytes : bytes.subarray(from)];
    this.unreadBytes = bytes.length - from;
    this.unreadNeeds = needs;
  }

  private readFrames(bytes: Buffer, from: number): void {
    let offset = from;
    while (!this.readingDone && !this.socket.destroyed) {
      const available = bytes.length - offset;
      if (available < 2) return this.keep(bytes, offset, 2);
      const first = bytes[offset];
      const second = bytes[offset + 1];
      const fin = (first & 0x80) !== 0;
      const opcode = first & 0x0f;
      let length = second & 0x7f;
      // Everything the header alone shows is checked before its payload is waited for.
      if (first & 0x70) return this.fail(1002, 'RSV bits set, but no extension was negotiated');
      if (second & 0x80) return this.fail(1002, 'MASK must be clear');
      if (opcode >= 0x8 && (!fin || length > 125)) return this.fail(1002, 'a control frame must be whole and at most 125 bytes');
      if (opcode !== 0x0 && opcode !== 0x1 && opcode !== 0x2 && opcode !== 0x8 && opcode !== 0x9 && opcode !== 0xa) return this.fail(1002, `invalid opcode ${opcode}`);
      let header = 2;
      if (length === 126) {
        if (available < 4) return this.keep(bytes, offset, 4);
        length = bytes.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (available < 10) return this.keep(bytes, offset, 10);
        length = bytes.readUInt32BE(offset + 2) * 2 ** 32 + bytes.readUInt32BE(offset + 6);
        header = 10;
      }
      if (length + (opcode === 0x0 ? this.fragmentsBytes : 0) > MAX_PAYLOAD_BYTES) return this.fail(1009, 'Max payload size exceeded');
      if (available < header + length) return this.keep(bytes, offset, header + length);
      const payload = bytes.subarray(offset + header, offset + header + length);
      offset += header + length;
      if (opcode >= 0x8) this.control(opcode, payload);
      else this.data(fin, opcode, payload);
    }
  }

  private data(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode === 0x0) {
      if (!this.fragments) return this.fail(1002, 'a continuation frame without a message to continue');
      this.fragments.push(payload);
      this.fragmentsBytes += payload.length;
      if (!fin) return;
      const whole = Buffer.concat(this.fragments, this.fragmentsBytes);
      this.fragments = undefined;
      this.fragmentsBytes = 0;
      return this.deliver(this.fragmentsOpcode, whole);
    }
    if (this.fragments) return this.fail(1002, 'a new message before the last one was finished');
    if (fin) return this.deliver(opcode, payload);
    this.fragments = [payload];
    this.fragmentsBytes = payload.length;
    this.fragmentsOpcode = opcode;
  }

  private control(opcode: number, payload: Buffer): void {
    if (opcode === 0x8) {
      if (payload.length === 1) return this.fail(1002, 'a close frame with a 1-byte body');
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : NO_STATUS;
      if (payload.length >= 2 && !isSendableCloseCode(code)) return this.fail(1002, `invalid status code ${code}`);
      if (!isUtf8(payload.subarray(2))) return this.fail(1007, 'invalid UTF-8 sequence');
      this.readingDone = true;
      this.closeReceived = { code, reason: payload.subarray(2).toString('utf8') };
      if (!this.closeSent) this.sendClose(code === NO_STATUS ? undefined : code, this.closeReceived.reason);
      this.socket.end();
      return;
    }
    if (opcode === 0x9 && this.readyState === OPEN) this.socket.write(encodeFrame(0xa, payload));
  }

  /** As ws: a text message that is not UTF-8 fails the connection (1007), so a server bug shows instead of U+FFFD. */
  private deliver(opcode: number, payload: Buffer): void {
    if (opcode === 0x1 && !isUtf8(payload)) return this.fail(1007, 'invalid UTF-8 sequence');
    this.onmessage?.({ data: opcode === 0x1 ? payload.toString('utf8') : Buffer.from(payload) });
  }

  private sendClose(code?: number, reason = ''): void {
    let body = Buffer.alloc(0);
    if (code !== undefined) {
      body = Buffer.alloc(2 + Buffer.byteLength(reason));
      body.writeUInt16BE(code, 0);
      body.write(reason, 2, 'utf8');
    }
    this.closeSent = true;
    this.readyState = CLOSING;
    if (!this.socket.destroyed) this.socket.write(encodeFrame(0x8, body));
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS);
    this.closeTimer.unref();
  }

  /** The server broke the protocol: as ws, our close frame with the code, an error event, and the connection ended. */
  private fail(code: number, message: string): void {
    this.readingDone = true;
    this.fragments = undefined;
    this.unread = undefined;
    if (!this.closeSent) this.sendClose(code);
    this.socket.end();
    this.onerror?.(new Error(`Invalid WebSocket frame: ${message}`)); // ws's wording
  }

  /** The handshake failed or was called off: an error event, then close (1006; the socket's close comes on a later tick). */
  private abort(message: string): void {
    this.readyState = CLOSING;
    this.socket.destroy();
    this.onerror?.(new Error(message));
  }
}
