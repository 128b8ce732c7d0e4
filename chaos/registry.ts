/**
 * Faults registered by `type` (like Toxiproxy's toxic registry). Scenario validation asks
 * `validateFaultParams`; the nemesis asks `getFault`. `defaultRegistry` holds every built-in fault.
 */
import type { z } from 'zod';
import { InvalidInputError } from '../core/exit-codes';
import type { Fault } from './fault';
import { kernelFaults } from './kernel-faults';
import { processFaults } from './process-faults';
import { toxiproxyFaults } from './toxiproxy-faults';
import { walFaults } from './wal-faults';
import { walVolumeFaults } from './wal-volume-faults';

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

export const defaultRegistry = new FaultRegistry([...toxiproxyFaults, ...kernelFaults, ...processFaults, ...walFaults, ...walVolumeFaults]);

export function getFault(type: string): Fault {
  return defaultRegistry.get(type);
}

export function listFaults(): Fault[] {
  return defaultRegistry.list();
}

export function validateFaultParams(type: string, params: unknown): ParamIssue[] {
  return defaultRegistry.validate(type, params);
}
