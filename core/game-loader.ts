/**
 * Loads a game plug-in module (its `default` or `game` export) and checks its shape, so a broken
 * plug-in fails at load time with a message naming the module and the missing field.
 */
import { InvalidInputError } from './exit-codes';
import type { GameDefinition } from './game';

const cache = new Map<string, GameDefinition>();

export function loadGameModule(modulePath: string): GameDefinition {
  const cached = cache.get(modulePath);
  if (cached) return cached;
  let loaded: Record<string, unknown>;
  try {
    loaded = require(modulePath) as Record<string, unknown>;
  } catch (error) {
    const message = (error as Error).message.split('\n').slice(0, 6).join('\n');
    throw new InvalidInputError(`game plug-in ${modulePath} could not be loaded: ${message}\nfix the error above; a game module must \`export default defineGame({...})\``);
  }
  const game = (loaded.default ?? loaded.game) as Partial<GameDefinition> | undefined;
  const problems = gameShapeProblems(game);
  if (problems.length) throw new InvalidInputError(`game plug-in ${modulePath} is not a game: ${problems.join('; ')}; see "Your own game" in README.md`);
  cache.set(modulePath, game as GameDefinition);
  return game as GameDefinition;
}

function gameShapeProblems(game: Partial<GameDefinition> | undefined): string[] {
  if (!game || typeof game !== 'object') return ['it has no default export (write `export default defineGame({...})`)'];
  const problems: string[] = [];
  if (typeof game.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(game.name)) problems.push('name must be a kebab-case string, e.g. "counter"');
  if (typeof game.client !== 'function') problems.push('client must be a function (context) => GameClient');
  if (!game.actions || typeof game.actions !== 'object' || Object.keys(game.actions).length === 0) problems.push('actions must name at least one action');
  if (!game.profiles || typeof game.profiles !== 'object' || Object.keys(game.profiles).length === 0) problems.push('profiles must name at least one behaviour profile');
  for (const [name, profile] of Object.entries(game.profiles ?? {})) {
    for (const entry of profile?.mix ?? []) {
      if (!game.actions?.[entry.action]) problems.push(`profiles.${name}.mix names action "${entry.action}", which is not in actions`);
    }
  }
  for (const [name, spec] of Object.entries(game.actions ?? {})) {
    if (spec?.fallback !== undefined && !game.actions?.[spec.fallback]) problems.push(`actions.${name}.fallback names "${spec.fallback}", which is not in actions`);
  }
  return problems;
}
