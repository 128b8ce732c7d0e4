/**
 * A guild bank: one shared pot of gold many players deposit into and withdraw from (a hot spot by
 * design). The player's side of each operation is applyAction (model.ts); the bank's side is here,
 * shared by the backend (authoritative) and the checkers. No Node APIs here.
 */
import type { Action } from './model';

export interface GuildBank {
  id: string;
  gold: number;
  /** Bumped by every applied deposit or withdrawal. */
  version: number;
}

export function newGuildBank(id: string): GuildBank {
  return { id, gold: 0, version: 0 };
}

/** Whether the bank can pay out `amount` now (the fact a withdrawal's result tells the client). */
export function bankHasFunds(bank: GuildBank, amount: number): boolean {
  return bank.gold >= amount;
}

/** The bank's side of an applied guild action: its new state (the player's side is applyAction's). */
export function applyBankSide(bank: GuildBank, action: Extract<Action, { kind: 'guild-deposit' | 'guild-withdraw' }>): GuildBank {
  const delta = action.kind === 'guild-deposit' ? action.amount : -action.amount;
  return { id: bank.id, gold: bank.gold + delta, version: bank.version + 1 };
}

/** The id under which a bank's gold appears among the declared quantities' owners (finalQuantities, effects). */
export function bankOwner(guild: string): string {
  return `guild:${guild}`;
}

/** The quantity a bank holds (kept apart from the players' 'gold', whose initial amount differs). */
export const BANK_GOLD = 'bank-gold';
