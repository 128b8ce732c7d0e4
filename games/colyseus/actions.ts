/**
 * The Colyseus example's actions: parameter generators (a fixed number of Rng draws each, so a seed
 * gives the same sequence every run) and the effects each has on the declared quantities, read by
 * the generic checkers. The params are the wire `Action` itself. No Node APIs here.
 */
import { uniformInt, type ActionContext, type ActionSpec } from 'lagstorm';
import { MAX_YIELD, type Action, type ActionResult } from './rules';

type Of<K extends Action['kind']> = Extract<Action, { kind: K }>;

/** A profile setting `{ min, max }`, with a default. */
function range(context: ActionContext, name: string, fallback: { min: number; max: number }): { min: number; max: number } {
  const setting = context.profile.settings?.[name] as { min?: number; max?: number } | undefined;
  const min = setting?.min ?? fallback.min;
  return { min, max: setting?.max ?? Math.max(min, fallback.max) };
}

/** Applied (its effects count), rejected (none), or unknown (the effects it would have: undefined result). */
function applied(result: unknown): boolean {
  return result === undefined || (result as ActionResult | null)?.applied === true;
}

export const mine: ActionSpec<Of<'mine'>> = {
  description: 'Mines gold: the server decides the yield (1-10).',
  params: () => ({ kind: 'mine' }),
  effects: (_params, result) => {
    if (result === undefined) return [{ quantity: 'gold', delta: { min: 1, max: MAX_YIELD } }];
    const done = result as ActionResult | null;
    return done?.applied ? [{ quantity: 'gold', delta: done.mined ?? 0 }] : [];
  },
};

export const gift: ActionSpec<Of<'gift'>> = {
  description: "Gives gems to another bot's player (gems only ever move: transfers-conserved).",
  params: (context) => {
    // Both draws always happen, so the sequence stays aligned whether or not there is a peer.
    const to = context.pickPeer(context.rng);
    const { min, max } = range(context, 'giftGems', { min: 1, max: 10 });
    const gems = uniformInt(context.rng, min, max);
    return to === undefined ? undefined : { kind: 'gift', to, gems };
  },
  fallback: 'mine',
  effects: (params, result) =>
    applied(result)
      ? [
          { quantity: 'gems', delta: -params.gems },
          { player: params.to, quantity: 'gems', delta: params.gems },
        ]
      : [],
};

export const trade: ActionSpec<Of<'trade'>> = {
  description: "Buys gems from another bot's player for gold, both legs at once.",
  params: (context) => {
    const peer = context.pickPeer(context.rng);
    const gemRange = range(context, 'tradeGems', { min: 1, max: 5 });
    const goldRange = range(context, 'tradeGold', { min: 1, max: 20 });
    const gems = uniformInt(context.rng, gemRange.min, gemRange.max);
    const gold = uniformInt(context.rng, goldRange.min, goldRange.max);
    return peer === undefined ? undefined : { kind: 'trade', with: peer, gems, gold };
  },
  fallback: 'mine',
  effects: (params, result) =>
    applied(result)
      ? [
          { quantity: 'gold', delta: -params.gold },
          { quantity: 'gems', delta: params.gems },
          { player: params.with, quantity: 'gold', delta: params.gold },
          { player: params.with, quantity: 'gems', delta: -params.gems },
        ]
      : [],
};

export const ACTIONS = { mine, gift, trade } as const satisfies Record<Action['kind'], ActionSpec>;
