/** The bundled agent engines by name (the composition root hands `getEngine` to the runner). */
import { InvalidInputError } from '../../core/exit-codes';
import type { AgentEngine, AgentEngineSettings } from '../engine';
import { kubernetesEngine } from './kubernetes-engine';
import { localEngine } from './local-engine';
import { swarmEngine } from './swarm-engine';

const engines: Record<string, (settings: AgentEngineSettings) => AgentEngine> = {
  local: () => localEngine,
  swarm: (settings) => swarmEngine(settings),
  kubernetes: (settings) => kubernetesEngine(settings),
};

export function engineNames(): string[] {
  return Object.keys(engines);
}

/** The engine `name` with the run's agent settings (`--image`, `--namespace`, ...). */
export function getEngine(name: string, settings: AgentEngineSettings = {}): AgentEngine {
  const engine = engines[name];
  if (!engine) throw new InvalidInputError(`--engine: unknown engine "${name}"; choose one of: ${engineNames().join(', ')}`);
  return engine(settings);
}
