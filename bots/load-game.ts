/**
 * Loads a game plug-in by module path: worker threads cannot receive functions, so the fleet
 * passes the path and every thread requires the module itself (tsx is registered in the workers).
 */
import * as path from 'node:path';
import { InvalidInputError } from '../core/exit-codes';
import type { BehaviourProfile, GameDefinition } from '../core/game';
import { validateProfile } from './core/actions';

const loaded = new Map<string, GameDefinition>();

/** Requires `modulePath` and returns its `default` (or `game`) export, checked; throws naming the module and the field. */
export function loadGameModule(modulePath: string): GameDefinition {
  const resolved = path.resolve(modulePath);
  const cached = loaded.get(resolved);
  if (cached) return cached;
  let exported: Record<string, unknown>;
  try {
    exported = require(resolved) as Record<string, unknown>;
  } catch (error) {
    throw new InvalidInputError(`game module ${resolved} could not be loaded: ${(error as Error).message.split('\n').slice(0, 6).join('\n')}`);
  }
  const game = validateGame(exported?.default ?? exported?.game, resolved);
  loaded.set(resolved, game);
  return game;
}

function validateGame(candidate: unknown, where: string): GameDefinition {
  const fix = 'export default defineGame({ name, description, client, actions, profiles }) from core/game';
  if (!candidate || typeof candidate !== 'object') throw new InvalidInputError(`game module ${where} has no default export (or 'game' export); ${fix}`);
  const game = candidate as Partial<GameDefinition>;
  const missing = (field: string, what: string): Error => new InvalidInputError(`game module ${where}: ${field} is missing or not ${what}; ${fix}`);
  if (typeof game.name !== 'string' || game.name === '') throw missing('name', 'a non-empty string');
  if (typeof game.description !== 'string') throw missing('description', 'a string');
  if (typeof game.client !== 'function') throw missing('client', 'a function (context) => GameClient');
  if (!game.actions || typeof game.actions !== 'object' || Object.keys(game.actions).length === 0) throw missing('actions', 'an object with at least one action');
  if (!game.profiles || typeof game.profiles !== 'object' || Object.keys(game.profiles).length === 0) throw missing('profiles', 'an object with at least one behaviour profile');
  for (const [name, profile] of Object.entries(game.profiles)) {
    try {
      validateProfile(profile, game.actions);
    } catch (error) {
      throw new InvalidInputError(`game module ${where}: profiles.${name}: ${(error as Error).message}`);
    }
  }
  return game as GameDefinition;
}

/** The game's profile called `name`; throws naming the game's profiles. */
export function profileOf(game: Pick<GameDefinition, 'name' | 'profiles'>, name: string): BehaviourProfile {
  const profile = Object.prototype.hasOwnProperty.call(game.profiles, name) ? game.profiles[name] : undefined;
  if (!profile) throw new Error(`unknown bot profile "${name}" for game "${game.name}"; use one of: ${Object.keys(game.profiles).join(', ')}`);
  return profile;
}
