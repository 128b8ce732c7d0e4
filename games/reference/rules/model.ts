/**
 * The player model and its deterministic, pure game rules. Shared by the backend (authoritative)
 * and the bots (shadow model): no Node APIs here, so the bot core can also be bundled for k6.
 */
export const ITEMS = {
  sword: { price: 120 },
  shield: { price: 90 },
  potion: { price: 15 },
  'gem-pack': { price: 200, gems: 5 },
} as const;
export type ItemName = keyof typeof ITEMS;
export const ITEM_NAMES = Object.keys(ITEMS) as ItemName[];

export interface PlayerState {
  id: string;
  gold: number;
  gems: number;
  level: number;
  xp: number;
  inventory: Partial<Record<ItemName, number>>;
  /** Bumped by every applied change (own action or received gift); clients apply changes in version order. */
  version: number;
  /** Highest client sequence number applied (or rejected) for this player. */
  lastSeq: number;
}

export const STARTING_GOLD = 500;
export const STARTING_GEMS = 10;

export function newPlayer(id: string): PlayerState {
  return { id, gold: STARTING_GOLD, gems: STARTING_GEMS, level: 1, xp: 0, inventory: {}, version: 0, lastSeq: 0 };
}

export type Action =
  | { kind: 'collect' }
  | { kind: 'buy'; item: ItemName }
  | { kind: 'upgrade' }
  | { kind: 'gift-send'; to: string; amount: number }
  | { kind: 'guild-deposit'; guild: string; amount: number }
  | { kind: 'guild-withdraw'; guild: string; amount: number };
export type ActionKind = Action['kind'];
export const ACTION_KINDS: ActionKind[] = ['collect', 'buy', 'upgrade', 'gift-send', 'guild-deposit', 'guild-withdraw'];

/** Gold that enters or leaves the economy; the backend writes each to its ledger. */
export interface LedgerEntry {
  kind: 'source' | 'sink';
  reason: 'starting-grant' | 'collect' | 'buy' | 'upgrade';
  amount: number;
}

export type ActionResult =
  | { outcome: 'applied'; goldDelta: number; ledger: LedgerEntry[] }
  | { outcome: 'rejected'; reason: 'insufficient-gold' | 'invalid-target' | 'invalid-amount' | 'unknown-item' | 'invalid-guild' | 'insufficient-bank-gold' };

export interface Applied {
  state: PlayerState;
  result: ActionResult;
}

export function collectReward(level: number): number {
  return 10 + level * 2;
}
export function upgradeCost(level: number): number {
  return 50 * level;
}
export function xpToNextLevel(level: number): number {
  return 100 * level;
}

/** Facts only the server knows; a client learns them from the ack (see `factsFromResult`). */
export interface WorldFacts {
  /** Does the gift's recipient exist? (default true) */
  recipientExists?: boolean;
  /** Does the guild bank hold enough gold for this withdrawal? (default true; see guild-bank.ts) */
  bankHasFunds?: boolean;
}

/** What an authoritative result tells a client about the world, so its prediction can match. */
export function factsFromResult(result: ActionResult): WorldFacts {
  return {
    recipientExists: !(result.outcome === 'rejected' && result.reason === 'invalid-target'),
    bankHasFunds: !(result.outcome === 'rejected' && result.reason === 'insufficient-bank-gold'),
  };
}

/**
 * Applies one client action with sequence `seq` to `state` (the sender's side of a gift).
 * A rejected action still consumes its seq and bumps the version, so acks stay in version order.
 */
export function applyAction(state: PlayerState, action: Action, seq: number, facts: WorldFacts = {}): Applied {
  const next: PlayerState = { ...state, inventory: { ...state.inventory }, lastSeq: seq, version: state.version + 1 };
  const reject = (reason: Extract<ActionResult, { outcome: 'rejected' }>['reason']): Applied => ({
    state: next,
    result: { outcome: 'rejected', reason },
  });
  switch (action.kind) {
    case 'collect': {
      const reward = collectReward(next.level);
      next.gold += reward;
      next.xp += 5;
      while (next.xp >= xpToNextLevel(next.level)) {
        next.xp -= xpToNextLevel(next.level);
        next.level += 1;
      }
      return { state: next, result: { outcome: 'applied', goldDelta: reward, ledger: [{ kind: 'source', reason: 'collect', amount: reward }] } };
    }
    case 'buy': {
      const item = ITEMS[action.item as ItemName];
      if (!item) return reject('unknown-item');
      if (next.gold < item.price) return reject('insufficient-gold');
      next.gold -= item.price;
      next.inventory[action.item] = (next.inventory[action.item] ?? 0) + 1;
      if ('gems' in item) next.gems += item.gems;
      return { state: next, result: { outcome: 'applied', goldDelta: -item.price, ledger: [{ kind: 'sink', reason: 'buy', amount: item.price }] } };
    }
    case 'upgrade': {
      const cost = upgradeCost(next.level);
      if (next.gold < cost) return reject('insufficient-gold');
      next.gold -= cost;
      next.level += 1;
      return { state: next, result: { outcome: 'applied', goldDelta: -cost, ledger: [{ kind: 'sink', reason: 'upgrade', amount: cost }] } };
    }
    case 'gift-send': {
      if (!Number.isInteger(action.amount) || action.amount <= 0) return reject('invalid-amount');
      if (typeof action.to !== 'string' || action.to === '' || action.to === state.id || facts.recipientExists === false) return reject('invalid-target');
      if (next.gold < action.amount) return reject('insufficient-gold');
      next.gold -= action.amount;
      // A gift moves gold between players: no ledger entry, the total is unchanged.
      return { state: next, result: { outcome: 'applied', goldDelta: -action.amount, ledger: [] } };
    }
    case 'guild-deposit': {
      // The player's side only; the bank's side is applyBankDeposit (guild-bank.ts), in the same commit.
      if (!Number.isInteger(action.amount) || action.amount <= 0) return reject('invalid-amount');
      if (!isGuildId(action.guild)) return reject('invalid-guild');
      if (next.gold < action.amount) return reject('insufficient-gold');
      next.gold -= action.amount;
      // Gold moves into the bank: no ledger entry, the total (players + banks) is unchanged.
      return { state: next, result: { outcome: 'applied', goldDelta: -action.amount, ledger: [] } };
    }
    case 'guild-withdraw': {
      if (!Number.isInteger(action.amount) || action.amount <= 0) return reject('invalid-amount');
      if (!isGuildId(action.guild)) return reject('invalid-guild');
      if (facts.bankHasFunds === false) return reject('insufficient-bank-gold');
      next.gold += action.amount;
      return { state: next, result: { outcome: 'applied', goldDelta: action.amount, ledger: [] } };
    }
  }
}

/** A guild id: 1-64 characters, letters, digits, _ . - */
export function isGuildId(guild: unknown): guild is string {
  return typeof guild === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(guild);
}

/** The receiving side of a gift: a server-side change, pushed to the recipient. */
export function applyGiftReceived(state: PlayerState, amount: number): PlayerState {
  return { ...state, inventory: { ...state.inventory }, gold: state.gold + amount, version: state.version + 1 };
}
