/**
 * Process family: crash (SIGKILL / immediate stop), graceful restart and pause (SIGSTOP) of the
 * backend, PostgreSQL and Toxiproxy. Heal always leaves the process running and healthy;
 * observations carry the measured downtime (from the stop until healthy again).
 */
import { z } from 'zod';
import { HarnessError } from '../../core/exit-codes';
import { serviceCapability, type ServiceAction, type ServiceControl } from '../../stack/system-under-test';
import { defineFault, healOnce } from '../define-fault';
import type { Efficacy, Fault, FaultHandle, FaultTarget } from '../fault';
import { durationParam, sleep } from '../util';

type ServiceName = 'backend' | 'postgres' | 'toxiproxy';

function serviceOf(target: FaultTarget, name: ServiceName): ServiceControl {
  const service = target.sut.services[name];
  if (!service) throw new HarnessError(`the system under test has no ${name} service`);
  return service;
}

const needs = (name: ServiceName, ...actions: ServiceAction[]) => () => actions.map((action) => serviceCapability(name, action));

/** An outage bit when the service was measured down and came back as a new instance. */
const outageProof = (name: ServiceName) => `${name} measured down (downtimeMs, from the stop until healthy again) and back as a new instance (pidBefore → pidAfter)`;
function judgeOutage(name: ServiceName, observations: Readonly<Record<string, number | string>>): Efficacy {
  const { downtimeMs, pidBefore, pidAfter } = observations;
  if (typeof downtimeMs !== 'number') return { bit: false, effect: `${name} was never measured back up` };
  if (pidAfter === pidBefore) return { bit: false, effect: `${name} is the same instance (${pidBefore}) after the fault: it never went down` };
  return { bit: true, effect: `${name} down ${downtimeMs} ms (${pidBefore} → ${pidAfter})` };
}

/**
 * Stops a service with `stop`, restarts it after `downtimeMs` (undefined: only on heal), and
 * measures the downtime. Heal cancels the timer and starts it if it is still down.
 */
async function outage(target: FaultTarget, name: ServiceName, stop: (service: ServiceControl) => Promise<void>, downtimeMs: number | undefined): Promise<FaultHandle> {
  const service = serviceOf(target, name);
  if (!service.isRunning()) throw new HarnessError(`${name} is not running; cannot inject a fault into it`);
  // Which instance ran and which runs after: the runtime describes it ('pid 4242', a container id).
  const observations: Record<string, number | string> = { pidBefore: service.instance() ?? 'none' };
  const stoppedAt = Date.now();
  let restarting: Promise<void> | undefined;
  const restart = () => {
    restarting ??= service.start().then(() => {
      observations.downtimeMs = Date.now() - stoppedAt;
      observations.pidAfter = service.instance() ?? 'none';
      target.log(`${name} is back after ${observations.downtimeMs}ms`);
    });
    return restarting;
  };
  try {
    await stop(service);
  } catch (error) {
    await restart().catch(() => undefined);
    throw error;
  }
  observations.stoppedInMs = Date.now() - stoppedAt;
  target.log(`${name} stopped`);
  let timer: NodeJS.Timeout | undefined;
  if (downtimeMs !== undefined) {
    timer = setTimeout(() => restart().catch((error: Error) => target.log(`${name} restart failed: ${error.message}; heal retries`)), downtimeMs);
  }
  return {
    observations,
    heal: healOnce(async () => {
      clearTimeout(timer);
      await restart().catch(() => {
        restarting = undefined; // a failed timed restart: try once more now
        return restart();
      });
      if (!service.isRunning()) throw new HarnessError(`${name} is not running after heal`);
    }),
  };
}

const crashParams = z.strictObject({
  /** Restart this long after the crash; without it the service stays down until the fault heals. */
  downtime: durationParam.optional(),
  /** false: stay down for the whole fault window (heal still restarts it). */
  restart: z.boolean().default(true),
});

export const backendCrashFault = defineFault({
  type: 'backend-crash',
  family: 'process',
  description: 'SIGKILLs the backend; restarts it after `downtime` (or when the fault heals).',
  params: crashParams,
  requires: needs('backend', 'kill', 'start'),
  targetOf: () => 'backend',
  proof: outageProof('backend'),
  judge: ({ observations }) => judgeOutage('backend', observations),
  locks: () => ['the backend process'],
  inject: (target, p) => outage(target, 'backend', (s) => s.kill(), p.restart ? p.downtime : undefined),
});

const restartParams = z.strictObject({ downtime: durationParam.default(0) });

export const backendRestartFault = defineFault({
  type: 'backend-restart',
  family: 'process',
  description: 'Graceful restart of the backend: SIGTERM (drains), then start again after `downtime`.',
  params: restartParams,
  requires: needs('backend', 'stop', 'start'),
  targetOf: () => 'backend',
  proof: outageProof('backend'),
  judge: ({ observations }) => judgeOutage('backend', observations),
  locks: () => ['the backend process'],
  async inject(target, p, signal) {
    const handle = await outage(target, 'backend', (s) => s.stop(), undefined);
    try {
      await sleep(p.downtime, signal);
    } finally {
      await handle.heal(); // the restart is the fault; the window after it is the recovery under test
    }
    return handle;
  },
});


export const backendPauseFault = defineFault({
  type: 'backend-pause',
  family: 'process',
  description: 'SIGSTOPs the backend (a frozen process: connections stay open, nothing answers); SIGCONT on heal.',
  params: z.strictObject({}),
  requires: needs('backend', 'pause'),
  targetOf: () => 'backend',
  proof: 'backend frozen (process state T read back at inject) for pausedMs',
  judge: ({ observations }) => (typeof observations.pausedMs === 'number' && observations.pausedMs > 0 ? { bit: true, effect: `backend frozen ${observations.pausedMs} ms` } : { bit: false, effect: 'the backend was never measured frozen' }),
  locks: () => ['the backend process'],
  async inject(target) {
    const service = serviceOf(target, 'backend');
    if (!service.isRunning()) throw new HarnessError('backend is not running; cannot pause it');
    const observations: Record<string, number | string> = { pid: service.instance() ?? 'none' };
    const pausedAt = Date.now();
    await service.pause(); // resolves once frozen; resumes and throws when it does not freeze
    return {
      observations,
      heal: healOnce(async () => {
        await service.resume();
        observations.pausedMs = Date.now() - pausedAt;
      }),
    };
  },
});

export const postgresCrashFault = defineFault({
  type: 'postgres-crash',
  family: 'process',
  description: 'Crashes PostgreSQL (immediate stop: no checkpoint, crash recovery on start); restarts after `downtime`.',
  params: crashParams,
  requires: needs('postgres', 'kill', 'start'),
  targetOf: () => 'postgres',
  proof: outageProof('postgres'),
  judge: ({ observations }) => judgeOutage('postgres', observations),
  locks: () => ['the postgres process'],
  // kill is PostgreSQL's immediate stop in the process runtime: no checkpoint, crash recovery on start.
  inject: (target, p) => outage(target, 'postgres', (s) => s.kill(), p.restart ? p.downtime : undefined),
});

export const postgresRestartFault = defineFault({
  type: 'postgres-restart',
  family: 'process',
  description: 'Restarts PostgreSQL cleanly (fast stop: clients disconnected, shutdown checkpoint), then starts it.',
  params: restartParams,
  requires: needs('postgres', 'stop', 'start'),
  targetOf: () => 'postgres',
  proof: outageProof('postgres'),
  judge: ({ observations }) => judgeOutage('postgres', observations),
  locks: () => ['the postgres process'],
  async inject(target, p, signal) {
    const handle = await outage(target, 'postgres', (s) => s.stop(), undefined); // fast stop
    try {
      await sleep(p.downtime, signal);
    } finally {
      await handle.heal(); // also on abort: never leave the service down
    }
    return handle;
  },
});

export const toxiproxyRestartFault = defineFault({
  type: 'toxiproxy-restart',
  family: 'process',
  description: 'Stops Toxiproxy (every proxied connection drops) and starts it again; its start() recreates the proxies.',
  params: restartParams,
  requires: needs('toxiproxy', 'stop', 'start'),
  targetOf: () => 'toxiproxy',
  proof: outageProof('toxiproxy'),
  judge: ({ observations }) => judgeOutage('toxiproxy', observations),
  locks: () => ['the toxiproxy process'],
  async inject(target, p, signal) {
    const handle = await outage(target, 'toxiproxy', (s) => s.stop(), undefined);
    try {
      await sleep(p.downtime, signal);
    } finally {
      await handle.heal(); // also on abort: never leave the service down
    }
    return handle;
  },
});

export const processFaults: Fault[] = [backendCrashFault, backendRestartFault, backendPauseFault, postgresCrashFault, postgresRestartFault, toxiproxyRestartFault] as unknown as Fault[];
