/**
 * The fleet at scale, as a run uses it (history, metrics and the shadow bookkeeping on): N bots of
 * the echo-ack game (think time exponential, mean 10 s) against bench/peers/echo-ack-server.ts in
 * its own process. Measured over a steady window once every bot is online: the load generator's
 * CPU (all its threads, share of all cores), its event-loop lag p99 (the fleet's per-second
 * samples, worst thread), RSS and actions/s. bench/bots.bench.ts runs it (BENCH_PARTS=fleet-scale)
 * in a child with a raised file limit and records the steps in bench/results/bots.json.
 *   node bin/run-ts.js bench/fleet-scale.ts '{"url":"ws://127.0.0.1:N","bots":50000,"rampMs":60000,"steadyMs":30000,"workers":0}'
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Gauge } from 'prom-client';
import { epochNowMs } from '../core/clock';
import { scenarioSchema } from '../core/scenario/schema';
import { startFleet } from '../bots/fleet/fleet';
import { HistoryRecorder } from '../bots/history/recorder';
import { watchEventLoopLag } from '../bots/metrics/event-loop-lag';

interface Step {
  url: string;
  bots: number;
  rampMs: number;
  steadyMs: number;
  /** The fleet's worker threads (absent: its default). */
  workers?: number;
}

async function main(): Promise<void> {
  const step = JSON.parse(process.argv[2]) as Step;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-fleet-scale-'));
  const runStartEpochMs = epochNowMs();
  const recorder = new HistoryRecorder(path.join(scratch, 'history.jsonl.gz'), { runStartEpochMs });
  let completions = 0;
  const sink = {
    append: (entry: Parameters<HistoryRecorder['append']>[0]) => {
      if (entry.type === 'ok' && entry.process !== 'nemesis') completions += 1;
      recorder.append(entry);
    },
  };
  const settleMs = 10_000;
  const scenario = {
    ...scenarioSchema.parse({
      name: 'fleet-scale',
      duration: step.rampMs + 60_000 + settleMs + step.steadyMs,
      recovery: { window: 1000 },
      bots: { echo: { profile: 'idler', count: step.bots, ramp: step.rampMs } },
    }),
    seed: 1,
  };
  const fleet = await startFleet({ scenario, gameModule: path.join(__dirname, 'peers', 'echo-game.ts'), wsUrl: step.url, runStartEpochMs, recorder: sink, ...(step.workers !== undefined ? { workers: step.workers } : {}) });
  const started = Date.now();
  try {
    // Bounded: the ramp plus a minute for every bot to be online.
    while (fleet.progress().botsOnline < step.bots && Date.now() - started < step.rampMs + 60_000) await sleep(500);
    const online = fleet.progress().botsOnline;
    await sleep(settleMs);
    const lagGauge = fleet.metricsRegistry.getSingleMetric('lagstorm_loadgen_event_loop_lag_seconds') as Gauge;
    const lagSamplesMs: number[] = [];
    const rss: number[] = [];
    const windowLag = watchEventLoopLag(); // this thread over the whole window: the bots' when the fleet keeps them on the main thread
    const cpuBefore = process.cpuUsage();
    const wallBefore = Date.now();
    const completionsBefore = completions;
    const end = Date.now() + step.steadyMs;
    while (Date.now() < end) {
      await sleep(1000); // the fleet samples its lag once a second
      lagSamplesMs.push(((await lagGauge.get()).values[0]?.value ?? 0) * 1000);
      rss.push(process.memoryUsage.rss());
    }
    const cpu = process.cpuUsage(cpuBefore);
    const seconds = (Date.now() - wallBefore) / 1000;
    const sorted = [...lagSamplesMs].sort((a, b) => a - b);
    const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;
    const result = {
      bots: step.bots,
      online,
      actionsPerSecond: round((completions - completionsBefore) / seconds, 1),
      cpuRatio: round((cpu.user + cpu.system) / 1e6 / seconds / os.availableParallelism(), 3),
      cpuMicrosPerAction: round((cpu.user + cpu.system) / Math.max(1, completions - completionsBefore), 1),
      lagP99MsWorstSecond: round(sorted[sorted.length - 1] ?? 0),
      lagP99MsMedianSecond: round(sorted[Math.floor((sorted.length - 1) / 2)] ?? 0),
      mainThreadLagP99MsWindow: round(windowLag.p99Ms()),
      botsOnMainThread: fleet.workerThreads === 0,
      rssMb: round(rss.sort((a, b) => a - b)[Math.floor((rss.length - 1) / 2)] / 2 ** 20, 1),
      /** Since the fleet started, ramp included. */
      saturatedAtAnyTime: fleet.health().saturated,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await fleet.stop();
    await recorder.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
