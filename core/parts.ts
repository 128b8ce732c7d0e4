/**
 * The concrete parts a run is made of, handed to the use-cases (run, capacity, selftest) by the
 * composition root (cli/composition-root.ts). Core names only these ports, never a plug-in.
 */
import type { FaultRegistry } from '../chaos/registry';
import type { ReporterMultiplexer, Reporter } from '../reports/reporter';
import type { Runtime } from '../stack/types';
import type { DebrisUndoers } from '../stack/undo-debris';
import type { GameDefinition } from './game';
import type { AgentEngine, AgentEngineSettings } from '../agents/engine';

export interface GameCatalog {
  /** Names of the bundled games ('reference', ...). */
  names(): string[];
  /** A bundled game's name, or a module path relative to `baseDir`, to an absolute module path. Throws InvalidInputError. */
  resolve(nameOrPath: string, baseDir: string): string;
  load(modulePath: string): GameDefinition;
}

export interface RunParts {
  games: GameCatalog;
  faults: FaultRegistry;
  /** How each fault family undoes its debris after a crash (teardown and `lagstorm cleanup`). */
  debrisUndoers: DebrisUndoers;
  /** Throws InvalidInputError for an unknown runtime, HarnessError for one that cannot run here. */
  runtime(name: string): Runtime;
  reporters(options: { only?: string[]; extra?: Reporter[] }): ReporterMultiplexer;
  /** The agent engine of `run --agents N --engine <name>` with its settings; throws InvalidInputError for an unknown one. */
  engine?(name: string, settings?: AgentEngineSettings): AgentEngine;
}
