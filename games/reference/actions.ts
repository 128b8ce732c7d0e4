/**
 * The reference game's actions: parameter generators (a fixed number of Rng draws each, so a seed
 * gives the same sequence on every run) and the effects an ok outcome had on player-owned
 * quantities (read by the generic checkers). The params are the wire Action itself, so the
 * history's invoke value is what was sent. No Node APIs here.
 */
import type { ActionContext, ActionSpec, Effect } from '../../core/game';
import { uniformInt } from '../../core/rng';
import { BANK_GOLD, bankOwner } from './rules/guild-bank';
import { collectReward, ITEM_NAMES, ITEMS, upgradeCost, type Action, type ActionResult } from './rules/model';

type Of<K extends Action['kind']> = Extract<Action, { kind: K }>;

/** The profile's gift amounts (settings.giftAmount), default 1..1. */
function giftAmount(context: ActionContext): { min: number; max: number } {
  const setting = context.profile.settings?.giftAmount as { min?: number; max?: number } | undefined;
  return { min: setting?.min ?? 1, max: setting?.max ?? setting?.min ?? 1 };
}

/**
 * What an action changed: an applied result its effects, a rejected one nothing but the version.
 * `undefined` is an action whose outcome is unknown: the effects it would have if it applied.
 */
function applied(result: unknown): Extract<ActionResult, { outcome: 'applied' }> | 'unknown' | undefined {
  if (result === undefined) return 'unknown';
  const value = result as ActionResult | null;
  return value?.outcome === 'applied' ? value : undefined;
}

export const collect: ActionSpec<Of<'collect'>> = {
  description: 'Collects the level reward (gold in, xp up; may level up).',
  params: () => ({ kind: 'collect' }),
  effects: (_params, result) => {
    const done = applied(result);
    // The reward depends on the level the server saw: at least level 1's.
    if (done === 'unknown') return [{ quantity: 'gold', delta: { min: collectReward(1), max: Infinity } }];
    return done ? [{ quantity: 'gold', delta: done.goldDelta }] : [];
  },
};

export const buy: ActionSpec<Of<'buy'>> = {
  description: 'Buys one item from the shop for its price (a gem pack also grants gems).',
  params: ({ rng }) => ({ kind: 'buy', item: ITEM_NAMES[uniformInt(rng, 0, ITEM_NAMES.length - 1)] }),
  effects: (params, result) => {
    if (!applied(result)) return [];
    const item = ITEMS[params.item];
    const effects: Effect[] = [
      { quantity: 'gold', delta: -item.price },
      { quantity: params.item, delta: 1 },
    ];
    if ('gems' in item) effects.push({ quantity: 'gems', delta: item.gems });
    return effects;
  },
};

export const upgrade: ActionSpec<Of<'upgrade'>> = {
  description: 'Pays the upgrade cost of the current level for one level more.',
  params: () => ({ kind: 'upgrade' }),
  effects: (_params, result) => {
    const done = applied(result);
    // The cost depends on the level the server saw: at least level 1's.
    if (done === 'unknown') return [{ quantity: 'gold', delta: { min: -Infinity, max: -upgradeCost(1) } }, { quantity: 'level', delta: 1 }];
    return done ? [{ quantity: 'gold', delta: done.goldDelta }, { quantity: 'level', delta: 1 }] : [];
  },
};

export const giftSend: ActionSpec<Of<'gift-send'>> = {
  description: "Sends gold to another bot's player (conservation: minus here, plus there).",
  params: (context) => {
    // Both draws always happen, so the sequence stays aligned whether or not there is a peer.
    const to = context.pickPeer(context.rng);
    const { min, max } = giftAmount(context);
    const amount = uniformInt(context.rng, min, max);
    return to === undefined ? undefined : { kind: 'gift-send', to, amount };
  },
  // Nobody to gift to yet (first player of an open model): collect instead.
  fallback: 'collect',
  effects: (params, result) =>
    applied(result)
      ? [
          { quantity: 'gold', delta: -params.amount },
          { player: params.to, quantity: 'gold', delta: params.amount },
        ]
      : [],
};

/** The profile's guild (settings.guild, default 'guild-1') and amounts (settings.guildAmount, default 1..20). */
function guildSettings(context: ActionContext): { guild: string; min: number; max: number } {
  const settings = context.profile.settings ?? {};
  const amount = settings.guildAmount as { min?: number; max?: number } | undefined;
  return { guild: typeof settings.guild === 'string' ? settings.guild : 'guild-1', min: amount?.min ?? 1, max: amount?.max ?? amount?.min ?? 20 };
}

/** Effects of a guild action: gold between the player and the bank ('bank-gold' of owner guild:<id>). */
function guildEffects(sign: 1 | -1) {
  return (params: { guild: string; amount: number }, result: unknown): Effect[] =>
    applied(result)
      ? [
          { quantity: 'gold', delta: -sign * params.amount },
          { player: bankOwner(params.guild), quantity: BANK_GOLD, delta: sign * params.amount },
        ]
      : [];
}

export const guildDeposit: ActionSpec<Of<'guild-deposit'>> = {
  description: "Puts gold into the player's guild bank (a shared pot: a hot spot when the guild acts together).",
  params: (context) => {
    const { guild, min, max } = guildSettings(context);
    return { kind: 'guild-deposit', guild, amount: uniformInt(context.rng, min, max) };
  },
  effects: guildEffects(1),
};

export const guildWithdraw: ActionSpec<Of<'guild-withdraw'>> = {
  description: "Takes gold out of the player's guild bank; refused when the bank holds less.",
  params: (context) => {
    const { guild, min, max } = guildSettings(context);
    return { kind: 'guild-withdraw', guild, amount: uniformInt(context.rng, min, max) };
  },
  effects: guildEffects(-1),
};

export const ACTIONS = {
  collect,
  buy,
  upgrade,
  'gift-send': giftSend,
  'guild-deposit': guildDeposit,
  'guild-withdraw': guildWithdraw,
} as const satisfies Record<Action['kind'], ActionSpec>;
