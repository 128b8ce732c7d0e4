/**
 * A fleet worker thread: runs its share of the bot plans and streams history entries and load
 * figures (online bots, event-loop lag p99) to the main thread.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { adoptClockBase, systemClock } from '../../core/clock';
import type { HistoryDraft, SessionTiming } from '../core/types';
import { loadGameModule } from '../load-game';
import { runPlans } from './plan-runner';
import type { BotPlan } from './workload';

export interface WorkerInit {
  plans: BotPlan[];
  /** Absolute path of the game plug-in module (its default export is a GameDefinition). */
  gameModule: string;
  wsUrl: string;
  wsUrlV6?: string;
  runStartEpochMs: number;
  /** The main thread's clock base (core/clock.ts): bots time themselves on its clock. */
  clockBase?: number;
  loadEndMs: number;
  timing?: Partial<SessionTiming>;
  batchMs?: number;
  statsMs?: number;
}

export type WorkerToMain =
  | { t: 'entries'; entries: HistoryDraft[] }
  | { t: 'stats'; online: number; started: number; lagP99Ms: number }
  | { t: 'done'; started: number };
export type MainToWorker = { t: 'stop' };

const port = parentPort;
if (!port) throw new Error('bots/fleet/worker.ts runs as a worker thread; use startFleet()');
const init = workerData as WorkerInit;
adoptClockBase(init.clockBase); // the main thread's timeline, whatever the wall clock did since
const clock = systemClock(init.runStartEpochMs);
let batch: HistoryDraft[] = [];
const flush = (): void => {
  if (batch.length === 0) return;
  port.postMessage({ t: 'entries', entries: batch } satisfies WorkerToMain);
  batch = [];
};

const runner = runPlans({
  plans: init.plans,
  game: loadGameModule(init.gameModule),
  wsUrl: init.wsUrl,
  wsUrlV6: init.wsUrlV6,
  clock,
  connect: (url) => new WebSocket(url, { perMessageDeflate: false }),
  sink: {
    record: (entry) => {
      batch.push(entry);
      if (batch.length >= 2000) flush();
    },
  },
  timing: init.timing,
});

const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const flushTimer = setInterval(flush, init.batchMs ?? 50);
const statsTimer = setInterval(() => {
  port.postMessage({ t: 'stats', online: runner.online(), started: runner.started(), lagP99Ms: lag.percentile(99) / 1e6 } satisfies WorkerToMain);
  lag.reset();
}, init.statsMs ?? 500);
const loadEnd = setTimeout(() => void runner.stop(), Math.max(0, init.loadEndMs - clock.now()));

port.on('message', (message: MainToWorker) => {
  if (message.t === 'stop') void runner.stop();
});

void runner.done.then(() => {
  clearTimeout(loadEnd);
  clearInterval(flushTimer);
  clearInterval(statsTimer);
  lag.disable();
  flush();
  port.postMessage({ t: 'done', started: runner.started() } satisfies WorkerToMain);
});
