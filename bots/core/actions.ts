/**
 * Action choice from a game's behaviour profile and action specs. It depends only on the bot's Rng
 * (never on the game's state), so one seed gives the same action sequence on every run, whatever
 * the server answered. No Node APIs here.
 */
import type { ActionContext, ActionSpec, BehaviourProfile } from '../../core/game';
import type { Rng } from '../../core/rng';

/** One weighted draw over the profile's mix (exactly one Rng draw). */
export function pickAction(profile: BehaviourProfile, rng: Rng): string {
  const total = profile.mix.reduce((sum, entry) => sum + entry.weight, 0);
  let roll = rng.next() * total;
  for (const entry of profile.mix) {
    roll -= entry.weight;
    if (roll < 0) return entry.action;
  }
  return profile.mix[profile.mix.length - 1].action;
}

/** The longest chain of `fallback`s followed (a cycle ends there). */
const MAX_FALLBACKS = 4;

/**
 * The next action and its parameters: a mix draw, then the action's own draws; an action that is
 * not possible now (`params` returned undefined) hands over to its `fallback`. Undefined: nothing possible.
 */
export function chooseAction(profile: BehaviourProfile, actions: Readonly<Record<string, ActionSpec>>, context: ActionContext): { name: string; params: unknown } | undefined {
  let name = pickAction(profile, context.rng);
  for (let hops = 0; hops <= MAX_FALLBACKS; hops++) {
    const spec = actions[name];
    if (!spec) return undefined;
    if (!spec.params) return { name, params: undefined };
    const params: unknown = spec.params(context);
    if (params !== undefined) return { name, params };
    if (spec.fallback === undefined) return undefined;
    name = spec.fallback;
  }
  return undefined;
}

/** Throws naming the profile and the action when the mix or a fallback names an action the game lacks. */
export function validateProfile(profile: BehaviourProfile, actions: Readonly<Record<string, ActionSpec>>): void {
  const known = Object.keys(actions);
  if (profile.mix.length === 0) throw new Error(`profile "${profile.name}": the mix is empty; give it at least one { action, weight }`);
  for (const entry of profile.mix) {
    if (!actions[entry.action]) throw new Error(`profile "${profile.name}": the mix names action "${entry.action}", which the game does not have; use one of: ${known.join(', ')}`);
  }
  for (const [name, spec] of Object.entries(actions)) {
    if (spec.fallback !== undefined && !actions[spec.fallback]) throw new Error(`action "${name}": fallback "${spec.fallback}" is not an action of the game; use one of: ${known.join(', ')}`);
  }
}
