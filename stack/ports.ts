import net from 'node:net';

/** Ports handed out lately, and when: the kernel may offer a port again before its taker binds it. */
const handedOut = new Map<number, number>();
const HOLD_MS = 120_000;

function askKernel(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Asks the kernel for a free loopback port, never one this process handed out in the last two
 * minutes (a run reserves ports before their owners bind them). Another process may still take it
 * before we bind: callers retry.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const now = Date.now();
  for (const [port, at] of handedOut) if (now - at > HOLD_MS) handedOut.delete(port);
  let port = await askKernel(host);
  for (let tries = 0; handedOut.has(port) && tries < 20; tries++) port = await askKernel(host);
  handedOut.set(port, now);
  return port;
}

/** True when something accepts TCP connections on host:port. */
export async function isListening(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
