/**
 * Toxiproxy adds a little latency even without toxics (~0.4 ms in its own benchmark); each run
 * measures it with WebSocket ping/pong through the proxy and straight to the backend. The ping is
 * the reference protocol's JSON `{ t: 'ping' }`; a backend that does not answer it gets no baseline.
 */
import WebSocket from 'ws';

async function medianPingMs(url: string, samples: number, timeoutMs: number): Promise<number> {
  const socket = new WebSocket(url);
  const deadline = setTimeout(() => socket.terminate(), timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`closed before open: ${url}`)));
    });
    const times: number[] = [];
    let pending: { id: number; resolve: () => void; reject: (error: Error) => void } | undefined;
    socket.on('message', (data: WebSocket.RawData) => {
      // A backend with another protocol (a Colyseus room, binary frames) answers something else:
      // not a pong. It usually closes the socket next, and the measurement is reported as missing.
      let message: { t?: string; id?: number } | undefined;
      try {
        message = JSON.parse(data.toString()) as { t?: string; id?: number };
      } catch {
        return;
      }
      if (message?.t === 'pong' && pending && message.id === pending.id) pending.resolve();
    });
    socket.on('close', () => pending?.reject(new Error('closed during ping')));
    for (let id = 1; id <= samples; id++) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        pending = { id, resolve, reject };
        socket.send(JSON.stringify({ t: 'ping', id }));
      });
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  } finally {
    clearTimeout(deadline);
    socket.removeAllListeners();
    socket.on('error', () => undefined);
    socket.close();
  }
}

export interface ProxyBaseline {
  directMs: number;
  proxiedMs: number;
  /** What the proxy adds: proxied - direct, median of `samples` round trips each. */
  addedMs: number;
}

export async function measureProxyBaseline(proxiedUrl: string, directUrl: string, samples = 30, timeoutMs = 5000): Promise<ProxyBaseline> {
  const directMs = await medianPingMs(directUrl, samples, timeoutMs);
  const proxiedMs = await medianPingMs(proxiedUrl, samples, timeoutMs);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return { directMs: round(directMs), proxiedMs: round(proxiedMs), addedMs: round(proxiedMs - directMs) };
}
