/**
 * The composition root: the one place core names the concrete parts (bot profiles, faults, backend
 * defects) so validation can check names. Everything else in core sees only interfaces.
 */
import { DEFECTS } from '../games/reference/server/defects';
import { PROFILE_NAMES } from '../bots/behaviours/profiles';
import { defaultRegistry } from '../chaos/registry';
import type { ScenarioCatalog } from './scenario/validate';

export const defaultCatalog: ScenarioCatalog = {
  profiles: PROFILE_NAMES,
  defects: DEFECTS,
  faultTypes: defaultRegistry.types(),
  validateFaultParams(type, params) {
    const issues = defaultRegistry.validate(type, params);
    if (issues.length) return { ok: false, issues: issues.map((issue) => ({ path: issue.path, message: issue.message })) };
    return { ok: true, params: defaultRegistry.parse(type, params), locks: defaultRegistry.locksOf(type, params) };
  },
};
