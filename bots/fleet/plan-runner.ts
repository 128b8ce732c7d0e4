/**
 * Runs a set of bot plans in the current thread: starts each window's session on time, stops it
 * at the window's end, and reports when every window is over. The worker thread wraps this; tests
 * and benchmarks may call it directly.
 */
import type { Clock, TimerHandle } from '../../core/clock';
import type { GameDefinition } from '../../core/game';
import { deriveSeed, uniformInt, type Rng } from '../../core/rng';
import { profileOf } from '../load-game';
import { BotSession } from '../core/session';
import type { BotSink, SessionTiming } from '../core/types';
import type { WebSocketFactory } from '../../core/websocket-like';
import { hotPeerPicker } from './hot-spots';
import type { BotPlan } from './workload';

export interface PlanRunnerOptions {
  plans: readonly BotPlan[];
  /** The game the bots play (each session gets its own `game.client(context)`). */
  game: GameDefinition;
  wsUrl: string;
  wsUrlV6?: string;
  clock: Clock;
  connect: WebSocketFactory;
  sink: BotSink;
  timing?: Partial<SessionTiming>;
}

export interface PlanRunner {
  /** Sessions currently logged in. */
  online(): number;
  /** Sessions started (windows begun). */
  started(): number;
  /** Graceful stop of everything: pending windows never start, live sessions end. */
  stop(): Promise<void>;
  /** Resolves when every window has ended (or after stop()). */
  done: Promise<void>;
}

export function peerPicker(plan: BotPlan): (rng: Rng) => string | undefined {
  const { group, first, last } = plan.peers;
  const selfIndex = group === plan.group ? Number(plan.playerId.slice(group.length + 1)) : -1;
  if (plan.peers.hot) return hotPeerPicker(plan, selfIndex);
  return (rng) => {
    const others = last - first + 1 - (selfIndex >= first && selfIndex <= last ? 1 : 0);
    if (others <= 0) {
      rng.next(); // keep the draw count fixed so the action sequence stays aligned
      return undefined;
    }
    let k = uniformInt(rng, first, first + others - 1);
    if (selfIndex >= first && k >= selfIndex) k += 1; // skip self
    return `${group}-${k}`;
  };
}

export function runPlans(options: PlanRunnerOptions): PlanRunner {
  const { clock } = options;
  const live = new Set<BotSession>();
  const timers = new Set<TimerHandle>();
  let remaining = options.plans.reduce((sum, plan) => sum + plan.windows.length, 0);
  let startedCount = 0;
  let stopping = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const windowEnded = (): void => {
    remaining -= 1;
    if (remaining > 0) return;
    // Every window is over (some ended early, by maxActions): their stop timers must not keep the thread alive.
    for (const handle of timers) clock.clearTimeout(handle);
    timers.clear();
    resolveDone();
  };
  if (remaining === 0) resolveDone();

  const later = (at: number, callback: () => void): void => {
    const handle = clock.setTimeout(() => {
      timers.delete(handle);
      callback();
    }, at - clock.now());
    timers.add(handle);
  };

  for (const plan of options.plans) {
    const profile = profileOf(options.game, plan.profile);
    const url = plan.ipv6 ? (options.wsUrlV6 ?? options.wsUrl) : options.wsUrl;
    const pickPeer = peerPicker(plan);
    plan.windows.forEach((window, w) => {
      later(window.start, () => {
        if (stopping) return windowEnded();
        startedCount += 1;
        const session = new BotSession({
          botId: plan.botId,
          playerId: plan.playerId,
          url,
          profile,
          actions: options.game.actions,
          createClient: options.game.client,
          seed: w === 0 ? plan.seed : deriveSeed(plan.seed, 'window', w),
          // The same for every window: the client derives the player's resume token from it.
          playerSeed: plan.seed,
          clock,
          openWebSocket: options.connect,
          sink: options.sink,
          pickPeer,
          maxActions: plan.maxActions,
          timing: options.timing,
          voluntaryDisconnects: plan.voluntaryDisconnects,
          ...(plan.burst ? { burst: plan.burst } : {}),
          intendedStartAt: window.start,
        });
        live.add(session);
        void session.ended.then(() => {
          live.delete(session);
          windowEnded();
        });
        session.start();
        later(window.stop, () => void session.stop());
      });
    });
  }

  return {
    online: () => {
      let n = 0;
      for (const session of live) if (session.online) n += 1;
      return n;
    },
    started: () => startedCount,
    stop: async () => {
      stopping = true;
      // Windows not yet begun will never start: count them as ended.
      const pendingStarts = remaining - live.size;
      for (const handle of timers) clock.clearTimeout(handle);
      timers.clear();
      for (let i = 0; i < pendingStarts; i++) windowEnded();
      await Promise.all([...live].map((session) => session.stop()));
      await done;
    },
    done,
  };
}
