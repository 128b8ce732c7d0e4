/**
 * Helpers that make the fault contract hard to break: `defineFault` types params from their zod
 * schema and refuses to inject into a SUT lacking a capability the fault `requires`; `healOnce` turns a heal function into an idempotent one (concurrent calls share one run,
 * a successful heal is never repeated, a failed one may be retried).
 */
import type { z, ZodType } from 'zod';
import { HarnessError } from '../core/exit-codes';
import type { DebrisItem, DebrisRecorder } from '../stack/debris';
import { missingCapabilities, type Capability, type SystemUnderTest } from '../stack/system-under-test';
import type { Efficacy, Fault, FaultEvidence, FaultHandle, FaultTarget } from './fault';

/** Why `sut` cannot take this fault, or undefined when it offers every capability the fault requires. */
export function capabilityProblem(faultType: string, required: readonly Capability[], sut: Pick<SystemUnderTest, 'runtime' | 'capabilities'>): string | undefined {
  if (required.length === 0) return undefined;
  const missing = missingCapabilities(required, sut.capabilities ?? new Set());
  if (missing.length === 0) return undefined;
  return `fault "${faultType}" needs ${missing.join(', ')}, which this ${sut.runtime ?? 'unknown'} system under test does not offer`;
}

export function defineFault<S extends ZodType<Record<string, unknown>>>(fault: {
  type: string;
  family: Fault['family'];
  description: string;
  params: S;
  requiresRoot?: boolean;
  requires: (params: z.output<S>) => Capability[];
  targetOf?: (params: z.output<S>) => string;
  locks?: (params: z.output<S>) => string[];
  inject(target: FaultTarget, params: z.output<S>, signal: AbortSignal): Promise<FaultHandle>;
  proof: string;
  judge(evidence: FaultEvidence<z.output<S>>): Efficacy;
}): Fault<z.output<S>> {
  const inject = fault.inject.bind(fault);
  return {
    ...fault,
    async inject(target: FaultTarget, params: z.output<S>, signal: AbortSignal): Promise<FaultHandle> {
      const problem = capabilityProblem(fault.type, fault.requires(params), target.sut);
      if (problem) throw new HarnessError(`${problem}; use a runtime that offers it or drop the fault`);
      return inject(target, params, signal);
    },
  } as unknown as Fault<z.output<S>>;
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
