/**
 * conservation (Jepsen's bank): in one snapshot, the total gold equals the sum of every player's
 * and guild bank's gold and the ledger's sources minus sinks, and no player or bank holds negative gold.
 */
import type { Checker, CheckInput, CheckResult } from '../../../verdict/types';
import { Offences, invalidResult, plural } from '../../../verdict/ops';
import { isFinalSnapshot, notASnapshot } from './final-snapshot';

export interface ConservationOffence {
  problem: 'total-differs' | 'ledger-differs' | 'negative-gold';
  player?: string;
  gold?: number;
  /** Signed difference, positive when gold appeared from nothing. */
  difference?: number;
  expected?: number;
  observed?: number;
}

export const conservation: Checker = {
  name: 'conservation',
  description: 'gold is conserved: total == sum of players and guild banks == ledger sources - sinks, and nobody is negative',
  check(input: CheckInput): CheckResult {
    const { final } = input;
    if (final === undefined) return { name: 'conservation', valid: 'unknown', summary: 'no final snapshot of the database: cannot count the gold' };
    if (!isFinalSnapshot(final)) return { name: 'conservation', valid: 'unknown', summary: notASnapshot(final) };
    const offences = new Offences<ConservationOffence>();
    let playerGold = 0;
    final.players.forEach((p, i) => {
      playerGold += p.state.gold;
      if (p.state.gold < 0) offences.add({ problem: 'negative-gold', player: p.state.id, gold: p.state.gold }, 2 + i, -p.state.gold);
    });
    // Guild banks hold gold players moved there: it counts toward the total like a player's.
    const banks = final.banks ?? [];
    banks.forEach((bank, i) => {
      playerGold += bank.gold;
      if (bank.gold < 0) offences.add({ problem: 'negative-gold', player: `guild:${bank.id}`, gold: bank.gold }, 2 + final.players.length + i, -bank.gold);
    });
    const ledgerGold = final.ledger.sources - final.ledger.sinks;
    const totalVsPlayers = final.totalGold - playerGold;
    const playersVsLedger = playerGold - ledgerGold;
    if (totalVsPlayers !== 0) offences.add({ problem: 'total-differs', difference: totalVsPlayers, expected: playerGold, observed: final.totalGold }, 0, Math.abs(totalVsPlayers));
    if (playersVsLedger !== 0) offences.add({ problem: 'ledger-differs', difference: playersVsLedger, expected: ledgerGold, observed: playerGold }, 1, Math.abs(playersVsLedger));

    const details = { totalGold: final.totalGold, playerGold, ledgerSources: final.ledger.sources, ledgerSinks: final.ledger.sinks, ledgerGold, byReason: final.ledger.byReason, players: final.players.length, banks: banks.length };
    if (offences.count === 0) {
      return { name: 'conservation', valid: true, summary: `${final.totalGold} gold across ${plural(final.players.length, 'player')}${banks.length ? ` and ${plural(banks.length, 'guild bank')}` : ''} matches the ledger (${final.ledger.sources} in − ${final.ledger.sinks} out)`, details };
    }
    const parts: string[] = [];
    if (playersVsLedger !== 0) parts.push(`players${banks.length ? ' and banks' : ''} hold ${playerGold} gold but the ledger accounts for ${ledgerGold} (${signed(playersVsLedger)} ${playersVsLedger > 0 ? 'created from nothing' : 'destroyed'})`);
    if (totalVsPlayers !== 0) parts.push(`totalGold ${final.totalGold} ≠ sum of players and banks ${playerGold} (${signed(totalVsPlayers)})`);
    const negatives = offences.count - (playersVsLedger !== 0 ? 1 : 0) - (totalVsPlayers !== 0 ? 1 : 0);
    if (negatives > 0) parts.push(`${banks.length ? plural(negatives, 'player or bank', 'players or banks') : plural(negatives, 'player')} with negative gold`);
    return invalidResult('conservation', parts.join('; '), offences, { ...details, difference: playersVsLedger || totalVsPlayers });
  },
};

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}
