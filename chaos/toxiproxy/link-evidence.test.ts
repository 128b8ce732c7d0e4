/** The link's byte evidence on real loopback sockets: a connection that closes while the toxic is on still counts. */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { bytesBetween, socketBytes, watchSocketBytes } from './link-evidence';

test('a connection that carried data and closed before the heal counts in the watch, not in two snapshots', async () => {
  const server = net.createServer((socket) => socket.resume());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const client = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', resolve));
    const before = await socketBytes(port);
    const watch = await watchSocketBytes(port, 100);
    await new Promise<void>((resolve) => client.write(Buffer.alloc(20_000, 1), () => resolve()));
    await sleep(400); // a few readings while it is open
    client.destroy();
    await sleep(200);
    const carried = await watch.stop();
    expect(carried).toBeGreaterThanOrEqual(20_000);
    // The old way (one reading at the start, one at the heal) sees nothing: the socket is gone by then.
    expect(bytesBetween(before!, (await socketBytes(port))!)).toBe(0);
  } finally {
    server.close();
  }
});
