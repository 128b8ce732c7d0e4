import { noDesync, noDesyncChecker, type FinalShadows, type NoDesyncOffence, type ServerView } from './no-desync';
import { HistoryBuilder, fakeChecksum } from '../test-history';

function game(): HistoryBuilder {
  const b = new HistoryBuilder().player('alice').player('bob');
  b.act('alice', 'harvest');
  b.act('bob', 'craft');
  b.act('bob', 'craft');
  return b;
}

/** A game's reading of its final state: players by name, and their states at earlier versions. */
function shadows(finals: Record<string, ServerView>, earlier: Record<string, ServerView> = {}): NonNullable<Parameters<typeof noDesyncChecker>[0]> {
  return {
    finalShadows: (final): FinalShadows | string =>
      final === 'their-state' ? { finalOf: (player) => finals[player], at: (player, version) => earlier[`${player}@${version}`] } : 'not a state this game knows',
  };
}

describe('no-desync (generic)', () => {
  it('applies only to a game with a shadow model, saying why not', () => {
    expect(noDesync.appliesTo!({ stateVersions: true, shadowModel: true, finalState: true, effects: false, transfers: false, appliedKeys: false })).toBeUndefined();
    expect(noDesync.appliesTo!({ stateVersions: true, shadowModel: false, finalState: true, effects: false, transfers: false, appliedKeys: false })).toBe('the game has no shadow model (its client records no desync findings)');
  });

  it('passes a run without desync findings, whatever the actions are called', async () => {
    const b = game();
    b.sessionEnd('alice').sessionEnd('bob');
    const result = await noDesync.check(b.input());
    expect(result).toMatchObject({ valid: true, summary: 'no desync events (the game compares no final shadows with its final state)' });
  });

  it("fails on a client's desync finding and names it", async () => {
    const b = game();
    b.event({ process: 'bob', player: 'bob', f: 'desync', time: b.now, value: { expected: { version: 2, checksum: 'aa' }, actual: { version: 3, checksum: 'bb' }, seq: 2 } });
    const input = b.input();
    const result = await noDesync.check(input);
    expect(result.valid).toBe(false);
    const first = result.first as NoDesyncOffence;
    expect(first.problem).toBe('desync');
    expect(first.event).toBe(input.history.find((e) => e.type === 'event' && e.f === 'desync'));
    expect(result.summary).toBe(`1 desync; first: bob (bob, history #${first.event.index}) saw a desync at seq 2: its shadow expected version 2, checksum aa, the server sent version 3, checksum bb`);
  });

  it("compares final shadows through the game's reader: equal passes, a different checksum fails", async () => {
    const b = game();
    b.sessionEnd('alice').sessionEnd('bob');
    const agreeing = noDesyncChecker(shadows({ alice: { version: 1, checksum: fakeChecksum('alice', 1) }, bob: { version: 2, checksum: fakeChecksum('bob', 2) } }));
    expect(await agreeing.check({ ...b.input(), final: 'their-state' })).toMatchObject({ valid: true, summary: 'no desync events; 2 final shadows match the server' });
    const differing = noDesyncChecker(shadows({ alice: { version: 1, checksum: fakeChecksum('alice', 1) }, bob: { version: 2, checksum: 'other' } }));
    const result = await differing.check({ ...b.input(), final: 'their-state' });
    expect(result.valid).toBe(false);
    expect(result.first).toMatchObject({ problem: 'shadow-differs', server: { version: 2, checksum: 'other' } });
  });

  it('fails a shadow ahead of the server and a player missing from the final state', async () => {
    const b = game();
    b.sessionEnd('alice').sessionEnd('bob');
    const checker = noDesyncChecker(shadows({ bob: { version: 1, checksum: fakeChecksum('bob', 1) } }));
    const result = await checker.check({ ...b.input(), final: 'their-state' });
    expect(result.valid).toBe(false);
    expect((result.details!.examples as NoDesyncOffence[]).map((o) => `${o.problem}:${o.event.player}`)).toEqual(['player-missing:alice', 'shadow-ahead:bob']);
  });

  it("compares a shadow behind the server with the server's state at the shadow's version", async () => {
    const b = game();
    b.sessionEnd('bob');
    const later = { bob: { version: 5, checksum: 'later' } };
    const same = noDesyncChecker(shadows(later, { 'bob@2': { version: 2, checksum: fakeChecksum('bob', 2) } }));
    expect((await same.check({ ...b.input(), final: 'their-state' })).valid).toBe(true);
    const differs = noDesyncChecker(shadows(later, { 'bob@2': { version: 2, checksum: 'rewritten' } }));
    expect((await differs.check({ ...b.input(), final: 'their-state' })).first).toMatchObject({ problem: 'shadow-differs', server: { checksum: 'rewritten' } });
  });

  it("is unknown when the game compares final shadows but there is no final state, or not one it knows", async () => {
    const b = game();
    b.sessionEnd('bob');
    const checker = noDesyncChecker(shadows({}));
    expect(await checker.check(b.input())).toMatchObject({ valid: 'unknown', summary: "no desync during the run, but no final snapshot to compare the bots' shadows with" });
    expect(await checker.check({ ...b.input(), final: { something: 'else' } })).toMatchObject({
      valid: 'unknown',
      summary: "no desync during the run, but the final state cannot be compared with the bots' shadows: not a state this game knows",
    });
  });
});
