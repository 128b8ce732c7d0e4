/** Runtime registry: callers ask for a runtime by name and never import a driver directly. */
import { InvalidInputError } from '../core/exit-codes';
import { containersRuntimeCapabilities } from './containers-sut';
import { processRuntime } from './process-runtime';
import type { Runtime, RuntimeName } from './types';

type RuntimeFactory = () => Runtime;

const runtimes = new Map<RuntimeName, RuntimeFactory>([
  ['process', () => processRuntime],
  // Loaded on first start, so process runs never load testcontainers (require: see undo-debris.ts).
  ['containers', () => ({ name: 'containers', capabilities: containersRuntimeCapabilities(), start: (options) => (require('./containers-runtime') as typeof import('./containers-runtime')).containersRuntime.start(options) })],
]);

/** Registers (or replaces) a runtime driver; the containers driver plugs in here. */
export function registerRuntime(name: RuntimeName, factory: RuntimeFactory): void {
  runtimes.set(name, factory);
}

export function runtimeNames(): RuntimeName[] {
  return [...runtimes.keys()];
}

export function getRuntime(name: string): Runtime {
  const factory = runtimes.get(name as RuntimeName);
  if (!factory) throw new InvalidInputError(`unknown runtime '${name}'; choose one of: ${runtimeNames().join(', ')}`);
  return factory();
}
