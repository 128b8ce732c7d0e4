import { nftTableExists } from './nft';
import { defaultRegistry } from '../registry';
import { connect, startTestStack, tcpRoundTrip, type TestStack } from '../testing/test-stack';

async function inject(t: TestStack, type: string, params: Record<string, unknown>, signal = new AbortController().signal) {
  return defaultRegistry.get(type).inject(t.target, defaultRegistry.parse(type, params), signal);
}

/** How many of n parallel connects fail within timeoutMs (a dropped SYN retries only after 1 s). */
async function failedConnects(hostPort: string, n: number, timeoutMs: number): Promise<number> {
  const results = await Promise.allSettled(Array.from({ length: n }, () => connect(hostPort, timeoutMs).then((socket) => socket.destroy())));
  return results.filter((result) => result.status === 'rejected').length;
}

describe('kernel faults (real processes, real nftables)', () => {
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
    expect(defaultRegistry.get('kernel-packet-loss').judge({ params: defaultRegistry.parse('kernel-packet-loss', {}), observations: handle.observations! })).toMatchObject({ bit: true, effect: expect.stringMatching(/^\d+ packets dropped on port \d+$/) });
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
});
