/**
 * The bot fleet: thousands of bots in one process, on the main thread while one thread carries the
 * plan, else spread over worker threads (botThreadsFor). The main thread merges the bots' history
 * entries into the recorder, keeps the latency histograms and Prometheus metrics, and watches
 * its own saturation (k6's rule: CPU above 80 % or event-loop lag p99 above 50 ms, sustained,
 * means the figures are the generator's, not the server's).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Registry } from 'prom-client';
import type { ResolvedScenario } from '../../core/scenario/schema';
import type { LatencyStats } from '../../core/summary';
import type { HistoryDraft, SessionTiming } from '../core/types';
import { clockBase } from '../../core/clock';
import type { GameDefinition } from '../../core/game';
import { meanOf } from '../../core/distributions';
import { loadGameModule, profileOf } from '../load-game';
import { LatencyBook } from '../metrics/latency';
import { watchEventLoopLag } from '../metrics/event-loop-lag';
import { FleetMetrics, serveMetrics, type MetricsServer } from '../metrics/prometheus';
import type { MainToWorker, WorkerInit, WorkerToMain } from './worker';
import { hostPlans, type BotHostInit } from './bot-host';
import { keepHeapLean } from './lean-heap';
import { buildFleetPlan, type BotPlan } from './workload';
import { planForSegment, type SegmentTuple } from './segments';

export interface HistorySink {
  append(entry: HistoryDraft): void;
}

export interface FleetOptions {
  scenario: ResolvedScenario;
  /** Absolute path of the game plug-in module (default export: a GameDefinition); every worker loads it. */
  gameModule: string;
  /** ws://127.0.0.1:<port> the bots connect to (through the bots-backend proxy). */
  wsUrl: string;
  /** ws://[::1]:<port> for groups with ipv6: true (falls back to wsUrl). */
  wsUrlV6?: string;
  /** Epoch ms of time 0 of the run's timeline (the nemesis uses the same). */
  runStartEpochMs: number;
  /** Usually a HistoryRecorder; the fleet appends, the caller closes. */
  recorder: HistorySink;
  /** Loopback port for /metrics (0 or absent: any free port). */
  metricsPort?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /**
   * Run only this execution segment's bots (`segmentTuple('1/4:1/2', '0,1/4,1/2,3/4,1')`): the
   * agents of one run each take one segment of the same sequence. Default: every bot.
   */
  segment?: SegmentTuple;
  /** Worker threads; 0: every bot on the main thread (default: botThreadsFor(); the main thread while one thread carries the plan). */
  workers?: number;
  timing?: Partial<SessionTiming>;
  /** Saturation thresholds (defaults: k6's 80 % CPU, 50 ms lag p99, 3 samples of 1 s in a row). */
  saturation?: { cpuRatio?: number; lagP99Ms?: number; sustainedSamples?: number; sampleMs?: number };
}

export interface FleetProgress {
  botsOnline: number;
  /** Completed operations per second over the last ~5 s. */
  actionsPerSecond: number;
  /** p99 latency (ms, from the intended send time) of everything completed so far. */
  p99Ms: number;
  /** fail + info completions so far. */
  errors: number;
}

export interface LoadGeneratorHealth {
  cpuPeakRatio: number;
  eventLoopLagP99Ms: number;
  saturated: boolean;
}

export interface FleetResult {
  /** Distinct bots (players) planned. */
  bots: number;
  /** Session windows that started. */
  sessionsStarted: number;
  reconnects: number;
  desyncs: number;
  gaveUp: number;
  /** Open-model arrivals dropped because maxBots were online. */
  dropped: number;
  actions: { invoked: number; ok: number; fail: number; info: number };
  /** ms from the intended send time, ok and fail completions, by op kind and 'all'. */
  latency: Record<string, LatencyStats>;
  /** ms from deciding to reconnect to the welcome. */
  resume: LatencyStats;
  loadGenerator: LoadGeneratorHealth;
  durationMs: number;
  /** Worker crashes and similar harness problems. */
  errors: string[];
}

export interface StartedFleet {
  readonly metricsUrl: string;
  readonly metricsPort: number;
  readonly plan: { bots: number; dropped: number; loadEndMs: number };
  /** Worker threads the bots run on; 0: the main thread (absent: no bots here, the agents' coordinator). */
  readonly workerThreads?: number;
  progress(): FleetProgress;
  /** The load generator's health so far (the saturation flag is set once it saturated). */
  health(): LoadGeneratorHealth;
  /** The registry /metrics serves: the nemesis adds lagstorm_fault_active{fault} to it. */
  readonly metricsRegistry: Registry;
  /** Resolves when the load is over (scenario.duration + recovery.window) and every bot has ended. */
  readonly done: Promise<FleetResult>;
  /** Stops every bot gracefully (now, or after done), closes the metrics server. Idempotent. */
  stop(): Promise<FleetResult>;
}

/** One thread's share of the bots, as the main thread sees it. */
interface BotThread {
  online: number;
  started: number;
  lagP99Ms: number;
  done: boolean;
  /** Graceful: live sessions end, pending windows never start. */
  stop(): void;
  /** After done: releases the thread. */
  end(): Promise<void>;
}

/**
 * What one thread of bots carries before the fleet adds one (peer bench and bench/fleet-scale.ts,
 * 2 cores): 16 667 bots at 1 650 actions/s on the main thread took 88 µs CPU per action with a
 * 2 ms lag p99; the same on two workers took 116 µs. A worker costs an isolate (its own heap and
 * young generation: ~100 MB of RSS at 5 000 bots) and a structured clone of every entry.
 */
export const ACTIONS_PER_THREAD = 5000;
export const BOTS_PER_THREAD = 20_000;

/** Threads the plan needs by its peak action rate (every bot online) and its bot count: 1 = the main thread, more = that many workers, at most one per core. */
export function botThreadsFor(plans: readonly BotPlan[], game: GameDefinition): number {
  let actionsPerSecond = 0;
  for (const plan of plans) {
    const thinkMs = plan.burst ? plan.burst.everyMs / plan.burst.actions : meanOf(profileOf(game, plan.profile).thinkTime);
    actionsPerSecond += thinkMs > 0 ? 1000 / thinkMs : ACTIONS_PER_THREAD;
  }
  const needed = Math.max(Math.ceil(actionsPerSecond / ACTIONS_PER_THREAD), Math.ceil(plans.length / BOTS_PER_THREAD), 1);
  return needed === 1 ? 1 : Math.min(coreCount(), needed);
}

export async function startFleet(options: FleetOptions): Promise<StartedFleet> {
  const log = options.log ?? (() => undefined);
  keepHeapLean();
  const gameModule = path.resolve(options.gameModule);
  const game = loadGameModule(gameModule);
  const wholePlan = buildFleetPlan(options.scenario, game);
  const plan = options.segment ? planForSegment(wholePlan, options.segment) : wholePlan;
  const metrics = new FleetMetrics();
  const server: MetricsServer = await serveMetrics(metrics.registry, options.metricsPort ?? 0);
  const latency = new LatencyBook();
  const resume = new LatencyBook();
  const actions = { invoked: 0, ok: 0, fail: 0, info: 0 };
  const counts = { reconnects: 0, desyncs: 0, gaveUp: 0 };
  const errors: string[] = [];
  const recentCompletions: number[] = []; // per-second buckets, newest last
  let currentBucket = 0;
  const startedAt = Date.now();

  const onEntry = (entry: HistoryDraft): void => {
    options.recorder.append(entry);
    metrics.observe(entry);
    if (entry.type === 'event') {
      if (entry.f === 'reconnected') {
        counts.reconnects += 1;
        const resumeMs = (entry.value as { resumeMs?: number } | undefined)?.resumeMs;
        if (typeof resumeMs === 'number') resume.record('resume', resumeMs);
      } else if (entry.f === 'desync') counts.desyncs += 1;
      else if (entry.f === 'gave-up') counts.gaveUp += 1;
      return;
    }
    if (entry.process === 'nemesis') return;
    if (entry.type === 'invoke') {
      actions.invoked += 1;
      return;
    }
    actions[entry.type] += 1;
    currentBucket += 1;
    if (entry.type !== 'info') latency.record(entry.f, entry.time - entry.intendedAt);
  };

  // Saturation: sampled on the main thread, lag from every thread.
  const saturation = { cpuRatio: 0.8, lagP99Ms: 50, sustainedSamples: 3, sampleMs: 1000, ...options.saturation };
  const cores = coreCount();
  const mainLag = watchEventLoopLag();
  const health: LoadGeneratorHealth = { cpuPeakRatio: 0, eventLoopLagP99Ms: 0, saturated: false };
  let overStreak = 0;
  let lastCpu = process.cpuUsage();
  let lastWall = process.hrtime.bigint();
  const slots: BotThread[] = [];
  const sample = (): void => {
    const cpu = process.cpuUsage(lastCpu);
    const wall = process.hrtime.bigint();
    const wallMicros = Number(wall - lastWall) / 1000;
    lastCpu = process.cpuUsage();
    lastWall = wall;
    const cpuRatio = wallMicros > 0 ? (cpu.user + cpu.system) / (wallMicros * cores) : 0;
    const lagMs = Math.max(mainLag.p99Ms(), ...slots.map((slot) => slot.lagP99Ms));
    mainLag.reset();
    health.cpuPeakRatio = Math.max(health.cpuPeakRatio, round3(cpuRatio));
    health.eventLoopLagP99Ms = Math.max(health.eventLoopLagP99Ms, round3(lagMs));
    overStreak = cpuRatio > saturation.cpuRatio || lagMs > saturation.lagP99Ms ? overStreak + 1 : 0;
    if (overStreak >= saturation.sustainedSamples && !health.saturated) {
      health.saturated = true;
      log(`bots: load generator saturated (cpu ${(cpuRatio * 100).toFixed(0)} %, lag p99 ${lagMs.toFixed(1)} ms): latencies are overstated`);
    }
    metrics.cpuRatio.set(cpuRatio);
    metrics.eventLoopLag.set(lagMs / 1000);
    metrics.botsOnline.set(slots.reduce((sum, slot) => sum + slot.online, 0));
    recentCompletions.push(currentBucket);
    currentBucket = 0;
    if (recentCompletions.length > 5) recentCompletions.shift();
  };
  const sampleTimer = setInterval(sample, saturation.sampleMs);
  sampleTimer.unref();

  // Threads: plans dealt round-robin so every thread gets a share of every group and ramp.
  const threadCount = options.workers === 0 ? 1 : Math.min(options.workers ?? botThreadsFor(plan.bots, game), Math.max(1, plan.bots.length));
  const inProcess = options.workers === 0 || (options.workers === undefined && threadCount === 1);
  const shares: BotPlan[][] = Array.from({ length: threadCount }, () => []);
  plan.bots.forEach((bot, i) => shares[i % threadCount].push(bot));
  let resolveAllDone!: () => void;
  const allDone = new Promise<void>((resolve) => (resolveAllDone = resolve));
  const checkAllDone = (): void => {
    if (slots.every((slot) => slot.done)) resolveAllDone();
  };
  for (const share of shares) {
    const init: BotHostInit = { plans: share, gameModule, wsUrl: options.wsUrl, wsUrlV6: options.wsUrlV6, runStartEpochMs: options.runStartEpochMs, loadEndMs: plan.loadEndMs, timing: options.timing };
    slots.push(inProcess ? hostOnThisThread(init, onEntry, checkAllDone) : hostOnWorker(init, onEntry, checkAllDone, errors, log));
  }
  if (options.segment) log(`bots: segment ${options.segment.toString()}: ${plan.bots.length} of the run's ${wholePlan.bots.length} bots`);
  log(`bots: ${plan.bots.length} bots on ${inProcess ? 'the main thread' : `${threadCount} worker thread(s)`}, load until ${plan.loadEndMs} ms, metrics at ${server.url}`);

  const result = (): FleetResult => ({
    bots: plan.bots.length,
    sessionsStarted: slots.reduce((sum, slot) => sum + slot.started, 0),
    ...counts,
    dropped: plan.dropped,
    actions: { ...actions },
    latency: latency.allStats(),
    resume: resume.stats('resume'),
    loadGenerator: { ...health },
    durationMs: Date.now() - startedAt,
    errors: [...errors],
  });

  let finished: Promise<FleetResult> | undefined;
  const finish = (): Promise<FleetResult> => {
    finished ??= (async () => {
      await allDone;
      sample();
      clearInterval(sampleTimer);
      mainLag.stop();
      // 'started' figures arrive with stats; ask nothing more of the workers, just end them.
      await Promise.all(slots.map((slot) => slot.end()));
      metrics.botsOnline.set(0);
      return result();
    })();
    return finished;
  };
  const done = finish();
  let stopped: Promise<FleetResult> | undefined;
  const stop = (): Promise<FleetResult> => {
    stopped ??= (async () => {
      for (const slot of slots) if (!slot.done) slot.stop();
      // Bounded: a worker that does not finish within its stop grace plus slack is terminated.
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 15_000).unref());
      await Promise.race([allDone, timeout]);
      if (!slots.every((slot) => slot.done)) {
        errors.push('bot workers did not stop within 15 s; terminated');
        for (const slot of slots) slot.done = true;
        resolveAllDone();
      }
      const final = await done;
      await server.close();
      return final;
    })();
    return stopped;
  };
  options.signal?.addEventListener('abort', () => void stop(), { once: true });
  if (options.signal?.aborted) void stop();

  return {
    metricsUrl: server.url,
    metricsPort: server.port,
    plan: { bots: plan.bots.length, dropped: plan.dropped, loadEndMs: plan.loadEndMs },
    workerThreads: inProcess ? 0 : threadCount,
    progress: () => {
      const seconds = recentCompletions.length;
      return {
        botsOnline: slots.reduce((sum, slot) => sum + slot.online, 0),
        actionsPerSecond: seconds ? recentCompletions.reduce((sum, n) => sum + n, 0) / seconds : 0,
        p99Ms: latency.stats().p99,
        errors: actions.fail + actions.info,
      };
    },
    health: () => ({ ...health }),
    metricsRegistry: metrics.registry,
    done,
    stop,
  };
}

function coreCount(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function hostOnWorker(init: BotHostInit, onEntry: (entry: HistoryDraft) => void, checkAllDone: () => void, errors: string[], log: (line: string) => void): BotThread {
  const workerInit: WorkerInit = { ...init, clockBase: clockBase() };
  const worker = new Worker(require.resolve('./worker.ts'), { workerData: workerInit, execArgv: ['--require', require.resolve('tsx/cjs')] });
  const slot: BotThread = {
    online: 0,
    started: 0,
    lagP99Ms: 0,
    done: false,
    stop: () => worker.postMessage({ t: 'stop' } satisfies MainToWorker),
    end: () => worker.terminate().then(() => undefined, () => undefined),
  };
  worker.on('message', (message: WorkerToMain) => {
    if (message.t === 'entries') for (const entry of message.entries) onEntry(entry);
    else if (message.t === 'stats') {
      slot.online = message.online;
      slot.started = message.started;
      slot.lagP99Ms = message.lagP99Ms;
    } else if (message.t === 'done') {
      slot.done = true;
      slot.started = message.started;
      slot.online = 0;
      checkAllDone();
    }
  });
  worker.on('error', (error) => {
    errors.push(`bot worker crashed: ${error.stack ?? error.message}`);
    log(`bots: worker crashed: ${error.message}`);
  });
  worker.on('exit', (code) => {
    if (!slot.done) {
      errors.push(`bot worker exited with code ${code} before finishing`);
      slot.done = true;
      checkAllDone();
    }
  });
  return slot;
}

/** Bots on the main thread: its event-loop lag is sampled already, so this share reports none of its own. */
function hostOnThisThread(init: BotHostInit, onEntry: (entry: HistoryDraft) => void, checkAllDone: () => void): BotThread {
  const host = hostPlans(init, onEntry);
  const slot: BotThread = {
    get online() {
      return host.online();
    },
    get started() {
      return host.started();
    },
    lagP99Ms: 0,
    done: false,
    stop: () => void host.stop(),
    end: async () => host.dropSockets(),
  };
  void host.done.then(() => {
    slot.done = true;
    checkAllDone();
  });
  return slot;
}
