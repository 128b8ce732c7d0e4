/**
 * The composition root: the one place core names the concrete parts (bot profiles, faults, backend
 * defects) so validation can check names. Everything else in core sees only interfaces.
 */
import { DEFECTS } from '../games/reference/server/defects';
import { PROFILE_NAMES } from '../bots/behaviours/profiles';
import { defaultRegistry } from '../chaos/registry';
import type { ScenarioCatalog } from './scenario/validate';
import type { GameFeatures } from './game';
import { referenceCheckers } from '../games/reference/checkers';
import { checkerCatalog } from '../verdict/checkers';

/**
 * The reference game's part of the verdict, until the runner takes the game plug-in (then:
 * `{ features: gameFeatures(game), checkers: game.checkers }`).
 */
export const referenceVerdict: { features: GameFeatures; checkers: typeof referenceCheckers } = {
  features: { stateVersions: true, shadowModel: true, finalState: true },
  checkers: referenceCheckers,
};

export const defaultCatalog: ScenarioCatalog = {
  profiles: PROFILE_NAMES,
  defects: DEFECTS,
  faultTypes: defaultRegistry.types(),
  checkers: checkerCatalog(referenceVerdict.checkers).names,
  validateFaultParams(type, params) {
    const issues = defaultRegistry.validate(type, params);
    if (issues.length) return { ok: false, issues: issues.map((issue) => ({ path: issue.path, message: issue.message })) };
    return { ok: true, params: defaultRegistry.parse(type, params), locks: defaultRegistry.locksOf(type, params) };
  },
};
