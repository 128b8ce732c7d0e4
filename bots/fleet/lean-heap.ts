/**
 * V8 sizes its heap for throughput: under a fleet's steady allocation the young generation grows to
 * 2 × 16 MB, and the old generation may grow well past its live size before a full collection. For a
 * load generator that is memory per bot. Measured on the peer bench at 5 000 bots (2 s think time):
 * RSS 175–180 MB with V8's defaults, 122 MB with these two flags and the leaner kit (bench/results/peers.json).
 * The price is CPU: the bots bench's 2 000 actions/s cost 72–77 µs per action against 63–66 with V8's
 * defaults; almost all of it is the small young generation (the heap-growing limit alone costs ~1 µs).
 * The GC reads both flags each time it sizes a space, so setting them at run time takes effect (measured,
 * and checked by lean-heap.test.ts); they are process-wide, so the fleet's worker threads get them too.
 * LAGSTORM_HEAP=v8 keeps V8's defaults, for a run short of CPU rather than memory.
 */
import * as v8 from 'node:v8';

const HEAP_ENV = 'LAGSTORM_HEAP';
const HEAPS = ['lean', 'v8'] as const;

let applied = false;

/** Keeps the young generation at its current size and the old generation within 25 % above its live size, unless LAGSTORM_HEAP=v8. */
export function keepHeapLean(env: NodeJS.ProcessEnv = process.env): void {
  const heap = env[HEAP_ENV] || 'lean';
  if (!(HEAPS as readonly string[]).includes(heap)) {
    throw new Error(`${HEAP_ENV}=${heap} is not a heap profile: use 'lean' (the default: less memory per bot) or 'v8' (V8's defaults: less CPU per action), or unset it`);
  }
  if (heap === 'v8' || applied) return;
  applied = true;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--heap-growing-percent=25');
}

/** For bin/: keepHeapLean, or its error and exit 3 (invalid input) before anything starts. */
export function keepHeapLeanOrExit(): void {
  try {
    keepHeapLean();
  } catch (error) {
    console.error(`lagstorm: ${(error as Error).message}`);
    process.exit(3);
  }
}

/** The heap profile this process was given, for the environment of the agents it launches (also in containers). */
export function heapProfileEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const heap = env[HEAP_ENV];
  return heap ? { [HEAP_ENV]: heap } : {};
}
