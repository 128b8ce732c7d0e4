/**
 * Rebuilds a player's state from the final snapshot's logs: newPlayer(id), then its logged actions
 * (applyAction) and gift credits (applyGiftReceived) in version order, each exactly once.
 */
import type { FinalSnapshot } from '../rules/snapshot';
import { applyAction, applyGiftReceived, factsFromResult, newPlayer, type ActionResult, type PlayerState } from '../rules/model';
import { checksum } from '../rules/checksum';
import { sameResult } from './same-result';

export type LogRow = FinalSnapshot['actions'][number];
export type GiftRow = FinalSnapshot['gifts'][number];

/**
 * Per player, the changes in version order, as indices: n >= 0 is final.actions[n], n < 0 is
 * final.gifts[-n - 1] (integers, not wrapper objects, to keep a million rows cheap).
 */
export function changesByPlayer(final: FinalSnapshot): Map<string, number[]> {
  const byPlayer = new Map<string, number[]>();
  const add = (player: string, ref: number) => {
    let list = byPlayer.get(player);
    if (!list) byPlayer.set(player, (list = []));
    list.push(ref);
  };
  final.actions.forEach((row, i) => add(row.player, i));
  final.gifts.forEach((gift, i) => add(gift.to, -i - 1));
  const versionOf = (ref: number) => (ref >= 0 ? final.actions[ref].version : final.gifts[-ref - 1].recipientVersion);
  // Logs arrive nearly sorted, so this sort is close to linear.
  for (const list of byPlayer.values()) list.sort((a, b) => versionOf(a) - versionOf(b) || a - b);
  return byPlayer;
}

export interface Divergence {
  /** What went wrong at this step of the replay. */
  problem: 'version-gap' | 'duplicate-version' | 'result-differs' | 'checksum-differs';
  /** The version the replay reached at this step, and the one the log row carries. */
  replayVersion: number;
  loggedVersion: number;
  row?: LogRow;
  gift?: GiftRow;
  /** The row's result when it differs from the replayed one. */
  replayedResult?: ActionResult;
}

export interface ReplayOutcome {
  state: PlayerState;
  /** The first step where the log disagrees with the replay (cheap structural checks only). */
  divergence?: Divergence;
  /** Position (in final.actions) of the first row involved, for ordering offences. */
  firstRowIndex?: number;
}

export interface ReplayOptions {
  /** Stop once the replayed version reaches this. */
  upToVersion?: number;
  /** Also compare each action row's stored checksum with the replayed state's (slow: one hash per row). */
  compareRowChecksums?: boolean;
}

export function replayPlayer(id: string, refs: ReadonlyArray<number>, final: FinalSnapshot, options: ReplayOptions = {}): ReplayOutcome {
  let state = newPlayer(id);
  let divergence: Divergence | undefined;
  let firstRowIndex: number | undefined;
  let previousLogged = -Infinity;
  for (const ref of refs) {
    if (options.upToVersion !== undefined && state.version >= options.upToVersion) break;
    const row = ref >= 0 ? final.actions[ref] : undefined;
    const gift = ref < 0 ? final.gifts[-ref - 1] : undefined;
    const loggedVersion = row ? row.version : gift!.recipientVersion;
    let replayedResult: ActionResult | undefined;
    if (row) {
      const applied = applyAction(state, row.action, row.seq, factsFromResult(row.result));
      state = applied.state;
      replayedResult = applied.result;
    } else {
      state = applyGiftReceived(state, gift!.amount);
    }
    if (!divergence) {
      let problem: Divergence['problem'] | undefined;
      if (loggedVersion === previousLogged) problem = 'duplicate-version';
      else if (loggedVersion !== state.version) problem = 'version-gap';
      else if (row && !sameResult(replayedResult, row.result)) problem = 'result-differs';
      else if (row && options.compareRowChecksums && checksum(state) !== row.checksum) problem = 'checksum-differs';
      if (problem) {
        divergence = { problem, replayVersion: state.version, loggedVersion, row, gift };
        if (problem === 'result-differs') divergence.replayedResult = replayedResult;
        if (ref >= 0) firstRowIndex = ref;
      }
    }
    previousLogged = loggedVersion;
  }
  return { state, divergence, firstRowIndex };
}
