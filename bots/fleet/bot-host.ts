/**
 * One share of the fleet's bots on the current thread, on the run's clock: a worker thread hosts
 * one (worker.ts), and a fleet small enough for one thread hosts its bots on the main thread.
 */
import WebSocket from 'ws';
import { systemClock } from '../../core/clock';
import type { HistoryDraft, SessionTiming } from '../core/types';
import { loadGameModule } from '../load-game';
import { runPlans, type PlanRunner } from './plan-runner';
import type { BotPlan } from './workload';

export interface BotHostInit {
  plans: BotPlan[];
  /** Absolute path of the game plug-in module (its default export is a GameDefinition). */
  gameModule: string;
  wsUrl: string;
  wsUrlV6?: string;
  runStartEpochMs: number;
  loadEndMs: number;
  timing?: Partial<SessionTiming>;
}

/** Starts the plans now; the load ends by itself at `loadEndMs`. */
export function hostPlans(init: BotHostInit, record: (entry: HistoryDraft) => void): PlanRunner {
  const clock = systemClock(init.runStartEpochMs);
  const runner = runPlans({
    plans: init.plans,
    game: loadGameModule(init.gameModule),
    wsUrl: init.wsUrl,
    wsUrlV6: init.wsUrlV6,
    clock,
    connect: (url) => new WebSocket(url, { perMessageDeflate: false }),
    sink: { record },
    timing: init.timing,
  });
  const loadEnd = setTimeout(() => void runner.stop(), Math.max(0, init.loadEndMs - clock.now()));
  void runner.done.then(() => clearTimeout(loadEnd));
  return runner;
}
