/** The one place that names the concrete parts: bundled games, faults, runtimes and reporters. */
import { debrisUndoers } from '../chaos/debris-undoers';
import { defaultRegistry } from '../chaos/registry';
import type { RunParts } from '../core/parts';
import { bundledGames } from '../games';
import { createDefaultReporters, type ReporterName } from '../reports';
import { getRuntime } from '../stack/runtimes';
import { getEngine } from '../agents/engines';

export const defaultParts: RunParts = {
  games: bundledGames,
  faults: defaultRegistry,
  debrisUndoers,
  runtime: getRuntime,
  engine: getEngine,
  reporters: ({ only, extra }) => createDefaultReporters({ only: only as ReporterName[] | undefined, extra }),
};
