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
  /** A timer armed again and again without allocating (the bots' think and action timers); optional: see reusableTimer(). */
  timer?(callback: () => void): ReusableTimer;
}

/** One callback, armed for one due time at a time. */
export interface ReusableTimer {
  /** (Re)arms the timer `ms` from now, replacing any earlier arming. */
  arm(ms: number): void;
  cancel(): void;
}

/** The clock's own reusable timer, or one built on its setTimeout. */
export function reusableTimer(clock: Clock, callback: () => void): ReusableTimer {
  if (clock.timer) return clock.timer(callback);
  let handle: TimerHandle | undefined;
  const fire = (): void => {
    handle = undefined;
    callback();
  };
  return {
    arm(ms) {
      if (handle !== undefined) clock.clearTimeout(handle);
      handle = clock.setTimeout(fire, ms);
    },
    cancel() {
      if (handle !== undefined) clock.clearTimeout(handle);
      handle = undefined;
    },
  };
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

/**
 * The real clock, relative to `runStartEpochMs`. Its timers share one queue over a single global
 * timer (present in browsers, Node and k6): a Node Timeout per bot action lived out its think time,
 * was promoted, and was the largest share of the fleet's old-generation garbage.
 */
export function systemClock(runStartEpochMs: number): Clock {
  const now = (): number => epochNowMs() - runStartEpochMs;
  const queue = new TimerQueue(now);
  return {
    now,
    setTimeout: (callback, ms) => {
      const timer = queue.timer(callback);
      timer.arm(ms);
      return timer;
    },
    clearTimeout: (handle) => (handle as QueuedTimer | undefined)?.cancel(),
    timer: (callback) => queue.timer(callback),
  };
}

/** Fires a timer this close to its due time: the global timer has ms granularity. */
const FIRE_SLACK_MS = 1;

class QueuedTimer implements ReusableTimer {
  due = 0;
  /** Position in the heap; -1 when not armed. */
  index = -1;

  constructor(
    private readonly queue: TimerQueue,
    readonly callback: () => void,
  ) {}

  arm(ms: number): void {
    this.queue.arm(this, ms);
  }

  cancel(): void {
    this.queue.remove(this);
  }
}

/** An indexed binary min-heap of timers by due time, driven by one global timer. */
class TimerQueue {
  private readonly heap: QueuedTimer[] = [];
  private handle: ReturnType<typeof setTimeout> | undefined;
  private handleDue = Infinity;

  constructor(private readonly now: () => number) {}

  timer(callback: () => void): QueuedTimer {
    return new QueuedTimer(this, callback);
  }

  arm(timer: QueuedTimer, ms: number): void {
    this.remove(timer);
    timer.due = this.now() + Math.max(0, ms);
    timer.index = this.heap.length;
    this.heap.push(timer);
    this.siftUp(timer.index);
    if (timer.due < this.handleDue) this.schedule();
  }

  /** Unarms; the global timer may then fire with nothing due, which only reschedules it. */
  remove(timer: QueuedTimer): void {
    const index = timer.index;
    if (index < 0) return;
    timer.index = -1;
    const last = this.heap.pop()!;
    // Nothing armed: the global timer must not keep the process alive.
    if (this.heap.length === 0 && this.handle !== undefined) {
      globalThis.clearTimeout(this.handle);
      this.handle = undefined;
      this.handleDue = Infinity;
    }
    if (index === this.heap.length) return;
    this.heap[index] = last;
    last.index = index;
    this.siftDown(index);
    this.siftUp(last.index);
  }

  private schedule(): void {
    if (this.handle !== undefined) globalThis.clearTimeout(this.handle);
    this.handle = undefined;
    this.handleDue = Infinity;
    const first = this.heap[0];
    if (!first) return;
    this.handleDue = first.due;
    this.handle = globalThis.setTimeout(this.fire, Math.max(0, first.due - this.now()));
  }

  private readonly fire = (): void => {
    this.handle = undefined;
    this.handleDue = Infinity;
    try {
      // Bounded by the heap: a callback that re-arms its own timer lands after `now`.
      const limit = this.now() + FIRE_SLACK_MS;
      for (let fired = 0, most = this.heap.length; fired < most && this.heap.length > 0 && this.heap[0].due <= limit; fired++) {
        const timer = this.heap[0];
        this.remove(timer);
        timer.callback();
      }
    } finally {
      if (this.handle === undefined) this.schedule();
    }
  };

  private siftUp(index: number): void {
    const heap = this.heap;
    const timer = heap[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (parent.due <= timer.due) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = timer;
    timer.index = index;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const timer = heap[index];
    const size = heap.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && heap[right].due < heap[left].due ? right : left;
      if (heap[child].due >= timer.due) break;
      heap[index] = heap[child];
      heap[index].index = index;
      index = child;
    }
    heap[index] = timer;
    timer.index = index;
  }
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
