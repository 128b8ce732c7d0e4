import fs from 'node:fs';
import { isListening } from '../stack/ports';
import { nftTableExists } from './kernel-faults';
import { defaultRegistry } from './registry';
import { connect, startTestStack, tcpRoundTrip, type TestStack } from './testing/test-stack';
import { ToxiproxyApi } from '../stack/toxiproxy-api';

async function inject(t: TestStack, type: string, params: Record<string, unknown>, signal = new AbortController().signal) {
  return defaultRegistry.get(type).inject(t.target, defaultRegistry.parse(type, params), signal);
}

/** How many of n parallel connects fail within timeoutMs (a dropped SYN retries only after 1 s). */
async function failedConnects(hostPort: string, n: number, timeoutMs: number): Promise<number> {
  const results = await Promise.allSettled(Array.from({ length: n }, () => connect(hostPort, timeoutMs).then((socket) => socket.destroy())));
  return results.filter((result) => result.status === 'rejected').length;
}

const processState = (pid: number) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
};

describe('kernel and process faults (real processes, real nftables)', () => {
  let t: TestStack;
  let backendAddress: string;

  beforeAll(async () => {
    t = await startTestStack({ toxiproxy: true });
    backendAddress = `127.0.0.1:${t.stack.backend.wsPort}`;
  });
  afterAll(async () => {
    await t?.stop();
  });
  afterEach(() => {
    expect(t.debris.list()).toEqual([]);
  });

  it('kernel-packet-loss drops about `percent` % of SYNs to the port, and its table is gone after heal', async () => {
    expect(await failedConnects(backendAddress, 40, 400)).toBe(0);
    const handle = await inject(t, 'kernel-packet-loss', { target: 'backend', percent: 50, direction: 'to-port' });
    const table = String(handle.observations?.table);
    expect(await nftTableExists(table)).toBe(true);
    expect(t.debris.list().map((d) => d.item)).toEqual([{ kind: 'nft-table', family: 'inet', table }]);
    const failed = await failedConnects(backendAddress, 40, 400).finally(() => handle.heal());
    await handle.heal();
    expect(await nftTableExists(table)).toBe(false);
    expect(failed).toBeGreaterThanOrEqual(8); // binomial(40, 0.5): 8..32 holds with p > 0.9999
    expect(failed).toBeLessThanOrEqual(32);
    expect(Number(handle.observations?.packetsHit)).toBeGreaterThan(0);
    expect(await failedConnects(backendAddress, 40, 400)).toBe(0);
  });

  it('kernel-packet-loss with reject resets every connection on a link port at 100 %', async () => {
    const listen = t.stack.links['bots-backend'].listen;
    const handle = await inject(t, 'kernel-packet-loss', { target: 'bots-backend', percent: 100, action: 'reject' });
    const error = await connect(listen, 1000).then(
      (socket) => (socket.destroy(), 'connected'),
      (e: NodeJS.ErrnoException) => e.code ?? e.message,
    );
    await handle.heal();
    expect(error).toBe('ECONNREFUSED');
    expect(await tcpRoundTrip(listen)).toBeLessThan(100);
  });

  it('backend-crash kills the process, restarts it after `downtime` and reports the downtime', async () => {
    const pidBefore = t.stack.backend.pid;
    const handle = await inject(t, 'backend-crash', { downtime: '400ms' });
    expect(t.stack.backend.isRunning()).toBe(false);
    expect(await isListening(t.stack.backend.wsPort)).toBe(false);
    for (let i = 0; i < 100 && !t.stack.backend.isRunning(); i++) await new Promise((r) => setTimeout(r, 50));
    await handle.heal();
    expect(t.stack.backend.isRunning()).toBe(true);
    expect(t.stack.backend.pid).not.toBe(pidBefore);
    expect(Number(handle.observations?.downtimeMs)).toBeGreaterThanOrEqual(400);
    expect(Number(handle.observations?.downtimeMs)).toBeLessThan(5000);
    expect(await tcpRoundTrip(backendAddress)).toBeLessThan(100);
  });

  it('backend-crash without restart stays down until heal', async () => {
    const handle = await inject(t, 'backend-crash', { restart: false, downtime: 100 });
    await new Promise((r) => setTimeout(r, 300));
    expect(t.stack.backend.isRunning()).toBe(false);
    await handle.heal();
    expect(t.stack.backend.isRunning()).toBe(true);
    expect(Number(handle.observations?.downtimeMs)).toBeGreaterThanOrEqual(300);
  });

  it('backend-restart stops gracefully and is back with a new pid when inject returns', async () => {
    const pidBefore = t.stack.backend.pid;
    const handle = await inject(t, 'backend-restart', {});
    expect(t.stack.backend.isRunning()).toBe(true);
    expect(t.stack.backend.pid).not.toBe(pidBefore);
    expect(Number(handle.observations?.downtimeMs)).toBeGreaterThan(0);
    await handle.heal();
  });

  it('backend-pause freezes the process (state T, no echo) and SIGCONT on heal', async () => {
    const pid = t.stack.backend.pid as number;
    const handle = await inject(t, 'backend-pause', {});
    expect(processState(pid)).toBe('T');
    await expect(tcpRoundTrip(backendAddress, 'ping\n', 500)).rejects.toThrow(/no echo/);
    await handle.heal();
    expect(processState(pid)).not.toBe('T');
    expect(await tcpRoundTrip(backendAddress)).toBeLessThan(100);
  });

  it('toxiproxy-restart drops proxied connections and the proxies come back', async () => {
    const listen = t.stack.links['bots-backend'].listen;
    const socket = await connect(listen);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => undefined);
    const handle = await inject(t, 'toxiproxy-restart', {});
    await closed;
    expect(Object.keys(await new ToxiproxyApi(t.stack.toxiproxy.apiUrl).proxies()).sort()).toEqual(['bots-backend', 'bots-backend-v6']);
    expect(await tcpRoundTrip(listen)).toBeLessThan(100);
    expect(Number(handle.observations?.downtimeMs)).toBeGreaterThan(0);
  });
});
