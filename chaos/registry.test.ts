import { defaultRegistry, getFault, listFaults, validateFaultParams } from './registry';

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
