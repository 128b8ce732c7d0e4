/**
 * acked-durable: what the server acknowledged survived. Every ok action (player, seq) is in the
 * final action log with the acked result; an action that only ever failed is absent; info may be
 * either. Every player's final version is at least every version it was acked with.
 */
import type { ClientOp } from '../../history';
import type { Checker, CheckInput, CheckResult, FinalSnapshot } from '../types';
import { isActionOp, Offences, invalidResult, plural, sameResult, seqKey } from '../ops';

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

interface SeqOutcome {
  ok?: ClientOp;
  fail?: ClientOp;
  info: boolean;
}

export const ackedDurable: Checker = {
  name: 'acked-durable',
  description: 'every acknowledged action is in the final state with its acked result; failed actions are absent',
  check(input: CheckInput): CheckResult {
    const { final } = input;
    if (!final) return { name: 'acked-durable', valid: 'unknown', summary: 'no final snapshot of the database: cannot tell which acked actions survived' };

    const rows = new Map<string, LogRow>();
    for (const row of final.actions) rows.set(seqKey(row.player, row.seq), row);
    const finalVersion = new Map<string, number>();
    for (const p of final.players) finalVersion.set(p.state.id, p.state.version);

    // One outcome record per (player, seq): a seq retried after a fail is the same logical action.
    const outcomes = new Map<string, SeqOutcome>();
    const maxAcked = new Map<string, ClientOp>();
    let okCount = 0;
    for (const entry of input.history) {
      if (!isActionOp(entry) || entry.type === 'invoke' || entry.seq === undefined) continue;
      const key = seqKey(entry.player, entry.seq);
      let outcome = outcomes.get(key);
      if (!outcome) outcomes.set(key, (outcome = { info: false }));
      if (entry.type === 'ok') {
        okCount++;
        outcome.ok ??= entry;
        const best = maxAcked.get(entry.player);
        if (entry.version !== undefined && (!best || (best.version ?? -1) < entry.version)) maxAcked.set(entry.player, entry);
      } else if (entry.type === 'fail') outcome.fail ??= entry;
      else outcome.info = true;
    }

    const offences = new Offences<AckedDurableOffence>();
    let failedChecked = 0;
    for (const [key, outcome] of outcomes) {
      const row = rows.get(key);
      const shownRow = row && { seq: row.seq, version: row.version, result: row.result };
      if (outcome.ok) {
        const op = outcome.ok;
        if (!row) offences.add({ problem: 'lost', op }, op.index, SEVERITY.lost * 1e9 - op.time);
        else if (!sameResult(op.value, row.result)) offences.add({ problem: 'result-differs', op, row: shownRow }, op.index, SEVERITY['result-differs'] * 1e9);
      } else if (outcome.fail && !outcome.info) {
        failedChecked++;
        const op = outcome.fail;
        if (row) offences.add({ problem: 'failed-but-applied', op, row: shownRow }, op.index, SEVERITY['failed-but-applied'] * 1e9);
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

    const details = { okActions: okCount, distinctActions: outcomes.size, onlyFailed: failedChecked, logRows: final.actions.length, playersMissing };
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
      return `${where} was acked ok at version ${op.version} but is missing from the final action log`;
    case 'result-differs':
      return `${where} was acked ${JSON.stringify(op.value)} but the log holds ${JSON.stringify(offence.row?.result)}`;
    case 'version-regressed':
      return `${op.player} was acked version ${op.version} (history #${op.index}) but its final version is ${offence.finalVersion}`;
    case 'failed-but-applied':
      return `${where} failed (${op.error ?? 'no reason'}) but is in the final action log`;
    case 'player-missing':
      return `${op.player} had acked actions (up to version ${op.version}) but is missing from the final state`;
  }
}
