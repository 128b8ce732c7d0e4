/**
 * One share of the fleet's bots on the current thread, on the run's clock: a worker thread hosts
 * one (worker.ts), and a fleet small enough for one thread hosts its bots on the main thread.
 */
import WebSocket from 'ws';
import { systemClock } from '../../core/clock';
import type { HistoryDraft, SessionTiming } from '../core/types';
import type { WebSocketLike } from '../../core/websocket-like';
import { loadGameModule } from '../load-game';
import { LeanWebSocket } from './lean-websocket';
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

/**
 * ws frames a string as a header and a payload written together (cork, two writes, a writev);
 * a Buffer it masks into one buffer and one write, which costs less per action.
 */
function sendInOneWrite(this: WebSocket, data: string): void {
  if (typeof data === 'string') WebSocket.prototype.send.call(this, Buffer.from(data), { binary: false });
  else (WebSocket.prototype.send as (data: unknown) => void).call(this, data); // a plug-in's binary frame goes as it is
}

export interface BotHost extends PlanRunner {
  /** After done: drops the sockets still closing (a close handshake through a cut link waits 30 s), as ending a worker thread does. */
  dropSockets(): void;
}

/** Starts the plans now; the load ends by itself at `loadEndMs`. */
export function hostPlans(init: BotHostInit, record: (entry: HistoryDraft) => void): BotHost {
  const clock = systemClock(init.runStartEpochMs);
  const open = new Set<WebSocket | LeanWebSocket>();
  const gone = (socket: LeanWebSocket): boolean => open.delete(socket);
  const connect = (url: string): WebSocketLike => {
    if (url.startsWith('ws:')) {
      const lean = new LeanWebSocket(url, { onGone: gone });
      open.add(lean);
      return lean;
    }
    const socket = new WebSocket(url, { perMessageDeflate: false }); // wss:// (TLS) stays on ws
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    return Object.assign(socket, { send: sendInOneWrite });
  };
  const runner = runPlans({
    plans: init.plans,
    game: loadGameModule(init.gameModule),
    wsUrl: init.wsUrl,
    wsUrlV6: init.wsUrlV6,
    clock,
    connect,
    sink: { record },
    timing: init.timing,
  });
  const loadEnd = setTimeout(() => void runner.stop(), Math.max(0, init.loadEndMs - clock.now()));
  void runner.done.then(() => clearTimeout(loadEnd));
  return {
    ...runner,
    dropSockets: () => {
      for (const socket of open) socket.terminate();
      open.clear();
    },
  };
}
