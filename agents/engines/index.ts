/** The bundled agent engines by name (the composition root hands `getEngine` to the runner). */
import { InvalidInputError } from '../../core/exit-codes';
import type { AgentEngine } from '../engine';
import { localEngine } from './local-engine';
import { swarmEngine } from './swarm-engine';

const engines: Record<string, AgentEngine> = { local: localEngine, swarm: swarmEngine };

export function engineNames(): string[] {
  return Object.keys(engines);
}

export function getEngine(name: string): AgentEngine {
  const engine = engines[name];
  if (!engine) throw new InvalidInputError(`--engine: unknown engine "${name}"; choose one of: ${engineNames().join(', ')}`);
  return engine;
}
