/** Which built-in faults each runtime can take: a fault the runtime cannot do is refused before the run, naming the runtime. */
import { containersRuntimeCapabilities } from '../stack/containers-sut';
import { getRuntime } from '../stack/runtimes';
import { defaultRegistry, faultProblems } from './registry';

/** The containers runtime on a host that cannot put pg_wal on a host path (no root, no host pg_controldata). */
const containers = { name: 'containers' as const, capabilities: containersRuntimeCapabilities({ walDir: false }) };
const processRuntime = getRuntime('process');

describe('faults on the containers runtime', () => {
  it('without WAL on the host: refuses wal-disk-full and slow-wal-disk, naming the runtime and the one that can', () => {
    const problems = faultProblems(
      { timeline: [{ fault: 'backend-crash', params: {} }, { fault: 'wal-disk-full', params: {} }, { fault: 'slow-wal-disk', params: {} }] },
      containers,
      { alternatives: [processRuntime, containers] },
    );
    expect(problems).toEqual([
      'faults.timeline[1].fault "wal-disk-full" needs database:wal-dir, host:loop-volume, which runtime "containers" does not offer; use runtime "process" or drop the fault',
      'faults.timeline[2].fault "slow-wal-disk" needs database:wal-dir, host:loop-volume, host:blkio, which runtime "containers" does not offer; use runtime "process" or drop the fault',
    ]);
  });

  it('with WAL on the host: takes every built-in fault but slow-wal-disk (its blkio throttle does not reach a container)', () => {
    const steps = { timeline: defaultRegistry.list().map((fault) => ({ fault: fault.type, params: defaultParams(fault.type) })) };
    expect(faultProblems(steps, { name: 'containers' as const, capabilities: containersRuntimeCapabilities({ walDir: true }) })).toEqual([
      expect.stringMatching(/"slow-wal-disk" needs host:blkio, which runtime "containers" does not offer; drop the fault/),
    ]);
  });

  it('takes every other built-in fault (process, toxiproxy, kernel, SQL-only WAL faults)', () => {
    const faults = defaultRegistry.list();
    expect(faults.filter((fault) => defaultRegistry.validate(fault.type, defaultParams(fault.type)).length > 0).map((fault) => fault.type)).toEqual([]);
    const refused = faults
      .filter((fault) => faultProblems({ timeline: [{ fault: fault.type, params: defaultParams(fault.type) }] }, containers).length > 0)
      .map((fault) => fault.type);
    expect(refused.sort()).toEqual(['slow-wal-disk', 'wal-disk-full']);
  });
});

/** The smallest valid params of a fault type: link faults need a link. */
function defaultParams(type: string): Record<string, unknown> {
  for (const candidate of [{}, { link: 'bots-backend' }, { target: 'backend' }, { link: 'bots-backend', latency: 100 }]) {
    if (defaultRegistry.validate(type, candidate).length === 0) return candidate;
  }
  return {};
}
