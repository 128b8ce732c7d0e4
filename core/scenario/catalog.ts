/** What validation may name for one game: its profiles, defects and checkers, and the registered faults. */
import type { FaultRegistry } from '../../chaos/registry';
import { checkerCatalog } from '../../verdict/checkers';
import type { GameDefinition } from '../game';
import type { ScenarioCatalog } from './validate';

export function catalogFor(game: GameDefinition, faults: FaultRegistry): ScenarioCatalog {
  return {
    game: game.name,
    profiles: Object.keys(game.profiles),
    defects: (game.defects ?? []).map((defect) => defect.name),
    checkers: checkerCatalog(game.checkers ?? []).names,
    faultTypes: faults.types(),
    validateFaultParams(type, params) {
      const issues = faults.validate(type, params);
      if (issues.length) return { ok: false, issues: issues.map((issue) => ({ path: issue.path, message: issue.message })) };
      return { ok: true, params: faults.parse(type, params), locks: faults.locksOf(type, params) };
    },
  };
}
