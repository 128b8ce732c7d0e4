/**
 * monotonic: per player, acked versions strictly increase with seq, and no login welcome reports
 * a lastSeq or version below one already acked before that login was sent. A server that acks
 * before it commits and then crashes comes back with an older state: the next welcome shows it.
 * Works on any game whose acks and logins carry state versions (GameFeatures.stateVersions); an
 * action is any op with a seq, whatever the game calls it.
 */
import type { ClientOp } from '../../core/history';
import type { Checker, CheckInput, CheckResult } from '../types';
import { Offences, invalidResult, plural } from '../ops';

export interface MonotonicOffence {
  problem: 'version-not-increasing' | 'seq-acked-with-two-versions' | 'login-lastseq-regressed' | 'login-version-regressed';
  player: string;
  /** The op that shows the regression (the later ack, or the login's completion). */
  op: ClientOp;
  /** The earlier ack it contradicts. */
  earlier: ClientOp;
  welcome?: { version?: number; lastSeq?: number };
}

interface Highest {
  seq?: ClientOp;
  version?: ClientOp;
}

export const monotonic: Checker = {
  name: 'monotonic',
  description: 'acked versions grow with seq; a login never reports less than what was already acked',
  appliesTo: (features) => (features.stateVersions ? undefined : 'the game does not version player state (its acks and logins carry no state version)'),
  check(input: CheckInput): CheckResult {
    const offences = new Offences<MonotonicOffence>();
    const acksByPlayer = new Map<string, ClientOp[]>();
    const highest = new Map<string, Highest>();
    const loginsPending = new Map<string, Highest>();
    let logins = 0;
    let acks = 0;

    for (const entry of input.history) {
      if (entry.type === 'event' || entry.process === 'nemesis') continue;
      const op = entry as ClientOp;
      if (op.seq !== undefined) {
        if (op.type !== 'ok' || op.version === undefined) continue;
        acks++;
        let list = acksByPlayer.get(op.player);
        if (!list) acksByPlayer.set(op.player, (list = []));
        list.push(op);
        let top = highest.get(op.player);
        if (!top) highest.set(op.player, (top = {}));
        if (!top.seq || op.seq > top.seq.seq!) top.seq = op;
        if (!top.version || op.version > top.version.version!) top.version = op;
      } else if (op.f === 'login') {
        const key = `${op.process}\u0000${op.player}`;
        if (op.type === 'invoke') {
          // What had been acked by the time this hello was sent.
          loginsPending.set(key, { ...highest.get(op.player) });
          continue;
        }
        const before = loginsPending.get(key);
        loginsPending.delete(key);
        if (op.type !== 'ok' || !before) continue;
        logins++;
        const welcome = op.value as { version?: number; lastSeq?: number } | undefined;
        const lastSeq = welcome?.lastSeq;
        const version = welcome?.version ?? op.version;
        if (before.seq && typeof lastSeq === 'number' && lastSeq < before.seq.seq!) {
          offences.add({ problem: 'login-lastseq-regressed', player: op.player, op, earlier: before.seq, welcome: { version, lastSeq } }, op.index, 1e6 + before.seq.seq! - lastSeq);
        } else if (before.version && typeof version === 'number' && version < before.version.version!) {
          offences.add({ problem: 'login-version-regressed', player: op.player, op, earlier: before.version, welcome: { version, lastSeq } }, op.index, 1e6 + before.version.version! - version);
        }
      }
    }

    for (const [player, list] of acksByPlayer) {
      // Acks arrive almost in seq order, so this sort is close to linear.
      list.sort((a, b) => a.seq! - b.seq! || a.index - b.index);
      for (let i = 1; i < list.length; i++) {
        const prev = list[i - 1];
        const cur = list[i];
        if (cur.seq === prev.seq) {
          if (cur.version !== prev.version) {
            const [earlier, later] = prev.index < cur.index ? [prev, cur] : [cur, prev];
            offences.add({ problem: 'seq-acked-with-two-versions', player, op: later, earlier }, later.index, Math.abs(cur.version! - prev.version!));
          }
        } else if (cur.version! <= prev.version!) {
          offences.add({ problem: 'version-not-increasing', player, op: cur, earlier: prev }, Math.max(cur.index, prev.index), prev.version! - cur.version! + 1);
        }
      }
    }

    const details = { okAcks: acks, players: acksByPlayer.size, loginsChecked: logins };
    if (offences.count === 0) {
      return { name: 'monotonic', valid: true, summary: `${plural(acks, 'ack')} grow monotonically per player; ${plural(logins, 'login')} never went back`, details };
    }
    return invalidResult('monotonic', `${plural(offences.count, 'violation')}; first: ${describe(offences.first!)}`, offences, details);
  },
};

function describe(offence: MonotonicOffence): string {
  const { op, earlier, player } = offence;
  switch (offence.problem) {
    case 'login-lastseq-regressed':
      return `${player}'s login (history #${op.index}) reports lastSeq ${offence.welcome?.lastSeq} after seq ${earlier.seq} was acked ok (history #${earlier.index}): an acked action was lost`;
    case 'login-version-regressed':
      return `${player}'s login (history #${op.index}) reports version ${offence.welcome?.version} after version ${earlier.version} was acked (history #${earlier.index})`;
    case 'seq-acked-with-two-versions':
      return `${player} seq ${op.seq} was acked with version ${earlier.version} (history #${earlier.index}) and again with version ${op.version} (history #${op.index})`;
    case 'version-not-increasing':
      return `${player} seq ${op.seq} was acked with version ${op.version}, not above seq ${earlier.seq}'s version ${earlier.version}`;
  }
}
