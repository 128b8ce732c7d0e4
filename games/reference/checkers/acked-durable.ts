/**
 * acked-durable: what the server acknowledged survived. Every ok action (player, seq) is in the
 * final action log with the acked result; an action that only ever failed is absent; info may be
 * either. Every player's final version is at least every version it was acked with.
 */
import type { ClientOp } from '../../../core/history';
import type { Checker, CheckInput, CheckResult } from '../../../verdict/types';
import { isActionOp, Offences, PlayerSeqTable, invalidResult, plural } from '../../../verdict/ops';
import type { FinalSnapshot } from '../rules/snapshot';
import { isFinalSnapshot, notASnapshot } from './final-snapshot';
import { sameResult } from './same-result';

type LogRow = FinalSnapshot['actions'][number];
type Problem = 'lost' | 'result-differs' | 'version-regressed' | 'failed-but-applied' | 'player-missing';

export interface AckedDurableOffence {
  problem: Problem;
  op: ClientOp;
  /** The log row found for this (player, seq), if any. */
  row?: { seq: number; version: number; result: unknown };
  finalVersion?: number;
}

// How bad each problem is, for picking the "worst" offence.
const SEVERITY: Record<Problem, number> = { 'player-missing': 5, lost: 4, 'result-differs': 3, 'version-regressed': 2, 'failed-but-applied': 1 };

export const ackedDurable: Checker = {
  name: 'acked-durable',
  description: 'every acknowledged action is in the final state with its acked result; failed actions are absent',
  check(input: CheckInput): CheckResult {
    const { final } = input;
    if (final === undefined) return { name: 'acked-durable', valid: 'unknown', summary: 'no final snapshot of the database: cannot tell which acked actions survived' };
    if (!isFinalSnapshot(final)) return { name: 'acked-durable', valid: 'unknown', summary: notASnapshot(final) };

    const rows = new PlayerSeqTable<LogRow>();
    for (const row of final.actions) rows.set(row.player, row.seq, row);
    const finalVersion = new Map<string, number>();
    for (const p of final.players) finalVersion.set(p.state.id, p.state.version);

    // Outcomes per (player, seq): a seq retried after a fail is the same logical action.
    const okOps = new PlayerSeqTable<ClientOp>();
    const failOps = new PlayerSeqTable<ClientOp>();
    const infoSeen = new PlayerSeqTable<true>();
    const distinct: ClientOp[] = [];
    const maxAcked = new Map<string, ClientOp>();
    let okCount = 0;
    for (const entry of input.history) {
      if (!isActionOp(entry) || entry.type === 'invoke') continue;
      const { player, seq } = entry;
      if (!okOps.get(player, seq) && !failOps.get(player, seq) && !infoSeen.get(player, seq)) distinct.push(entry);
      if (entry.type === 'ok') {
        okCount++;
        if (!okOps.get(player, seq)) okOps.set(player, seq, entry);
        const best = maxAcked.get(player);
        if (entry.version !== undefined && (!best || (best.version ?? -1) < entry.version)) maxAcked.set(player, entry);
      } else if (entry.type === 'fail') {
        if (!failOps.get(player, seq)) failOps.set(player, seq, entry);
      } else infoSeen.set(player, seq, true);
    }

    const offences = new Offences<AckedDurableOffence>();
    let failedChecked = 0;
    for (const { player, seq } of distinct) {
      const row = rows.get(player, seq!);
      const shownRow = row && { seq: row.seq, version: row.version, result: row.result };
      const ok = okOps.get(player, seq!);
      const failed = failOps.get(player, seq!);
      if (ok) {
        if (!row) offences.add({ problem: 'lost', op: ok }, ok.index, SEVERITY.lost * 1e9 - ok.time);
        else if (!sameResult(ok.value, row.result)) offences.add({ problem: 'result-differs', op: ok, row: shownRow }, ok.index, SEVERITY['result-differs'] * 1e9);
      } else if (failed && !infoSeen.get(player, seq!)) {
        failedChecked++;
        if (row) offences.add({ problem: 'failed-but-applied', op: failed, row: shownRow }, failed.index, SEVERITY['failed-but-applied'] * 1e9);
      }
    }
    let playersMissing = 0;
    for (const [player, op] of maxAcked) {
      const version = finalVersion.get(player);
      if (version === undefined) {
        playersMissing++;
        offences.add({ problem: 'player-missing', op }, op.index, SEVERITY['player-missing'] * 1e9);
      } else if (version < (op.version ?? 0)) {
        offences.add({ problem: 'version-regressed', op, finalVersion: version }, op.index, SEVERITY['version-regressed'] * 1e9 + (op.version ?? 0) - version);
      }
    }

    const details = { okActions: okCount, distinctActions: distinct.length, onlyFailed: failedChecked, logRows: final.actions.length, playersMissing };
    if (offences.count === 0) {
      return { name: 'acked-durable', valid: true, summary: `all ${plural(okCount, 'acked action')} are durable with their acked results`, details };
    }
    const first = offences.first!;
    return invalidResult('acked-durable', `${plural(offences.count, 'violation')}; first: ${describe(first)}`, offences, details);
  },
};

function describe(offence: AckedDurableOffence): string {
  const { op } = offence;
  const where = `${op.player} seq ${op.seq} (${op.f}, history #${op.index})`;
  switch (offence.problem) {
    case 'lost':
      return `${where} was acked ok${op.version !== undefined ? ` at version ${op.version}` : ''} but is missing from the final action log`;
    case 'result-differs':
      return `${where} was acked with result ${shown(op.value)}, but the log holds ${shown(offence.row?.result)}`;
    case 'version-regressed':
      return `${op.player} was acked version ${op.version ?? '(none recorded)'} (history #${op.index}), but its final version is ${offence.finalVersion ?? '(none)'}`;
    case 'failed-but-applied':
      return `${where} failed (${op.error ?? 'no reason'}) but is in the final action log`;
    case 'player-missing':
      return `${op.player} had acked actions${op.version !== undefined ? ` (up to version ${op.version})` : ''} (history #${op.index}), but is missing from the final state`;
  }
}

/** A result as JSON, or what stands in for none (JSON.stringify(undefined) is undefined). */
function shown(value: unknown): string {
  return value === undefined ? 'no result' : (JSON.stringify(value) ?? String(value));
}
