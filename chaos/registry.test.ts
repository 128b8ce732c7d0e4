import { PROCESS_RUNTIME_CAPABILITIES } from '../stack/process-sut';
import type { Capability, SystemUnderTest } from '../stack/system-under-test';
import { defaultRegistry, faultProblems, getFault, listFaults, validateFaultParams, type RuntimeOffer } from './registry';

describe('fault registry', () => {
  it('holds every built-in fault, each with a family and a description', () => {
    expect(defaultRegistry.types()).toEqual(
      [
        'backend-crash', 'backend-pause', 'backend-restart', 'bandwidth', 'checkpoint-storm', 'failing-archiver', 'kernel-packet-loss', 'latency', 'limit-data', 'link-down',
        'postgres-crash', 'postgres-restart', 'reset-peer', 'slicer', 'slow-close', 'slow-wal-disk', 'stuck-slot', 'timeout', 'toxiproxy-restart', 'wal-disk-full', 'wal-flood',
      ].sort(),
    );
    for (const fault of listFaults()) expect(fault.description.length).toBeGreaterThan(10);
    expect(getFault('kernel-packet-loss').requiresRoot).toBe(true);
  });

  it('validates params with paths and fills defaults', () => {
    expect(validateFaultParams('latency', { latency: 100 })).toEqual([]);
    const issues = validateFaultParams('latency', { latency: -1, stream: 'sideways', extra: 1 });
    expect(issues.map((issue) => issue.path.join('.')).sort()).toEqual(['', 'latency', 'stream']);
    expect(defaultRegistry.parse('latency', {})).toEqual({ link: 'bots-backend', stream: 'downstream', toxicity: 1, latency: 100, jitter: 0 });
    expect(defaultRegistry.parse('backend-crash', { downtime: '2s' })).toEqual({ downtime: 2000, restart: true });
    expect(() => defaultRegistry.parse('bandwidth', { rate: 0 })).toThrow(/params.rate/);
  });

  it('reports an unknown type with the known ones', () => {
    const [issue] = validateFaultParams('packet-loss', {});
    expect(issue.message).toMatch(/unknown fault "packet-loss"; known faults: backend-crash, .*kernel-packet-loss/);
    expect(() => getFault('packet-loss')).toThrow(/known faults/);
  });
});

describe('fault capabilities', () => {
  /** A containers-like runtime: services and SQL, one link, but no host access and no pg_wal on this host. */
  const containers: RuntimeOffer = {
    name: 'containers',
    capabilities: ['service:backend:kill', 'service:backend:start', 'service:backend:stop', 'database:sql', 'link:bots-backend'],
  };
  const processOffer: RuntimeOffer = { name: 'process', capabilities: PROCESS_RUNTIME_CAPABILITIES };

  it('every built-in fault names what it needs, and the process runtime offers it all', () => {
    for (const fault of listFaults()) {
      const required = defaultRegistry.requirementsOf(fault.type, {});
      expect(required.length).toBeGreaterThan(0);
      expect(required.filter((capability) => !PROCESS_RUNTIME_CAPABILITIES.includes(capability))).toEqual([]);
    }
    expect(defaultRegistry.requirementsOf('latency', { link: 'backend-db' })).toEqual(['link:backend-db']);
    expect(defaultRegistry.requirementsOf('kernel-packet-loss', { target: 'postgres' })).toEqual(['host:nft']);
    expect(defaultRegistry.requirementsOf('postgres-crash', {})).toEqual(['service:postgres:kill', 'service:postgres:start']);
    expect(defaultRegistry.requirementsOf('wal-disk-full', {})).toContain('database:wal-dir');
  });

  it('faultProblems names each step the runtime cannot do, what is missing and the fix', () => {
    const steps = {
      timeline: [
        { fault: 'latency', params: {} },
        { fault: 'backend-crash', params: { downtime: 100 } },
        { fault: 'wal-disk-full', params: {} },
        { fault: 'latency', params: { link: 'backend-db' } },
        { fault: 'no-such-fault', params: {} },
        { fault: 'latency', params: { latency: -1, link: 'backend-db' } },
      ],
      random: { mix: [{ fault: 'checkpoint-storm', params: {} }, { fault: 'backend-pause', params: {} }] },
    };
    expect(faultProblems(steps, containers, { alternatives: [processOffer, containers] })).toEqual([
      'faults.timeline[2].fault "wal-disk-full" needs database:wal-dir, database:stop-modes, service:postgres:start, host:loop-volume, which runtime "containers" does not offer; use runtime "process" or drop the fault',
      'faults.timeline[3].fault "latency" needs link:backend-db, which runtime "containers" does not offer; use runtime "process" or drop the fault',
      'faults.random.mix[1].fault "backend-pause" needs service:backend:pause, which runtime "containers" does not offer; use runtime "process" or drop the fault',
    ]);
    expect(faultProblems({ timeline: [{ fault: 'kernel-packet-loss' }] }, containers)).toEqual([
      'faults.timeline[0].fault "kernel-packet-loss" needs host:nft, which runtime "containers" does not offer; drop the fault',
    ]);
    expect(faultProblems(steps, processOffer)).toEqual([]);
  });

  it('inject refuses a system under test that lacks a required capability, before touching it', async () => {
    const touched: string[] = [];
    const sut = {
      runtime: 'containers',
      capabilities: new Set<Capability>(['database:sql']),
      get services() {
        touched.push('services');
        return {};
      },
    } as unknown as SystemUnderTest;
    const fault = getFault('backend-crash');
    await expect(fault.inject({ sut, log: () => undefined }, defaultRegistry.parse('backend-crash', {}), new AbortController().signal)).rejects.toThrow(
      'fault "backend-crash" needs service:backend:kill, service:backend:start, which this containers system under test does not offer; use a runtime that offers it or drop the fault',
    );
    expect(touched).toEqual([]);
  });
});
