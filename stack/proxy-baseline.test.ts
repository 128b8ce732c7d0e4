import { WebSocketServer } from 'ws';
import net from 'node:net';
import { measureProxyBaseline } from './proxy-baseline';

/** A pong server and a TCP relay in front of it that delays every chunk by 5 ms: the "proxy". */
describe('measureProxyBaseline', () => {
  it('reports what the relay adds to a WebSocket ping round trip', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(JSON.stringify({ t: 'pong', id: JSON.parse(data.toString()).id }))));
    const wsPort = (wss.address() as net.AddressInfo).port;
    const relay = net.createServer((client) => {
      const upstream = net.connect(wsPort, '127.0.0.1');
      client.on('data', (chunk) => setTimeout(() => upstream.write(chunk), 5));
      upstream.on('data', (chunk) => client.write(chunk));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayPort = (relay.address() as net.AddressInfo).port;
    try {
      const baseline = await measureProxyBaseline(`ws://127.0.0.1:${relayPort}`, `ws://127.0.0.1:${wsPort}`, 10);
      expect(baseline.directMs).toBeLessThan(baseline.proxiedMs);
      expect(baseline.addedMs).toBeGreaterThanOrEqual(4);
    } finally {
      relay.close();
      wss.close();
    }
  });
});
