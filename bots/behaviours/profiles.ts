/**
 * Behaviour profiles: a weighted action mix, a think-time distribution and a session shape.
 * Action choice depends only on the bot's Rng (never on its state), so one seed gives the same
 * action sequence on every run, whatever the server answered. No Node APIs here.
 */
import { ITEM_NAMES, type Action, type ActionKind } from '../../games/reference/rules/model';
import { uniformInt, type Rng } from '../../core/rng';
import { sample, type Distribution } from '../../core/distributions';

export interface ActionContext {
  playerId: string;
  /** Another bot's player to gift to, or undefined when there is none yet. */
  pickPeer(rng: Rng): string | undefined;
}

export interface BehaviourProfile {
  readonly name: string;
  readonly description: string;
  readonly mix: ReadonlyArray<{ kind: ActionKind; weight: number }>;
  /** Pause between two scheduled actions (ms). */
  readonly thinkTime: Distribution;
  /** Online play before a voluntary disconnect (ms); 'never' = stays until stopped. */
  readonly sessionLength: Distribution;
  /** Offline pause before resuming after a voluntary disconnect (ms). */
  readonly offlineTime: Distribution;
  readonly giftAmount: { min: number; max: number };
}

export function pickKind(profile: BehaviourProfile, rng: Rng): ActionKind {
  const total = profile.mix.reduce((sum, entry) => sum + entry.weight, 0);
  let roll = rng.next() * total;
  for (const entry of profile.mix) {
    roll -= entry.weight;
    if (roll < 0) return entry.kind;
  }
  return profile.mix[profile.mix.length - 1].kind;
}

/** The next action: a fixed number of Rng draws per kind so the sequence stays aligned. */
export function nextAction(profile: BehaviourProfile, rng: Rng, context: ActionContext): Action {
  const kind = pickKind(profile, rng);
  switch (kind) {
    case 'collect':
      return { kind };
    case 'upgrade':
      return { kind };
    case 'buy':
      return { kind, item: ITEM_NAMES[uniformInt(rng, 0, ITEM_NAMES.length - 1)] };
    case 'gift-send': {
      const to = context.pickPeer(rng);
      const amount = uniformInt(rng, profile.giftAmount.min, profile.giftAmount.max);
      // Nobody to gift to yet (first player of an open model): collect instead.
      return to === undefined ? { kind: 'collect' } : { kind, to, amount };
    }
  }
}

export function thinkTime(profile: BehaviourProfile, rng: Rng): number {
  return sample(profile.thinkTime, rng);
}

const PROFILES: Record<string, BehaviourProfile> = {
  casual: {
    name: 'casual',
    description: 'Plays now and then: mostly collects and buys, ~2 s between actions, long sessions.',
    mix: [
      { kind: 'collect', weight: 50 },
      { kind: 'buy', weight: 30 },
      { kind: 'upgrade', weight: 15 },
      { kind: 'gift-send', weight: 5 },
    ],
    thinkTime: { kind: 'lognormal', mean: 2000, sigma: 0.8, min: 50, max: 30_000 },
    sessionLength: { kind: 'lognormal', mean: 180_000, sigma: 0.5 },
    offlineTime: { kind: 'exponential', mean: 5000, min: 500, max: 60_000 },
    giftAmount: { min: 1, max: 20 },
  },
  grinder: {
    name: 'grinder',
    description: 'Farms: collect and upgrade, ~300 ms between actions, never leaves.',
    mix: [
      { kind: 'collect', weight: 70 },
      { kind: 'upgrade', weight: 20 },
      { kind: 'buy', weight: 10 },
    ],
    thinkTime: { kind: 'exponential', mean: 300, min: 20, max: 5000 },
    sessionLength: { kind: 'never' },
    offlineTime: { kind: 'constant', value: 1000 },
    giftAmount: { min: 1, max: 1 },
  },
  gifter: {
    name: 'gifter',
    description: "Sends gold to other bots' players (exercises conservation), ~1 s between actions.",
    mix: [
      { kind: 'gift-send', weight: 60 },
      { kind: 'collect', weight: 40 },
    ],
    thinkTime: { kind: 'exponential', mean: 1000, min: 20, max: 10_000 },
    sessionLength: { kind: 'lognormal', mean: 120_000, sigma: 0.5 },
    offlineTime: { kind: 'exponential', mean: 3000, min: 500, max: 30_000 },
    giftAmount: { min: 1, max: 25 },
  },
  churner: {
    name: 'churner',
    description: 'Short sessions (~8 s) with many voluntary disconnects and resumes, ~500 ms between actions.',
    mix: [
      { kind: 'collect', weight: 60 },
      { kind: 'buy', weight: 30 },
      { kind: 'upgrade', weight: 10 },
    ],
    thinkTime: { kind: 'exponential', mean: 500, min: 20, max: 5000 },
    sessionLength: { kind: 'exponential', mean: 8000, min: 1000, max: 60_000 },
    offlineTime: { kind: 'exponential', mean: 1500, min: 200, max: 10_000 },
    giftAmount: { min: 1, max: 1 },
  },
};

export const PROFILE_NAMES: readonly string[] = Object.freeze(Object.keys(PROFILES));

export function getProfile(name: string): BehaviourProfile {
  const profile = PROFILES[name];
  if (!profile) throw new Error(`unknown bot profile "${name}"; use one of: ${PROFILE_NAMES.join(', ')}`);
  return profile;
}
