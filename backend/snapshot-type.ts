/**
 * The admin snapshot's shape: structurally the harness's FinalSnapshot (core/verdict/types.ts).
 * Spelled out here because the backend imports nothing of the harness; a type test in
 * admin.test.ts proves the two stay assignable to each other.
 */
import type { Action, ActionResult, PlayerState } from './shared';

export interface FinalSnapshotShape {
  takenAt: string;
  players: Array<{ state: PlayerState; checksum: string }>;
  actions: Array<{ player: string; seq: number; action: Action; result: ActionResult; version: number; checksum: string }>;
  gifts: Array<{ from: string; to: string; amount: number; senderSeq: number; recipientVersion: number }>;
  ledger: { sources: number; sinks: number; byReason: Record<string, number> };
  totalGold: number;
}
