/**
 * Faults registered by `type` (like Toxiproxy's toxic registry). Scenario validation asks
 * `validateFaultParams`; the nemesis asks `getFault`. `defaultRegistry` holds every built-in fault.
 */
import type { z } from 'zod';
import { InvalidInputError } from '../core/exit-codes';
import { missingCapabilities, type Capability } from '../stack/system-under-test';
import type { Runtime } from '../stack/types';
import type { Fault } from './fault';
import { kernelFaults } from './kernel';
import { processFaults } from './process';
import { toxiproxyFaults } from './toxiproxy';
import { walFaults } from './wal';

export type ParamIssue = z.core.$ZodIssue;

export class FaultRegistry {
  private readonly faults = new Map<string, Fault>();

  constructor(faults: Iterable<Fault> = []) {
    for (const fault of faults) this.register(fault);
  }

  register(fault: Fault): this {
    if (this.faults.has(fault.type)) throw new Error(`a fault of type "${fault.type}" is already registered`);
    this.faults.set(fault.type, fault);
    return this;
  }

  has(type: string): boolean {
    return this.faults.has(type);
  }

  /** Throws an InvalidInputError listing the known types for an unknown one. */
  get(type: string): Fault {
    const fault = this.faults.get(type);
    if (!fault) throw new InvalidInputError(unknownTypeMessage(type, this.types()));
    return fault;
  }

  list(): Fault[] {
    return [...this.faults.values()];
  }

  types(): string[] {
    return [...this.faults.keys()].sort();
  }

  /** Zod issues (paths relative to `params`); empty when valid. An unknown type is one issue at the root. */
  validate(type: string, params: unknown): ParamIssue[] {
    const fault = this.faults.get(type);
    if (!fault) return [{ code: 'custom', path: [], message: unknownTypeMessage(type, this.types()), input: type }];
    const result = fault.params.safeParse(params ?? {});
    return result.success ? [] : result.error.issues;
  }

  /** What a fault with these (valid) params holds alone while active; see Fault.locks. */
  locksOf(type: string, params: unknown): string[] {
    const fault = this.get(type);
    return fault.locks?.(this.parse(type, params)) ?? [];
  }

  /** The SUT capabilities a fault with these (valid) params needs; see Fault.requires. */
  requirementsOf(type: string, params: unknown): Capability[] {
    return this.get(type).requires(this.parse(type, params));
  }

  /** Faults of `steps` the runtime cannot do, as messages naming the step, the capability and the fix (see faultProblems). */
  capabilityProblems(steps: FaultSteps, runtime: RuntimeOffer, alternatives: readonly RuntimeOffer[] = []): string[] {
    return faultProblems(steps, runtime, { registry: this, alternatives });
  }

  /** Params with defaults filled; throws InvalidInputError naming every bad field. */
  parse(type: string, params: unknown): Record<string, unknown> {
    const fault = this.get(type);
    const result = fault.params.safeParse(params ?? {});
    if (!result.success) {
      const issues = result.error.issues.map((issue) => `params.${issue.path.join('.') || '(root)'}: ${issue.message}`);
      throw new InvalidInputError(`invalid params for fault "${type}": ${issues.join('; ')}`, issues);
    }
    return result.data;
  }
}

function unknownTypeMessage(type: string, known: string[]): string {
  return `unknown fault "${type}"; known faults: ${known.join(', ')}`;
}

export const defaultRegistry = new FaultRegistry([...toxiproxyFaults, ...kernelFaults, ...processFaults, ...walFaults]);

/** A scenario's fault steps: the fixed timeline and the random schedule's mix. */
export interface FaultSteps {
  timeline: ReadonlyArray<{ fault: string; params?: unknown }>;
  random?: { mix: ReadonlyArray<{ fault: string; params?: unknown }> };
}

/** What a runtime (or its variant for a target) offers; `label` names it in messages (default: runtime "<name>"). */
export type RuntimeOffer = Pick<Runtime, 'name' | 'capabilities'> & { label?: string };

/**
 * Every scenario fault the runtime cannot do, as one message per step naming its path, what is
 * missing and the fix (`alternatives`: other runtimes to suggest when they offer it all). Pure; an
 * unknown fault or invalid params are left to scenario validation. Empty: every fault can run.
 */
export function faultProblems(steps: FaultSteps, runtime: RuntimeOffer, options: { registry?: FaultRegistry; alternatives?: readonly RuntimeOffer[] } = {}): string[] {
  const registry = options.registry ?? defaultRegistry;
  const entries = [
    ...steps.timeline.map((step, i) => ({ path: `faults.timeline[${i}]`, step })),
    ...(steps.random?.mix ?? []).map((step, i) => ({ path: `faults.random.mix[${i}]`, step })),
  ];
  const problems: string[] = [];
  for (const { path, step } of entries) {
    if (!registry.has(step.fault) || registry.validate(step.fault, step.params).length > 0) continue;
    const required = registry.requirementsOf(step.fault, step.params);
    const missing = missingCapabilities(required, runtime.capabilities);
    if (missing.length === 0) continue;
    const able = (options.alternatives ?? []).filter((other) => other.name !== runtime.name && missingCapabilities(required, other.capabilities).length === 0).map((other) => `runtime "${other.name}"`);
    const fix = able.length > 0 ? `use ${able.join(' or ')} or drop the fault` : 'drop the fault';
    problems.push(`${path}.fault "${step.fault}" needs ${missing.join(', ')}, which ${runtime.label ?? `runtime "${runtime.name}"`} does not offer; ${fix}`);
  }
  return problems;
}

export function getFault(type: string): Fault {
  return defaultRegistry.get(type);
}

export function listFaults(): Fault[] {
  return defaultRegistry.list();
}

export function validateFaultParams(type: string, params: unknown): ParamIssue[] {
  return defaultRegistry.validate(type, params);
}
