import fs from 'node:fs';
import { isListening } from '../../stack/ports';
import { defaultRegistry } from '../registry';
import { connect, startTestStack, tcpRoundTrip, type TestStack } from '../testing/test-stack';
import { ToxiproxyApi } from '../../stack/toxiproxy-api';

async function inject(t: TestStack, type: string, params: Record<string, unknown>, signal = new AbortController().signal) {
  return defaultRegistry.get(type).inject(t.target, defaultRegistry.parse(type, params), signal);
}

const processState = (pid: number) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
};

describe('process faults (real processes)', () => {
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
    expect(defaultRegistry.get('backend-crash').judge({ params: {}, observations: handle.observations! })).toMatchObject({ bit: true, effect: expect.stringMatching(/^backend down \d+ ms \(pid \d+ → pid \d+\)$/) });
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
