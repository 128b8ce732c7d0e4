/**
 * The admin API's /admin/snapshot: the final persisted state, read in ONE database snapshot. It is
 * what the reference game's own checkers read (games/reference/checkers).
 */
import type { GuildBank } from './guild-bank';
import type { Action, ActionResult, PlayerState } from './model';

export interface FinalSnapshot {
  takenAt: string;
  players: Array<{ state: PlayerState; checksum: string }>;
  /** Every applied (or rejected) client action, unique on (player, seq). */
  actions: Array<{ player: string; seq: number; action: Action; result: ActionResult; version: number; checksum: string }>;
  /** Gifts credited to recipients, with the recipient's version after the credit. */
  gifts: Array<{ from: string; to: string; amount: number; senderSeq: number; recipientVersion: number }>;
  /** Guild banks (shared pots of gold); absent in snapshots from before banks existed. */
  banks?: GuildBank[];
  ledger: { sources: number; sinks: number; byReason: Record<string, number> };
  /** Gold held by players and guild banks together. */
  totalGold: number;
}
