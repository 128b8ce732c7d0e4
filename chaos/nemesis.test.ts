import { epochNowMs } from '../core/clock';
import { Registry } from 'prom-client';
import { z } from 'zod';
import type { NemesisOp } from '../core/history';
import type { SystemUnderTest } from '../stack/system-under-test';
import { defineFault } from './define-fault';
import type { Fault, FaultTarget } from './fault';
import { planSchedule, runNemesis, startNemesis, type FaultsSpec } from './nemesis';
import { defaultRegistry, FaultRegistry } from './registry';

const randomSpec: FaultsSpec = {
  timeline: [{ at: 1000, duration: 2000, fault: 'latency', params: { latency: 50 } }],
  random: {
    mix: [
      { fault: 'latency', weight: 3, duration: 1500, params: {} },
      { fault: 'backend-crash', weight: 1, duration: 800, params: { downtime: 300 } },
    ],
    meanInterval: 2000,
    maxConcurrent: 1,
    start: 500,
    end: 50_000,
  },
};

describe('planSchedule', () => {
  it('is deterministic for a seed and differs for another seed', () => {
    const a = planSchedule(randomSpec, { seed: 42, durationMs: 60_000 });
    const b = planSchedule(randomSpec, { seed: 42, durationMs: 60_000 });
    const c = planSchedule(randomSpec, { seed: 43, durationMs: 60_000 });
    expect(a).toEqual(b);
    expect(a.map((p) => p.at)).not.toEqual(c.map((p) => p.at));
    expect(a.filter((p) => p.origin === 'random').length).toBeGreaterThan(5);
  });

  it('keeps random faults inside [start, end], at most maxConcurrent at once, with the weighted mix', () => {
    const plan = planSchedule(randomSpec, { seed: 7, durationMs: 60_000 }).filter((p) => p.origin === 'random');
    for (const p of plan) {
      expect(p.at).toBeGreaterThanOrEqual(500);
      expect(p.at + p.duration).toBeLessThanOrEqual(50_000);
    }
    for (let i = 1; i < plan.length; i++) expect(plan[i].at).toBeGreaterThanOrEqual(plan[i - 1].at + plan[i - 1].duration);
    const many = planSchedule({ timeline: [], random: { ...randomSpec.random!, meanInterval: 100, maxConcurrent: 3, end: 600_000 } }, { seed: 1, durationMs: 600_000 });
    const latencyShare = many.filter((p) => p.fault === 'latency').length / many.length;
    expect(latencyShare).toBeGreaterThan(0.6); // weight 3 of 4
    expect(latencyShare).toBeLessThan(0.9);
    for (const p of many) expect(many.filter((q) => q.at <= p.at && q.at + q.duration > p.at).length).toBeLessThanOrEqual(3);
  });

  it('never schedules a random fault over a fault that holds the same lock (e.g. the backend process)', () => {
    const spec: FaultsSpec = {
      timeline: [{ at: 0, duration: 30_000, fault: 'backend-pause', params: {} }],
      random: { mix: [{ fault: 'backend-crash', weight: 1, duration: 800, params: {} }, { fault: 'latency', weight: 1, duration: 800, params: { latency: 50 } }], meanInterval: 500, maxConcurrent: 3 },
    };
    const locksOf = (fault: string, params: Record<string, unknown>) => defaultRegistry.locksOf(fault, params);
    const withLocks = planSchedule(spec, { seed: 5, durationMs: 60_000, locksOf }).filter((p) => p.origin === 'random');
    const crashes = withLocks.filter((p) => p.fault === 'backend-crash');
    expect(crashes.length).toBeGreaterThan(3);
    for (const crash of crashes) expect(crash.at).toBeGreaterThanOrEqual(30_000);
    expect(withLocks.filter((p) => p.fault === 'latency' && p.at < 30_000).length).toBeGreaterThan(3);
    for (let i = 1; i < crashes.length; i++) expect(crashes[i].at).toBeGreaterThanOrEqual(crashes[i - 1].at + crashes[i - 1].duration);
    // Without the locks the same seed does put crashes inside the pause: the test can fail.
    expect(planSchedule(spec, { seed: 5, durationMs: 60_000 }).some((p) => p.fault === 'backend-crash' && p.at < 30_000)).toBe(true);
  });

  it('uses random.seed over the run seed when given, and keeps timeline steps as they are', () => {
    const withOwnSeed = { ...randomSpec, random: { ...randomSpec.random!, seed: 99 } };
    expect(planSchedule(withOwnSeed, { seed: 1, durationMs: 60_000 })).toEqual(planSchedule(withOwnSeed, { seed: 2, durationMs: 60_000 }));
    expect(planSchedule({ timeline: randomSpec.timeline }, { seed: 1, durationMs: 60_000 })).toEqual([
      { id: 't1', fault: 'latency', params: { latency: 50 }, at: 1000, duration: 2000, origin: 'timeline' },
    ]);
  });
});

/** A recording fault (the nemesis is the unit here; real faults are tested in their own files). */
function recordingRegistry(events: string[]) {
  const make = (type: string, behaviour: { injectFails?: boolean; healFails?: boolean; slowInjectMs?: number }) =>
    defineFault({
      type,
      family: 'process',
      description: type,
      params: z.strictObject({ n: z.number().default(0) }),
      requires: () => [],
      targetOf: () => 'backend',
      proof: 'n above 0',
      judge: ({ observations }) => ({ bit: Number(observations.n) > 0, effect: `n=${observations.n}` }),
      async inject(_target, p, signal) {
        if (behaviour.slowInjectMs) await new Promise((r) => setTimeout(r, behaviour.slowInjectMs));
        if (behaviour.injectFails) throw new Error('boom');
        events.push(`inject ${type} ${p.n} aborted=${signal.aborted}`);
        let healed = false;
        return {
          observations: { n: p.n },
          async heal() {
            if (behaviour.healFails) throw new Error('stuck');
            if (!healed) events.push(`heal ${type} ${p.n}`);
            healed = true;
          },
        };
      },
    }) as unknown as Fault;
  return new FaultRegistry([make('ok', {}), make('bad-inject', { injectFails: true }), make('bad-heal', { healFails: true }), make('slow', { slowInjectMs: 150 })]);
}

const target: FaultTarget = { sut: {} as SystemUnderTest, log: () => undefined };

describe('runNemesis', () => {
  it('injects on time, heals after the duration, records ops and records, keeps going past failures', async () => {
    const events: string[] = [];
    const ops: Array<Omit<NemesisOp, 'index'>> = [];
    const metrics = new Registry();
    const start = epochNowMs(); // the nemesis times faults on this clock
    const run = startNemesis({
      plan: [
        { id: 't1', fault: 'ok', params: { n: 1 }, at: 0, duration: 150, origin: 'timeline' },
        { id: 't2', fault: 'bad-inject', params: {}, at: 20, duration: 100, origin: 'timeline' },
        { id: 't3', fault: 'bad-heal', params: {}, at: 40, duration: 50, origin: 'timeline' },
        { id: 't4', fault: 'ok', params: { n: 2 }, at: 200, duration: 50, origin: 'timeline' },
      ],
      target,
      registry: recordingRegistry(events),
      runStartEpochMs: start,
      append: (op) => ops.push(op),
      metricsRegistry: metrics,
    });
    await new Promise((r) => setTimeout(r, 80));
    const during = (await metrics.getSingleMetric('lagstorm_fault_active')!.get()).values;
    expect(during.find((v) => v.labels.fault === 'ok')?.value).toBe(1);
    const records = await run.done;
    expect(Date.now() - start).toBeGreaterThanOrEqual(250);
    expect(events).toEqual(['inject ok 1 aborted=false', 'inject bad-heal 0 aborted=false', 'heal ok 1', 'inject ok 2 aborted=false', 'heal ok 2']);
    expect(records.map((r) => [r.id, r.healed, r.error])).toEqual([
      ['t1', true, undefined],
      ['t2', true, 'inject: boom'], // a failed inject leaves nothing behind: healed, with its error
      ['t3', false, 'heal attempt 3/3: stuck'], // tried 3 times during the run, 3 more at the end
      ['t4', true, undefined],
    ]);
    const t1 = records[0];
    // Held to its planned end (at 0 + 150 ms), however late the inject finished on a busy machine.
    expect(t1.stoppedAt!).toBeGreaterThanOrEqual(150);
    expect(t1.observations).toEqual({ n: 1 });
    expect(ops.map((op) => `${op.f} ${op.value.id}${op.value.error ? ' !' : ''}`)).toEqual(['fault-start t1', 'fault-start t2', 'fault-stop t2 !', 'fault-start t3', 'fault-stop t1', 'fault-start t4', 'fault-stop t4']);
    expect(ops[0]).toMatchObject({ type: 'info', process: 'nemesis', value: { fault: 'ok', target: 'backend', params: { n: 1 } } });
    // A fault that never healed stays visibly active (no fault-stop, gauge 1): the run reports it.
    const after = (await metrics.getSingleMetric('lagstorm_fault_active')!.get()).values;
    expect(after.map((v) => [v.labels.fault, v.value]).sort()).toEqual([
      ['bad-heal', 1],
      ['bad-inject', 0],
      ['ok', 0],
    ]);
  });

  it('on abort heals everything active at once (also a fault whose inject was in flight) and injects nothing more', async () => {
    const events: string[] = [];
    const controller = new AbortController();
    const start = epochNowMs(); // the nemesis times faults on this clock
    const done = runNemesis({
      plan: [
        { id: 'a', fault: 'ok', params: { n: 1 }, at: 0, duration: 60_000, origin: 'timeline' },
        { id: 'b', fault: 'slow', params: { n: 2 }, at: 10, duration: 60_000, origin: 'timeline' },
        { id: 'c', fault: 'ok', params: { n: 3 }, at: 5_000, duration: 100, origin: 'timeline' },
      ],
      target,
      registry: recordingRegistry(events),
      runStartEpochMs: start,
      append: () => undefined,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 60);
    const records = await done;
    expect(Date.now() - start).toBeLessThan(2000);
    expect(events.sort()).toEqual(['heal ok 1', 'heal slow 2', 'inject ok 1 aborted=false', 'inject slow 2 aborted=true']);
    expect(records.map((r) => [r.id, r.healed])).toEqual([
      ['a', true],
      ['b', true],
    ]);
  });

  it('an unknown fault type is recorded with the list of known ones', async () => {
    const records = await runNemesis({ plan: [{ id: 'x', fault: 'nope', params: {}, at: 0, duration: 10, origin: 'timeline' }], target, registry: defaultRegistry, runStartEpochMs: epochNowMs(), append: () => undefined });
    expect(records[0].error).toMatch(/unknown fault "nope"; known faults: .*latency/);
  });
});
