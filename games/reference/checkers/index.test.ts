import { referenceCheckers } from '.';
import { checkerCatalog } from '../../../verdict/checkers';
import { runCheckers } from '../../../verdict/run-checkers';
import { decideVerdict } from '../../../verdict/verdict';
import { evaluateSlos } from '../../../verdict/slo';
import { faultWindows } from '../../../verdict/phases';
import type { GameFeatures } from '../../../core/game';
import { HistoryBuilder } from './test-history';

const FEATURES: GameFeatures = { stateVersions: true, shadowModel: true, finalState: true, effects: false, transfers: false, appliedKeys: false };
const REFERENCE = { features: FEATURES, checkers: referenceCheckers };
const NAMES = checkerCatalog(referenceCheckers).names;

function consistentRun(): HistoryBuilder {
  const b = new HistoryBuilder().player('alice').player('bob');
  b.act('alice', { kind: 'collect' });
  b.act('bob', { kind: 'gift-send', to: 'alice', amount: 30 });
  b.fault(b.now, b.now + 100);
  b.now += 150;
  b.act('alice', { kind: 'buy', item: 'potion' });
  b.act('bob', { kind: 'upgrade' });
  b.login('alice');
  b.sessionEnd('alice').sessionEnd('bob');
  return b;
}

describe('the reference checkers', () => {
  it('keep their names and report order beside the generic ones; the reference no-desync takes the generic one\'s place', () => {
    expect(NAMES).toEqual(['acked-durable', 'exactly-once', 'conservation', 'acked-effects', 'transfers-conserved', 'exactly-once-keys', 'no-desync', 'monotonic', 'recovery']);
    expect(checkerCatalog(referenceCheckers).get('no-desync')).toBe(referenceCheckers[3]);
  });

  it('all pass over a consistent run', async () => {
    const own = NAMES.filter((name) => !['acked-effects', 'transfers-conserved', 'exactly-once-keys'].includes(name));
    const results = await runCheckers(own, consistentRun().input(), REFERENCE);
    expect(results.map((r) => [r.name, r.valid])).toEqual(own.map((name) => [name, true]));
  });

  it('say clearly when the final state is not a reference snapshot (unknown, not a crash)', async () => {
    const input = { ...consistentRun().input(), final: { players: [], actions: 'nope', gifts: [] } };
    const results = await runCheckers(['acked-durable', 'exactly-once', 'conservation'], input, REFERENCE);
    for (const result of results) {
      expect(result.valid).toBe('unknown');
      expect(result.summary).toBe("the final state is not the reference game's FinalSnapshot (actions is not a list): is this checker listed for another game?");
    }
  });

  it('turn a real checker crashing on malformed rows into unknown', async () => {
    const input = consistentRun().input();
    (input.final!.actions as unknown[])[0] = null; // a broken admin API response
    const [result] = await runCheckers(['exactly-once'], input, REFERENCE);
    expect(result.valid).toBe('unknown');
    expect(result.summary).toMatch(/^checker crashed: /);
  });

  it('fail a run whose backend applied a resent action twice, and pass the same run without the defect', async () => {
    const play = (defect?: 'apply-twice') => {
      const b = new HistoryBuilder().player('a').player('b');
      b.act('a', { kind: 'collect' });
      b.act('b', { kind: 'buy', item: 'potion' }, { defect });
      b.act('a', { kind: 'gift-send', to: 'b', amount: 9 });
      b.sessionEnd('a').sessionEnd('b');
      return b.input();
    };
    for (const [defect, verdict] of [[undefined, 'pass'], ['apply-twice', 'fail']] as const) {
      const input = play(defect);
      const checks = await runCheckers(NAMES, input, REFERENCE);
      const slos = evaluateSlos({ action_rtt: 'p(99)<1s' }, input.history, faultWindows(input.history));
      expect(decideVerdict({ checks, slos, errors: [] }).verdict).toBe(verdict);
      if (defect) expect(checks.filter((c) => c.valid === false).map((c) => c.name)).toEqual(expect.arrayContaining(['exactly-once', 'conservation']));
    }
  });
});
