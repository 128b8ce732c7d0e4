/**
 * `lagstorm agent`: one segment of a scenario's bots against a target, its history streamed to
 * the coordinator. Steps: hello → clock offset (NTP-style, lowest RTT of 8) → plan → ready → wait
 * for time 0 → play, sending a batch every 250 ms (the batches are the heartbeat) → last batch →
 * summary. A coordinator unreachable for `coordinatorLostMs` ends the agent (exit 2): an agent
 * never outlives its run by more than that.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { clockBase, epochNowMs } from '../core/clock';
import { HarnessError, InvalidInputError } from '../core/exit-codes';
import type { RunParts } from '../core/parts';
import { clientTiming, loadScenario } from '../core/runner';
import type { ResolvedScenario } from '../core/scenario/schema';
import { startFleet, type StartedFleet } from '../bots/fleet/fleet';
import { planForSegment, segmentTuple } from '../bots/fleet/segments';
import { buildFleetPlan } from '../bots/fleet/workload';
import { localTimeZero, machineBootId, measureClockOffset, type ClockOffset } from './clock-offset';
import { evenSegment, type AgentReady, type AgentStatus, type StartReply } from './protocol';
import { ShardStream } from './shard-stream';
import { CoordinatorClient } from './coordinator-client';

export interface AgentOptions {
  scenarioFile: string;
  coordinatorUrl: string;
  runId: string;
  index: number;
  count: number;
  /** ws:// the bots connect to (the run's bots-backend proxy). */
  target: string;
  targetV6?: string;
  seed?: number;
  metricsPort?: number;
  /** The coordinator unreachable this long ends the agent (ms). */
  coordinatorLostMs?: number;
  /** Time 0 not given within this long ends the agent (ms). */
  startTimeoutMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface AgentOutcome {
  bots: number;
  batches: number;
  clock: ClockOffset;
}

export async function runAgent(options: AgentOptions, parts: RunParts): Promise<AgentOutcome> {
  const log = options.log ?? (() => undefined);
  if (options.index >= options.count) throw new InvalidInputError(`--index ${options.index} is not below --agents ${options.count}; agents count from 0`);
  const loaded = loadScenario({ scenarioFile: options.scenarioFile }, parts);
  const seed = options.seed ?? loaded.scenario.seed;
  if (seed === undefined) throw new InvalidInputError(`${options.scenarioFile} has no seed: pass --seed, the same as the coordinator's (every agent must plan the same run)`);
  const scenario: ResolvedScenario = { ...loaded.scenario, seed, runtime: loaded.scenario.runtime };
  const split = evenSegment(options.index, options.count);
  const tuple = segmentTuple(split.segment, split.sequence);
  const prefix = `agent ${options.index} (segment ${split.segment})`;

  const client = new CoordinatorClient({ url: options.coordinatorUrl, index: options.index, name: prefix, lostAfterMs: options.coordinatorLostMs, signal: options.signal });
  const post = <T>(what: string, body: unknown, accept: number[] = []): Promise<T> => client.post<T>(what, body, accept);

  log(`${prefix}: pid ${process.pid}, coordinator ${options.coordinatorUrl}, run ${options.runId}`);
  await post('hello', { runId: options.runId, pid: process.pid, segment: split.segment });
  const clock = await measureClockOffset(async () => {
    const t0 = epochNowMs();
    const { t1, t2 } = await post<{ t1: number; t2: number }>('clock', {});
    return { t0, t1, t2, t3: epochNowMs() };
  });
  log(`${prefix}: clock offset ${clock.offsetMs} ms ± ${clock.errorMs} ms`);
  const plan = planForSegment(buildFleetPlan(scenario, parts.games.load(loaded.gameModule)), tuple);
  const ready: AgentReady = {
    clockOffsetMs: clock.offsetMs,
    clockErrorMs: clock.errorMs,
    clockRttMs: clock.rttMs,
    monotonicBaseMs: clockBase(),
    bootId: machineBootId(),
    bots: plan.bots.length,
    dropped: plan.dropped,
    loadEndMs: plan.loadEndMs,
    metricsUrl: options.metricsPort ? `http://127.0.0.1:${options.metricsPort}/metrics` : '',
  };
  await post('ready', ready);

  const startDeadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  let runStartEpochMs: number | undefined;
  while (runStartEpochMs === undefined) {
    const answer = await client.call<StartReply>('start', { method: 'GET' });
    if ('stop' in answer) throw new HarnessError(`${prefix}: the coordinator called the run off before time 0`);
    if ('runStartEpochMs' in answer) runStartEpochMs = answer.runStartEpochMs;
    else if (Date.now() > startDeadline) throw new HarnessError(`${prefix}: no time 0 from the coordinator within ${Math.round((options.startTimeoutMs ?? 120_000) / 1000)} s`);
    else await sleep(100);
  }
  // Time 0 on this agent's clock, so bots act (and their history is timed) on the coordinator's timeline.
  const localZero = localTimeZero(runStartEpochMs, clock);
  const stream = new ShardStream({ now: () => epochNowMs() - localZero });
  const abort = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
  const fleet: StartedFleet = await startFleet({ scenario, gameModule: loaded.gameModule, wsUrl: options.target, wsUrlV6: options.targetV6, runStartEpochMs: localZero, recorder: stream, metricsPort: options.metricsPort, segment: tuple, timing: clientTiming(scenario.client), signal, log });

  // Sent with every batch: the coordinator fails the run on a saturated agent.
  const status = (): AgentStatus => {
    const progress = fleet.progress();
    return { online: progress.botsOnline, actionsPerSecond: progress.actionsPerSecond, errors: progress.errors, loadGenerator: fleet.health() };
  };
  const flushOutstanding = async (): Promise<void> => {
    if ((await client.flush(stream, status)) && !signal.aborted) {
      log(`${prefix}: the coordinator asked to stop`);
      abort.abort();
    }
  };
  let result;
  try {
    let finished = false;
    void fleet.done.then(() => (finished = true));
    while (!finished) {
      await sleep(250);
      stream.cut();
      await flushOutstanding();
    }
    result = await fleet.done;
    stream.end();
    await flushOutstanding();
    for (let guard = 0; guard < 100; guard++) {
      const answer = await post<{ ok?: boolean; acked?: number }>('done', { result, lastBatch: stream.lastBatch }, [409]);
      if (answer.ok) break;
      stream.acknowledge(answer.acked ?? 0);
      await flushOutstanding();
    }
  } finally {
    abort.abort();
    await fleet.stop().catch(() => undefined);
  }
  log(`${prefix}: done: ${result.bots} bots, ${stream.lastBatch} batches`);
  return { bots: result.bots, batches: stream.lastBatch, clock };
}

