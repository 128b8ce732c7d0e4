/**
 * Every checker and SLO message a person reads names what was expected and what was seen: none may
 * print `undefined` or `NaN` (an optional field interpolated raw). Each case is a violating history
 * (the check must come out invalid, so its failure message is what is inspected). It lives with the
 * reference game because it covers the generic checkers and the game's own.
 */
import type { Effect } from '../../../core/game';
import type { ClientOp, HistoryEntry } from '../../../core/history';
import { checkerCatalog } from '../../../verdict/checkers';
import { HistoryBuilder as GenericHistory } from '../../../verdict/test-history';
import type { CheckInput, CheckResult, EffectModel } from '../../../verdict/types';
import { decideVerdict } from '../../../verdict/verdict';
import { evaluateSlos } from '../../../verdict/slo';
import { faultWindows } from '../../../verdict/phases';
import { referenceCheckers } from '.';
import { HistoryBuilder } from './test-history';

const catalog = checkerCatalog(referenceCheckers);
const RAW = /\bundefined\b|\bNaN\b/;

async function check(name: string, input: CheckInput): Promise<CheckResult> {
  const result = await catalog.get(name)!.check(input);
  expect({ name, valid: result.valid }).toEqual({ name, valid: false });
  return result;
}

/** A reference desync as its client records it: the states sit under `state`, not at the top. */
function desyncRun(value: unknown): CheckInput {
  const b = new HistoryBuilder().player('alice');
  b.act('alice', { kind: 'collect' });
  b.event({ process: 'alice', player: 'alice', f: 'desync', time: b.now, value });
  return b.input();
}

function ackBeforeCommit(): CheckInput {
  const b = new HistoryBuilder().player('alice');
  b.act('alice', { kind: 'collect' });
  b.act('alice', { kind: 'collect' }, { defect: 'ack-before-commit' });
  b.login('alice');
  b.sessionEnd('alice');
  return b.input();
}

function applyTwice(): CheckInput {
  const b = new HistoryBuilder().player('a').player('b');
  b.act('a', { kind: 'collect' });
  b.act('b', { kind: 'gift-send', to: 'a', amount: 9 }, { defect: 'double-credit' });
  b.act('a', { kind: 'collect' }, { defect: 'apply-twice' });
  b.sessionEnd('a').sessionEnd('b');
  return b.input();
}

/** A game of coins without state versions, whose ops carry no seq on some completions. */
const coins: EffectModel = {
  quantities: { coins: { initial: 100, transferOnly: true } },
  effectsOf: (action, params): Effect[] => {
    const p = params as { amount: number; to: string };
    return action === 'give' ? [{ quantity: 'coins', delta: -p.amount }, { player: p.to, quantity: 'coins', delta: p.amount }] : [];
  },
  finalQuantities: (final) => (final as { coins: Record<string, Record<string, number>> }).coins,
  appliedKeys: (final) => (final as { keys: Array<{ player: string; seq: number }> }).keys,
};

function coinsRun(): CheckInput {
  let index = 0;
  const op = (type: ClientOp['type'], seq: number, value?: unknown): ClientOp => ({ index: index++, type, process: 'a', player: 'a', f: 'give', seq, value, intendedAt: index, time: index });
  const history: HistoryEntry[] = [op('invoke', 1, { amount: 10, to: 'b' }), op('ok', 1), op('invoke', 2, { amount: 5, to: 'b' }), op('fail', 2)];
  const final = { coins: { a: { coins: -3 }, b: { coins: 150 } }, keys: [{ player: 'a', seq: 2 }, { player: 'a', seq: 2 }] };
  return { history, final, effects: coins, limits: { reconnectWithinMs: 1000 }, runEndAt: 100 };
}

function recoveryRun(): CheckInput {
  const b = new GenericHistory().player('a').player('b').player('c');
  b.act('a', 'collect', { at: 10 });
  b.act('b', 'collect', { at: 20 });
  b.act('c', 'collect', { at: 30 });
  b.fault(100, 1_000);
  b.event({ process: 'a', player: 'a', f: 'gave-up', time: 1_500 });
  b.act('b', 'collect', { at: 9_000 });
  return b.input({ limits: { reconnectWithinMs: 2_000 }, runEndAt: 20_000 });
}

const CASES: Array<[string, string, () => CheckInput]> = [
  ['no-desync', 'a checksum mismatch as the reference client records it', () => desyncRun({ reason: 'checksum-mismatch', expected: { state: { version: 2 }, checksum: 'aa' }, actual: { state: { version: 2 }, checksum: 'bb', server: {} } })],
  ['no-desync', 'a version gap (buffered versions, no checksum)', () => desyncRun({ reason: 'version-gap', expected: { version: 3 }, actual: { bufferedVersions: [4, 5] } })],
  ['no-desync', 'a desync with no value at all', () => desyncRun(undefined)],
  ['no-desync', "a final shadow that differs from the server's", () => {
    const b = new HistoryBuilder().player('alice');
    b.act('alice', { kind: 'collect' });
    b.sessionEnd('alice', { shadow: { ...b.state('alice'), gold: 1 } });
    return b.input();
  }],
  ['acked-durable', 'an acked action lost in a crash', ackBeforeCommit],
  ['monotonic', 'a login reporting less than was acked', ackBeforeCommit],
  ['exactly-once', 'an action applied twice, a gift credited twice', applyTwice],
  ['conservation', 'gold created by a double credit', applyTwice],
  ['acked-effects', 'a balance outside its acked bounds (ops without versions)', coinsRun],
  ['transfers-conserved', 'a negative balance and a changed total', coinsRun],
  ['exactly-once-keys', 'a key applied twice, a failed one applied', coinsRun],
  ['recovery', 'a bot that gave up and one that came back late', recoveryRun],
];

describe('checker messages name what was expected and what was seen', () => {
  it.each(CASES)('%s: %s', async (name, _what, build) => {
    const result = await check(name, build());
    const texts = [result.summary, decideVerdict({ checks: [result], slos: [], errors: [] }).reasons.join('\n')];
    for (const text of texts) expect(text).not.toMatch(RAW);
  });

  it('the reference desync message shows both sides\' versions and checksums', async () => {
    const result = await check('no-desync', CASES[0][2]());
    expect(result.summary).toMatch(/saw a desync \(checksum-mismatch\): its shadow expected version 2, checksum aa, the server sent version 2, checksum bb$/);
  });

  it('failing SLOs say what was observed against which limit', () => {
    const b = new GenericHistory().player('a');
    b.act('a', 'collect', { latency: 900 });
    b.fault(b.now, b.now + 10);
    b.now += 20;
    const { history } = b.build();
    const slos = evaluateSlos({ action_rtt: 'p(99)<50ms', error_rate: 'count<0', time_to_recover: '<1ms' }, history, faultWindows(history), { runEndAt: 50_000 });
    const reasons = decideVerdict({ checks: [], slos, errors: [] }).reasons;
    expect(reasons.length).toBeGreaterThanOrEqual(2);
    for (const reason of reasons) expect(reason).not.toMatch(RAW);
  });

  it('the pattern catches a raw optional field (the message it guards against)', () => {
    const optional: { version?: number } = {};
    expect(`expected version ${optional.version}`).toMatch(RAW);
    expect(`${Number('x')} ms`).toMatch(RAW);
  });
});
