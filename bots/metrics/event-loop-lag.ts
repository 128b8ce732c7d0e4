/**
 * Event-loop lag p99 of the current thread. Node's histogram records the whole interval between
 * its checks, resolution included (idle at 10 ms: p50 10.5 ms), so the resolution is taken off.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 10;

export interface EventLoopLag {
  /** p99 lag (ms) since the last reset. */
  p99Ms(): number;
  reset(): void;
  stop(): void;
}

export function watchEventLoopLag(): EventLoopLag {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  return {
    p99Ms: () => (histogram.count === 0 ? 0 : Math.max(0, histogram.percentile(99) / 1e6 - RESOLUTION_MS)),
    reset: () => histogram.reset(),
    stop: () => histogram.disable(),
  };
}
