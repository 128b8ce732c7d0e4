/**
 * The composition root: the one place core names the concrete parts (bot profiles, faults, backend
 * defects) so validation can check names. Everything else in core sees only interfaces.
 */
import * as path from 'node:path';
import referenceGame from '../games/reference';
import { DEFECTS } from '../games/reference/server/defects';
import { defaultRegistry } from '../chaos/registry';
import type { ScenarioCatalog } from './scenario/validate';

/** Absolute path of the reference game's plug-in module (the fleet's workers load the game by path). */
export const REFERENCE_GAME_MODULE = path.join(__dirname, '..', 'games', 'reference', 'index.ts');

export const defaultCatalog: ScenarioCatalog = {
  profiles: Object.keys(referenceGame.profiles),
  defects: DEFECTS,
  faultTypes: defaultRegistry.types(),
  validateFaultParams(type, params) {
    const issues = defaultRegistry.validate(type, params);
    if (issues.length) return { ok: false, issues: issues.map((issue) => ({ path: issue.path, message: issue.message })) };
    return { ok: true, params: defaultRegistry.parse(type, params), locks: defaultRegistry.locksOf(type, params) };
  },
};
