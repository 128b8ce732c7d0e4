/**
 * The nemesis: plans the run's faults (fixed timeline steps plus a seeded random schedule) and
 * runs the plan on the clock: inject at `at`, heal after `duration`, 'fault-start' / 'fault-stop'
 * entries in the history, a lagstorm_fault_active{fault} gauge. Whatever happens (inject errors,
 * heal errors, abort), every injected fault is healed before runNemesis returns.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { mersenne } from 'pure-rand/generator/mersenne';
import { Gauge, type Registry } from 'prom-client';
import { epochNowMs } from '../core/clock';
import type { NemesisOp } from '../core/history';
import type { RandomSchedule, Scenario, TimelineStep } from '../core/scenario/schema';
import { sharedLock } from '../core/scenario/validate';
import type { FaultRecord } from '../core/summary';
import type { FaultHandle, FaultTarget } from './fault';
import type { FaultRegistry } from './registry';

/** How often a failing heal is tried before the fault is reported as not healed. */
const HEAL_ATTEMPTS = 3;
const HEAL_RETRY_MS = 500;

export interface PlannedFault {
  id: string;
  fault: string;
  params: Record<string, unknown>;
  /** ms since run start */
  at: number;
  duration: number;
  origin: 'timeline' | 'random';
}

export type FaultsSpec = Pick<Scenario['faults'], 'timeline'> & { random?: RandomSchedule };

/**
 * Deterministic for (faults, seed, durationMs). Random faults: exponential inter-arrival times
 * with mean `meanInterval`, fault chosen by weight, skipped when `maxConcurrent` random faults
 * would overlap, all inside [start, end] and ending before durationMs.
 */
export function planSchedule(
  faults: FaultsSpec,
  options: { seed: number; durationMs: number; /** See Fault.locks: a random fault that would share one with an overlapping fault is not scheduled. */ locksOf?: (fault: string, params: Record<string, unknown>) => string[] },
): PlannedFault[] {
  const plan: PlannedFault[] = [];
  faults.timeline.forEach((step: TimelineStep, i) => {
    plan.push({ id: `t${i + 1}`, fault: step.fault, params: step.params, at: step.at, duration: step.duration, origin: 'timeline' });
  });
  const locksOf = options.locksOf ?? (() => []);
  const planLocks = new Map<PlannedFault, string[]>(); // computed once per planned fault
  const locksOfPlanned = (planned: PlannedFault) => planLocks.get(planned) ?? planLocks.set(planned, locksOf(planned.fault, planned.params)).get(planned)!;
  const sharesLock = (fault: string, params: Record<string, unknown>, at: number, duration: number): boolean => {
    const locks = locksOf(fault, params);
    return locks.length > 0 && plan.some((other) => sharedLock({ at, duration }, locks, other, locksOfPlanned(other)) !== undefined);
  };
  const random = faults.random;
  if (random) {
    // Mersenne Twister: well mixed from the first draw even for small seeds (xoroshiro's first draws are not).
    const rng = mersenne((random.seed ?? options.seed) >>> 0);
    const start = random.start ?? 0;
    const end = Math.min(random.end ?? options.durationMs, options.durationMs);
    const totalWeight = random.mix.reduce((sum, entry) => sum + entry.weight, 0);
    const active: number[] = []; // end times of scheduled random faults
    let at = start;
    for (let n = 0; n < 10_000; n++) {
      // Inverse CDF of the exponential distribution; 1 - u is in (0, 1], so log never sees 0.
      at += Math.round(-Math.log(1 - uniformFloat64(rng)) * random.meanInterval);
      let pick = uniformFloat64(rng) * totalWeight;
      const entry = random.mix.find((candidate) => (pick -= candidate.weight) < 0) ?? random.mix[random.mix.length - 1];
      if (at >= end) break;
      if (at + entry.duration > end) continue; // would outlive the window; a later, shorter one may fit
      const overlapping = active.filter((stop) => stop > at).length;
      if (overlapping >= random.maxConcurrent) continue;
      if (sharesLock(entry.fault, entry.params, at, entry.duration)) continue;
      active.push(at + entry.duration);
      plan.push({ id: `r${plan.filter((p) => p.origin === 'random').length + 1}`, fault: entry.fault, params: entry.params, at, duration: entry.duration, origin: 'random' });
    }
  }
  return plan.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
}

export interface RunNemesisOptions {
  plan: PlannedFault[];
  target: FaultTarget;
  registry: FaultRegistry;
  /** Epoch ms of the run's time 0 (on epochNowMs, the bots' clock): `at` and history times are relative to it. */
  runStartEpochMs: number;
  append(entry: Omit<NemesisOp, 'index'>): void;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** prom-client registry for lagstorm_fault_active{fault}. */
  metricsRegistry?: Registry;
}

interface ActiveFault {
  planned: PlannedFault;
  record: FaultRecord;
  handle?: FaultHandle;
  healing?: Promise<void>;
}

export interface NemesisRun {
  /** Resolves with every fault's record once the plan is done (or aborted) and all faults healed. */
  done: Promise<FaultRecord[]>;
  /** Heals everything still active now; safe to call any time, any number of times. */
  healAll(): Promise<void>;
}

function activeGauge(registry: Registry | undefined): Gauge<'fault'> | undefined {
  if (!registry) return undefined;
  const existing = registry.getSingleMetric('lagstorm_fault_active');
  if (existing) return existing as Gauge<'fault'>;
  return new Gauge({ name: 'lagstorm_fault_active', help: 'Faults of this type active now (injected, not yet healed).', labelNames: ['fault'], registers: [registry] });
}

/** A timer delay that never fires before `epochMs`: libuv timers run on the loop's whole-ms clock and can fire up to 1 ms early on ours. */
function untilMs(epochMs: number): number {
  return Math.max(0, Math.ceil(epochMs - epochNowMs()) + 1);
}

export function startNemesis(options: RunNemesisOptions): NemesisRun {
  const { plan, target, registry, runStartEpochMs, append } = options;
  const log = options.log ?? target.log;
  const gauge = activeGauge(options.metricsRegistry);
  const records: FaultRecord[] = [];
  const active = new Map<string, ActiveFault>();
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  const injectAbort = new AbortController();
  // The bots' clock (core/clock.ts), not Date.now(): here the two differ by tens of ms, and faults must share the bots' timeline.
  const now = () => epochNowMs() - runStartEpochMs;
  let finished = false;

  const targetName = (planned: PlannedFault): string => {
    try {
      const fault = registry.get(planned.fault);
      return fault.targetOf?.(registry.parse(planned.fault, planned.params)) ?? fault.family;
    } catch {
      return 'unknown';
    }
  };

  const emit = (f: 'fault-start' | 'fault-stop', planned: PlannedFault, error?: string) => {
    append({ type: 'info', process: 'nemesis', f, time: now(), value: { id: planned.id, fault: planned.fault, target: targetName(planned), params: planned.params, ...(error ? { error } : {}) } });
  };

  const heal = (entry: ActiveFault): Promise<void> => {
    entry.healing ??= (async () => {
      // A heal that fails is tried again (a restart racing a slow port, an API call timing out):
      // the fault must not stay on while the recovery phase is being measured.
      for (let attempt = 1; attempt <= HEAL_ATTEMPTS; attempt++) {
        try {
          await entry.handle?.heal();
          entry.record.healed = true;
          break;
        } catch (error) {
          const message = `heal attempt ${attempt}/${HEAL_ATTEMPTS}: ${(error as Error).message}`;
          log(`nemesis: healing ${entry.planned.id} (${entry.planned.fault}) failed: ${message}`);
          if (attempt === HEAL_ATTEMPTS) entry.record.error = message;
          else await new Promise((resolve) => setTimeout(resolve, attempt * HEAL_RETRY_MS));
        }
      }
      entry.record.stoppedAt = now();
      if (entry.handle?.observations) entry.record.observations = { ...entry.handle.observations };
      if (!entry.record.healed) {
        entry.healing = undefined; // healAll() may try once more
        return;
      }
      active.delete(entry.planned.id);
      gauge?.dec({ fault: entry.planned.fault });
      emit('fault-stop', entry.planned, entry.record.error);
    })();
    return entry.healing;
  };

  let maybeFinish = () => undefined as void;
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => {
      inFlight.delete(work);
      setImmediate(maybeFinish); // the plan is done once every fault was injected and healed
    });
  };

  const inject = async (planned: PlannedFault) => {
    const record: FaultRecord = { id: planned.id, fault: planned.fault, params: planned.params, startedAt: now(), healed: false };
    records.push(record);
    const entry: ActiveFault = { planned, record };
    active.set(planned.id, entry);
    gauge?.inc({ fault: planned.fault });
    emit('fault-start', planned);
    try {
      const fault = registry.get(planned.fault);
      const params = registry.parse(planned.fault, planned.params);
      entry.handle = await fault.inject(target, params, injectAbort.signal);
      log(`nemesis: ${planned.id} ${planned.fault} injected`);
    } catch (error) {
      // A failed inject left nothing behind (the contract); the fault is over: record and move on.
      record.error = `inject: ${(error as Error).message}`;
      log(`nemesis: ${planned.id} ${planned.fault} failed to inject: ${(error as Error).message}`);
      await heal(entry);
      return;
    }
    if (finished) return void (await heal(entry)); // aborted while injecting
    const healAt = runStartEpochMs + planned.at + planned.duration;
    const timer = setTimeout(() => {
      timers.delete(timer);
      track(heal(entry));
    }, untilMs(healAt));
    timers.add(timer);
  };

  const healAll = async (): Promise<void> => {
    await Promise.all([...active.values()].filter((entry) => entry.handle || entry.healing).map(heal));
  };

  let resolveDone: (records: FaultRecord[]) => void = () => undefined;
  const done = new Promise<FaultRecord[]>((resolve) => (resolveDone = resolve));
  let started = 0;
  const finish = async () => {
    if (finished) return;
    finished = true;
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    injectAbort.abort(new Error('nemesis stopped'));
    // Let injects in flight settle (an inject that lands after the stop heals itself), then heal the rest.
    for (let round = 0; round < 5 && inFlight.size > 0; round++) await Promise.allSettled([...inFlight]);
    await healAll();
    resolveDone(records.sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id)));
  };
  maybeFinish = () => {
    // Faults still active here failed every heal attempt: finish() tries them once more and reports them.
    const settled = [...active.values()].every((entry) => entry.record.stoppedAt !== undefined && !entry.healing);
    if (!finished && started === plan.length && settled && inFlight.size === 0) void finish();
  };

  if (options.signal?.aborted || plan.length === 0) void finish();
  else {
    options.signal?.addEventListener('abort', () => void finish(), { once: true });
    for (const planned of plan) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        started += 1;
        track(inject(planned));
      }, untilMs(runStartEpochMs + planned.at));
      timers.add(timer);
    }
  }

  return { done, healAll };
}

/** Runs the plan to the end (or until `signal` aborts) and returns every fault's record, all healed. */
export function runNemesis(options: RunNemesisOptions): Promise<FaultRecord[]> {
  return startNemesis(options).done;
}
