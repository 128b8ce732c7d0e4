/**
 * Helpers that make the fault contract hard to break: `defineFault` types params from their zod
 * schema; `healOnce` turns a heal function into an idempotent one (concurrent calls share one run,
 * a successful heal is never repeated, a failed one may be retried).
 */
import type { z, ZodType } from 'zod';
import type { DebrisItem, DebrisRecorder } from '../stack/debris';
import type { Fault, FaultHandle, FaultTarget } from './fault';

export function defineFault<S extends ZodType<Record<string, unknown>>>(fault: {
  type: string;
  family: Fault['family'];
  description: string;
  params: S;
  requiresRoot?: boolean;
  targetOf?: (params: z.output<S>) => string;
  locks?: (params: z.output<S>) => string[];
  inject(target: FaultTarget, params: z.output<S>, signal: AbortSignal): Promise<FaultHandle>;
}): Fault<z.output<S>> {
  return fault as unknown as Fault<z.output<S>>;
}

export function healOnce(heal: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let healed = false;
  return async () => {
    if (healed) return;
    if (!running) {
      running = heal().then(
        () => {
          healed = true;
        },
        (error: unknown) => {
          running = undefined;
          throw error;
        },
      );
    }
    return running;
  };
}

/**
 * Undo steps collected while injecting: each step registers its undo right after it acted, so a
 * failure half-way undoes exactly what was done (newest first) and nothing is left half-applied.
 */
export class UndoStack {
  private readonly steps: Array<{ what: string; undo: () => Promise<void> }> = [];

  push(what: string, undo: () => Promise<void>): void {
    this.steps.push({ what, undo });
  }

  get size(): number {
    return this.steps.length;
  }

  /** Runs every undo, newest first; keeps going past failures and reports them all together. */
  async unwind(): Promise<void> {
    const errors: string[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop() as { what: string; undo: () => Promise<void> };
      try {
        await step.undo();
      } catch (error) {
        errors.push(`${step.what}: ${(error as Error).message}`);
      }
    }
    if (errors.length > 0) throw new Error(`could not undo every step: ${errors.join('; ')}`);
  }
}

/** Records a debris item and returns the function that forgets it (call after the thing is gone). */
export function recordDebris(debris: DebrisRecorder, item: DebrisItem): () => void {
  const id = debris.record(item);
  let forgotten = false;
  return () => {
    if (!forgotten) debris.forget(id);
    forgotten = true;
  };
}
