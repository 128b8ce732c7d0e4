/**
 * Time for the bot core: injected so tests can drive it and the core stays free of Node APIs.
 * `now()` is ms since the run's start epoch, so every thread and the recorder share one timeline.
 */
export type TimerHandle = unknown;

export interface Clock {
  /** ms since the run's start epoch (fractional). */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

interface PerformanceLike {
  timeOrigin: number;
  now(): number;
}

type HrtimeBigint = () => bigint;
const hrtime = (globalThis as { process?: { hrtime?: { bigint?: HrtimeBigint } } }).process?.hrtime?.bigint;
/** Epoch ms at the machine's monotonic zero, fixed once per process and handed to its worker threads. */
let monotonicBase: number | undefined;

/**
 * Epoch ms with sub-ms precision on one clock for every thread of a run: the machine's monotonic
 * clock (shared by all threads and processes) plus one base. Each thread's performance.timeOrigin
 * is read off the wall clock when the thread starts, and a stepped wall clock (seen here: 12 s on
 * a loaded VM) put worker-thread bots that far off the main thread's timeline.
 */
export function epochNowMs(): number {
  if (hrtime) {
    const monotonic = Number(hrtime()) / 1e6;
    monotonicBase ??= Date.now() - monotonic;
    return monotonicBase + monotonic;
  }
  const perf = (globalThis as { performance?: PerformanceLike }).performance;
  return perf && typeof perf.timeOrigin === 'number' ? perf.timeOrigin + perf.now() : Date.now();
}

/** This process's clock base, for worker threads to adopt (undefined where there is no monotonic clock to share). */
export function clockBase(): number | undefined {
  epochNowMs();
  return monotonicBase;
}

/** A worker thread takes its parent's base, so `epochNowMs()` reads the same in both. */
export function adoptClockBase(base: number | undefined): void {
  if (hrtime && base !== undefined) monotonicBase = base;
}

/** The real clock, relative to `runStartEpochMs`. Uses the global timers (present in browsers, Node and k6). */
export function systemClock(runStartEpochMs: number): Clock {
  return {
    now: () => epochNowMs() - runStartEpochMs,
    setTimeout: (callback, ms) => globalThis.setTimeout(callback, Math.max(0, ms)),
    clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}

/** A clock tests advance by hand: timers fire in due order inside `advance()`. */
export class ManualClock implements Clock {
  private current = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { due: number; callback: () => void }>();

  now(): number {
    return this.current;
  }
  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { due: this.current + Math.max(0, ms), callback });
    return id;
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }
  /** Moves time forward by `ms`, firing due timers in order (bounded: at most 1e6 timers). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (let fired = 0; fired < 1_000_000; fired++) {
      let nextId = -1;
      let nextDue = Infinity;
      for (const [id, timer] of this.timers) {
        if (timer.due < nextDue || (timer.due === nextDue && id < nextId)) {
          nextDue = timer.due;
          nextId = id;
        }
      }
      if (nextId < 0 || nextDue > target) break;
      const timer = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.current = Math.max(this.current, timer.due);
      timer.callback();
    }
    this.current = target;
  }
  get pendingTimers(): number {
    return this.timers.size;
  }
}
