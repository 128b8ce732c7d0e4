/**
 * A fleet worker thread: runs its share of the bot plans and streams history entries and load
 * figures (online bots, event-loop lag p99) to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { adoptClockBase } from '../../core/clock';
import type { HistoryDraft } from '../core/types';
import { hostPlans, type BotHostInit } from './bot-host';
import { watchEventLoopLag } from '../metrics/event-loop-lag';

export interface WorkerInit extends BotHostInit {
  /** The main thread's clock base (core/clock.ts): bots time themselves on its clock. */
  clockBase?: number;
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
let batch: HistoryDraft[] = [];
const flush = (): void => {
  if (batch.length === 0) return;
  port.postMessage({ t: 'entries', entries: batch } satisfies WorkerToMain);
  batch = [];
};

const host = hostPlans(init, (entry) => {
  batch.push(entry);
  if (batch.length >= 2000) flush();
});

const lag = watchEventLoopLag();
const flushTimer = setInterval(flush, init.batchMs ?? 50);
const statsTimer = setInterval(() => {
  port.postMessage({ t: 'stats', online: host.online(), started: host.started(), lagP99Ms: lag.p99Ms() } satisfies WorkerToMain);
  lag.reset();
}, init.statsMs ?? 500);

port.on('message', (message: MainToWorker) => {
  if (message.t === 'stop') void host.stop();
});

void host.done.then(() => {
  clearInterval(flushTimer);
  clearInterval(statsTimer);
  lag.stop();
  flush();
  port.postMessage({ t: 'done', started: host.started() } satisfies WorkerToMain);
});
