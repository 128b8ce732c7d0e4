import type { LinkControl } from '../../stack/system-under-test';
import { defaultRegistry } from '../registry';
import { ToxiproxyApi } from '../../stack/toxiproxy-api';
import { connect, startTestStack, tcpRoundTrip, type TestStack } from '../testing/test-stack';

/** Injects a registered fault with params parsed as the nemesis does. */
async function inject(t: TestStack, type: string, params: Record<string, unknown>, signal = new AbortController().signal) {
  return defaultRegistry.get(type).inject(t.target, defaultRegistry.parse(type, params), signal);
}

function events(hostPort: string, send: string, timeoutMs: number): Promise<{ chunks: number; bytes: number; ms: number; closedBy?: string }> {
  return connect(hostPort).then(
    (socket) =>
      new Promise((resolve) => {
        const start = Date.now();
        let chunks = 0;
        let bytes = 0;
        const done = (closedBy?: string) => {
          clearTimeout(timer);
          socket.destroy();
          resolve({ chunks, bytes, ms: Date.now() - start, closedBy });
        };
        const timer = setTimeout(() => done(undefined), timeoutMs);
        socket.on('data', (data) => {
          chunks += 1;
          bytes += data.length;
        });
        socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'error'));
        socket.once('end', () => done('end'));
        socket.write(send);
      }),
  );
}

describe('toxiproxy faults (real toxiproxy-server v2.12.0)', () => {
  let t: TestStack;
  let api: ToxiproxyApi;
  let listen: string;

  beforeAll(async () => {
    t = await startTestStack({ toxiproxy: true });
    api = new ToxiproxyApi(t.stack.toxiproxy.apiUrl);
    listen = t.stack.links['bots-backend'].listen;
  });
  afterAll(async () => {
    await t?.stop();
  });
  afterEach(async () => {
    // Every test must leave the proxies clean; assert it, then reset for the next one.
    const proxies = await api.proxies();
    const leftovers = Object.values(proxies).flatMap((proxy) => proxy.toxics.map((toxic) => toxic.name));
    const disabled = Object.values(proxies).filter((proxy) => !proxy.enabled);
    await api.reset();
    expect(leftovers).toEqual([]);
    expect(disabled).toEqual([]);
    expect(t.debris.list()).toEqual([]);
  });

  it('latency adds the configured delay to a TCP round trip, per stream, and heals to the baseline', async () => {
    const baseline = Math.min(...(await Promise.all([0, 1, 2].map(() => tcpRoundTrip(listen)))));
    const handle = await inject(t, 'latency', { latency: 150, stream: 'downstream' });
    expect(t.debris.list().map((d) => d.item.kind)).toEqual(['toxiproxy-reset']);
    const toxics = await api.toxics('bots-backend');
    expect(toxics).toHaveLength(1);
    expect(toxics[0]).toMatchObject({ type: 'latency', stream: 'downstream', attributes: { latency: 150, jitter: 0 } });
    const slowed = await tcpRoundTrip(listen);
    await handle.heal();
    await handle.heal(); // idempotent
    expect(await api.toxics('bots-backend')).toEqual([]);
    const after = await tcpRoundTrip(listen);
    expect(slowed).toBeGreaterThanOrEqual(baseline + 140);
    expect(after).toBeLessThan(100);

    const both = await inject(t, 'latency', { latency: 100, stream: 'both' });
    const slowedBoth = await tcpRoundTrip(listen);
    await both.heal();
    expect(slowedBoth).toBeGreaterThanOrEqual(baseline + 190); // once each way
  });

  it('latency bit when a connection open through the link carried data: the kernel counted the bytes', async () => {
    const socket = await connect(listen);
    try {
      const handle = await inject(t, 'latency', { latency: 50 });
      const echoed = new Promise((resolve) => socket.once('data', resolve));
      socket.write('hello through the toxic\n'); // 24 bytes each way
      await echoed;
      await handle.heal();
      expect(handle.observations).toMatchObject({ proxy: 'bots-backend', streams: 'downstream', bytesThroughLink: 48 });
      expect(defaultRegistry.get('latency').judge({ params: defaultRegistry.parse('latency', { latency: 50 }), observations: handle.observations! })).toEqual({
        bit: true,
        effect: '48 B crossed bots-backend while delayed by 50 ms (downstream)',
      });
    } finally {
      socket.destroy();
    }
  });

  it('latency on a link nobody used did not bite: no byte crossed it while traffic went over the other link', async () => {
    const idle = await connect(t.stack.links['bots-backend-v6'].listen); // open, but silent
    const busy = await connect(listen);
    try {
      const handle = await inject(t, 'latency', { latency: 120, link: 'bots-backend-v6', stream: 'both' });
      const echoed = new Promise((resolve) => busy.once('data', resolve));
      busy.write('IPv4 only\n');
      await echoed;
      await handle.heal();
      expect(handle.observations).toMatchObject({ proxy: 'bots-backend-v6', streams: 'upstream+downstream', bytesThroughLink: 0 });
      const efficacy = defaultRegistry.get('latency').judge({ params: defaultRegistry.parse('latency', { latency: 120, link: 'bots-backend-v6' }), observations: handle.observations! });
      expect(efficacy).toEqual({ bit: false, effect: 'no data crossed bots-backend-v6 while the toxic was on' });
    } finally {
      idle.destroy();
      busy.destroy();
    }
  });

  it('latency on the IPv6 link slows [::1] and leaves IPv4 alone', async () => {
    const handle = await inject(t, 'latency', { latency: 120, link: 'bots-backend-v6' });
    try {
      expect(await tcpRoundTrip(t.stack.links['bots-backend-v6'].listen)).toBeGreaterThanOrEqual(110);
      expect(await tcpRoundTrip(listen)).toBeLessThan(100);
    } finally {
      await handle.heal();
    }
  });

  it('bandwidth limits throughput to about rate KB/s', async () => {
    const payload = 'x'.repeat(40 * 1024);
    const fast = await tcpRoundTrip(listen, payload);
    const handle = await inject(t, 'bandwidth', { rate: 50 });
    const slow = await tcpRoundTrip(listen, payload).finally(() => handle.heal());
    expect(fast).toBeLessThan(200);
    expect(slow).toBeGreaterThan(500); // 40 KB at 50 KB/s ≈ 800 ms
  });

  it('slow-close delays the close the server sends', async () => {
    const before = await events(listen, 'CLOSE\n', 3000);
    const handle = await inject(t, 'slow-close', { delay: 600 });
    const during = await events(listen, 'CLOSE\n', 3000).finally(() => handle.heal());
    expect(before.closedBy).toBe('end');
    expect(before.ms).toBeLessThan(200);
    expect(during.closedBy).toBe('end');
    expect(during.ms).toBeGreaterThanOrEqual(550);
  });

  it('timeout stops data and closes the connection after timeout ms', async () => {
    const handle = await inject(t, 'timeout', { timeout: 300 });
    const during = await events(listen, 'hello\n', 3000).finally(() => handle.heal());
    expect(during.bytes).toBe(0);
    expect(during.closedBy).toBeDefined();
    expect(during.ms).toBeGreaterThanOrEqual(250);
    expect(await tcpRoundTrip(listen)).toBeLessThan(100);
  });

  it('reset-peer resets connections', async () => {
    const handle = await inject(t, 'reset-peer', { timeout: 100 });
    const during = await events(listen, 'hello\n', 3000).finally(() => handle.heal());
    expect(during.closedBy).toBe('ECONNRESET');
  });

  it('slicer splits the echo into many small chunks', async () => {
    const payload = 'y'.repeat(200);
    const before = await events(listen, payload, 400);
    const handle = await inject(t, 'slicer', { average_size: 10, delay: 1000 });
    const during = await events(listen, payload, 800).finally(() => handle.heal());
    expect(before.chunks).toBeLessThanOrEqual(2);
    expect(during.bytes).toBe(200);
    expect(during.chunks).toBeGreaterThanOrEqual(10);
  });

  it('limit-data closes the connection after `bytes` bytes', async () => {
    const handle = await inject(t, 'limit-data', { bytes: 100 });
    const during = await events(listen, 'z'.repeat(1000), 2000).finally(() => handle.heal());
    expect(during.bytes).toBeLessThanOrEqual(100);
    expect(during.closedBy).toBeDefined();
  });

  it('link-down cuts the open connections (counted: its measured effect), refuses new ones until healed', async () => {
    const open = await Promise.all([connect(listen), connect(listen)]);
    const closed = Promise.all(open.map((socket) => new Promise((resolve) => socket.once('close', resolve))));
    await tcpRoundTrip(listen); // the proxy has accepted both before the cut
    const handle = await inject(t, 'link-down', {});
    expect((await api.proxy('bots-backend')).enabled).toBe(false);
    await closed;
    await expect(tcpRoundTrip(listen, 'ping\n', 1000)).rejects.toThrow();
    await handle.heal();
    expect((await api.proxy('bots-backend')).enabled).toBe(true);
    expect(await tcpRoundTrip(listen)).toBeLessThan(100);
    expect(handle.observations).toMatchObject({ connectionsCut: 2 });
    expect(defaultRegistry.get('link-down').judge({ params: defaultRegistry.parse('link-down', {}), observations: handle.observations! })).toEqual({ bit: true, effect: '2 open connections cut' });
  });

  it('link-down on a link with no open connection and no bots did not bite', async () => {
    const handle = await inject(t, 'link-down', { link: 'bots-backend-v6' });
    await handle.heal();
    expect(handle.observations).toMatchObject({ connectionsCut: 0 });
    expect(defaultRegistry.get('link-down').judge({ params: defaultRegistry.parse('link-down', { link: 'bots-backend-v6' }), observations: handle.observations! }).bit).toBe(false);
  });

  it('a toxic that Toxiproxy rejects leaves nothing behind and says why', async () => {
    // toxicity is validated by lagstorm; a link with no proxy fails inside inject, after debris was recorded.
    const fault = defaultRegistry.get('latency');
    const params = defaultRegistry.parse('latency', { latency: 10 });
    const links = t.sut.links as Record<string, LinkControl>;
    const saved = links['bots-backend'];
    links['bots-backend'] = { ...saved, proxy: 'no-such-proxy' };
    try {
      await expect(fault.inject(t.target, params, new AbortController().signal)).rejects.toThrow(/no-such-proxy/);
    } finally {
      links['bots-backend'] = saved;
    }
  });

  it('an inject aborted before it acts adds no toxic', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(inject(t, 'latency', { latency: 50, stream: 'both' }, controller.signal)).rejects.toThrow(/aborted/);
  });
});
