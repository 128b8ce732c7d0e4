import { monotonic, type MonotonicOffence } from './monotonic';
import { HistoryBuilder } from '../test-history';

describe('monotonic', () => {
  it('passes when versions grow with seq and logins report what was acked', async () => {
    const b = new HistoryBuilder().player('alice').player('bob');
    b.login('alice', { resumed: false });
    b.act('alice', { kind: 'collect' });
    b.act('alice', { kind: 'gift-send', to: 'bob', amount: 5 });
    b.act('bob', { kind: 'collect' });
    b.act('alice', { kind: 'collect' }, { outcome: 'info', applied: true });
    b.act('alice', { kind: 'collect' }, { seq: 3 }); // the resend: acked as the stored duplicate
    b.login('alice');
    b.login('bob');
    const result = await monotonic.check(b.input());
    expect(result.valid).toBe(true);
    expect(result.summary).toBe('4 acks grow monotonically per player; 3 logins never went back');
  });

  it('catches ack-before-commit-then-crash: the next welcome reports an older lastSeq', async () => {
    const b = new HistoryBuilder().player('alice');
    b.act('alice', { kind: 'collect' });
    const lost = b.act('alice', { kind: 'buy', item: 'potion' }, { defect: 'ack-before-commit' });
    const login = b.login('alice');
    const result = await monotonic.check(b.input());
    expect(result.valid).toBe(false);
    const first = result.first as MonotonicOffence;
    expect(first.problem).toBe('login-lastseq-regressed');
    expect(first.op).toBe(login.completion);
    expect(first.earlier).toBe(lost.completion);
    expect(result.summary).toContain('reports lastSeq 1 after seq 2 was acked ok');
  });

  it('catches a welcome whose version is below an acked version', async () => {
    const b = new HistoryBuilder().player('alice');
    b.act('alice', { kind: 'collect' });
    const login = b.login('alice');
    (login.completion.value as { version: number }).version = 0;
    (login.completion.value as { lastSeq: number }).lastSeq = 1;
    const result = await monotonic.check(b.input());
    expect(result.valid).toBe(false);
    expect((result.first as MonotonicOffence).problem).toBe('login-version-regressed');
  });

  it('catches acks whose versions do not increase with seq', async () => {
    const b = new HistoryBuilder().player('alice');
    b.act('alice', { kind: 'collect' });
    b.act('alice', { kind: 'collect' });
    const third = b.act('alice', { kind: 'collect' });
    third.completion.version = 2;
    const result = await monotonic.check(b.input());
    expect(result.valid).toBe(false);
    const first = result.first as MonotonicOffence;
    expect(first.problem).toBe('version-not-increasing');
    expect(first.op).toBe(third.completion);
    expect(result.summary).toContain("alice seq 3 was acked with version 2, not above seq 2's version 2");
  });

  it('applies only to a game whose acks carry state versions, saying why not', () => {
    expect(monotonic.appliesTo!({ stateVersions: true, shadowModel: false, finalState: false, effects: false, transfers: false, appliedKeys: false })).toBeUndefined();
    expect(monotonic.appliesTo!({ stateVersions: false, shadowModel: true, finalState: true, effects: false, transfers: false, appliedKeys: false })).toBe('the game does not version player state (its acks and logins carry no state version)');
  });

  it("judges any game's actions (ops with a seq), and not its reads", async () => {
    const b = new HistoryBuilder().player('alice');
    b.act('alice', 'plant-seed');
    b.act('alice', 'harvest');
    const third = b.act('alice', 'sell-crop');
    third.completion.version = 1;
    // A client-recorded read carries no seq: its version is not an ack.
    b.event({ process: 'alice', player: 'alice', f: 'reconnected', time: b.now });
    const input = b.input();
    const read = { index: input.history.length, type: 'ok' as const, process: 'alice', player: 'alice', f: 'read', intendedAt: b.now, time: b.now, version: 0 };
    const result = await monotonic.check({ ...input, history: [...input.history, read] });
    expect(result.valid).toBe(false);
    expect(result.offendingCount).toBe(1);
    expect(result.first).toMatchObject({ problem: 'version-not-increasing', op: { f: 'sell-crop', seq: 3 } });
  });
});
