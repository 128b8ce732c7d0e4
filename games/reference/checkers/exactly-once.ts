/**
 * exactly-once: no (player, seq) is logged twice, every applied gift is credited exactly once, and
 * each player's final state equals a replay of its logs (newPlayer, then each logged action and gift
 * credit once, in version order). A backend that applies a resent action twice but logs it once
 * ends in a state no replay produces.
 */
import type { Checker, CheckInput, CheckResult } from '../../../verdict/types';
import { Offences, PlayerSeqTable, invalidResult, plural } from '../../../verdict/ops';
import { changesByPlayer, replayPlayer, type Divergence, type GiftRow, type LogRow } from './replay';
import { checksum } from '../rules/checksum';
import { isFinalSnapshot, notASnapshot } from './final-snapshot';

type Problem = 'duplicate-seq' | 'gift-credited-twice' | 'gift-without-send' | 'gift-never-credited' | 'state-differs' | 'checksum-mismatch' | 'player-missing';

export interface ExactlyOnceOffence {
  problem: Problem;
  player: string;
  row?: LogRow;
  gift?: GiftRow;
  replayed?: { version: number; gold: number; checksum: string };
  final?: { version: number; gold: number; checksum: string };
  divergence?: Divergence;
}

export const exactlyOnce: Checker = {
  name: 'exactly-once',
  description: "each action and gift is applied exactly once: final states equal a replay of the logs",
  check(input: CheckInput): CheckResult {
    const { final } = input;
    if (final === undefined) return { name: 'exactly-once', valid: 'unknown', summary: 'no final snapshot of the database: nothing to replay' };
    if (!isFinalSnapshot(final)) return { name: 'exactly-once', valid: 'unknown', summary: notASnapshot(final) };
    const offences = new Offences<ExactlyOnceOffence>();
    const giftBase = final.actions.length;

    // Duplicate (player, seq) rows, and the applied gift-sends by (sender, seq).
    const seen = new PlayerSeqTable<true>();
    const sends = new PlayerSeqTable<number>();
    const sendList: number[] = [];
    final.actions.forEach((row, i) => {
      if (seen.get(row.player, row.seq)) offences.add({ problem: 'duplicate-seq', player: row.player, row }, i, 3e9);
      else seen.set(row.player, row.seq, true);
      if (row.action.kind === 'gift-send' && row.result.outcome === 'applied') {
        sends.set(row.player, row.seq, i);
        sendList.push(i);
      }
    });
    const credited = new PlayerSeqTable<true>();
    final.gifts.forEach((gift, i) => {
      if (credited.get(gift.from, gift.senderSeq)) offences.add({ problem: 'gift-credited-twice', player: gift.to, gift }, giftBase + i, 2e9 + gift.amount);
      credited.set(gift.from, gift.senderSeq, true);
      const sendIndex = sends.get(gift.from, gift.senderSeq);
      const send = sendIndex === undefined ? undefined : final.actions[sendIndex];
      if (!send || send.action.kind !== 'gift-send' || send.action.to !== gift.to || send.action.amount !== gift.amount) {
        offences.add({ problem: 'gift-without-send', player: gift.to, gift, row: send }, giftBase + i, 2e9 + gift.amount);
      }
    });
    for (const i of sendList) {
      const row = final.actions[i];
      if (!credited.get(row.player, row.seq)) offences.add({ problem: 'gift-never-credited', player: row.player, row }, i, 1e9);
    }

    // Replay every player that has a final state or any log rows.
    const byPlayer = changesByPlayer(final);
    const finals = new Map(final.players.map((p, i) => [p.state.id, { ...p, position: i }]));
    let replayed = 0;
    for (const [player, refs] of byPlayer) {
      if (!finals.has(player)) offences.add({ problem: 'player-missing', player }, refs[0] >= 0 ? refs[0] : giftBase - refs[0] - 1, 1e9);
    }
    for (const [player, snapshot] of finals) {
      const refs = byPlayer.get(player) ?? [];
      const outcome = replayPlayer(player, refs, final);
      replayed++;
      const replayedSum = checksum(outcome.state);
      const ownSum = checksum(snapshot.state);
      const order = outcome.firstRowIndex ?? giftBase + final.gifts.length + snapshot.position;
      const replayedView = { version: outcome.state.version, gold: outcome.state.gold, checksum: replayedSum };
      const finalView = { version: snapshot.state.version, gold: snapshot.state.gold, checksum: snapshot.checksum };
      if (ownSum !== snapshot.checksum) {
        offences.add({ problem: 'checksum-mismatch', player, final: finalView }, order, 1e9);
      }
      if (replayedSum !== snapshot.checksum && replayedSum !== ownSum) {
        // Slow path only for a player that diverged: find the first row whose checksum disagrees.
        const divergence = outcome.divergence ?? replayPlayer(player, refs, final, { compareRowChecksums: true }).divergence;
        const gap = Math.abs(snapshot.state.gold - outcome.state.gold) + Math.abs(snapshot.state.version - outcome.state.version);
        offences.add({ problem: 'state-differs', player, replayed: replayedView, final: finalView, divergence }, order, 2e9 + gap);
      }
    }

    const details = { logRows: final.actions.length, giftCredits: final.gifts.length, playersReplayed: replayed };
    if (offences.count === 0) {
      return { name: 'exactly-once', valid: true, summary: `${plural(replayed, 'player')} replayed from ${plural(final.actions.length, 'log row')} and ${plural(final.gifts.length, 'gift credit')}: every final state matches`, details };
    }
    return invalidResult('exactly-once', `${plural(offences.count, 'violation')}; first: ${describe(offences.first!)}`, offences, details);
  },
};

function describe(offence: ExactlyOnceOffence): string {
  const { row, gift, player } = offence;
  switch (offence.problem) {
    case 'duplicate-seq':
      return `${player} seq ${row?.seq ?? '(unknown)'} appears twice in the action log, expected once`;
    case 'gift-credited-twice':
      return `gift ${gift?.from} seq ${gift?.senderSeq} → ${gift?.to} (${gift?.amount} gold) was credited twice`;
    case 'gift-without-send':
      return `gift ${gift?.from} seq ${gift?.senderSeq} → ${gift?.to} (${gift?.amount} gold) was credited without a matching applied gift-send`;
    case 'gift-never-credited':
      return `${player} seq ${row?.seq ?? '(unknown)'} sent a gift that was never credited`;
    case 'checksum-mismatch':
      return `${player}'s stored checksum ${offence.final?.checksum ?? '(none)'} does not describe its stored state`;
    case 'player-missing':
      return `${player} has log rows but no final state`;
    case 'state-differs': {
      const d = offence.divergence;
      const step = d?.row ? `seq ${d.row.seq}` : d?.gift ? `a gift from ${d.gift.from}` : 'an unnamed row';
      const at = d ? `; the log first disagrees at ${step} (${d.problem}: the replay expected version ${d.replayVersion}, the log holds ${d.loggedVersion})` : '';
      return `${player}'s final state (${view(offence.final)}) differs from the replay of its log, which expected ${view(offence.replayed)}${at}`;
    }
  }
}

function view(state: { version: number; gold: number } | undefined): string {
  return state ? `version ${state.version}, gold ${state.gold}` : 'no state';
}
