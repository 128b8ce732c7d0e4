import type { NoDesyncOffence } from '../../../verdict/checkers/no-desync';
import { referenceNoDesync as noDesync } from './no-desync';
import { HistoryBuilder } from './test-history';
import { checksum } from '../rules/checksum';

function game(): HistoryBuilder {
  const b = new HistoryBuilder().player('alice').player('bob').player('carol');
  b.act('alice', { kind: 'collect' });
  b.act('bob', { kind: 'buy', item: 'potion' });
  b.act('carol', { kind: 'upgrade' });
  return b;
}

describe('no-desync', () => {
  it('passes when final shadows match, skipping a bot with pending info ops', async () => {
    const b = game();
    b.act('carol', { kind: 'collect' }, { outcome: 'info', applied: true });
    b.sessionEnd('alice').sessionEnd('bob');
    // carol's shadow does not know whether its last collect landed: it lags, legitimately.
    b.sessionEnd('carol', { pendingInfo: 1, shadow: { ...b.state('carol'), version: 1, gold: 450 } });
    const result = await noDesync.check(b.input());
    expect(result.valid).toBe(true);
    expect(result.summary).toBe('no desync events; 2 final shadows match the server; 1 bot with pending info ops not compared');
    expect(result.details!.skippedPlayers).toEqual(['carol']);
  });

  it('compares a bot that left before a gift arrived with the server state at its version', async () => {
    const b = game();
    b.sessionEnd('bob');
    b.act('alice', { kind: 'gift-send', to: 'bob', amount: 10 });
    b.sessionEnd('alice');
    const result = await noDesync.check(b.input());
    expect(result.valid).toBe(true);
    expect(result.details!.shadowsCompared).toBe(2);
  });

  it('fails on a desync event and names it', async () => {
    const b = game();
    const expected = { version: 2, checksum: checksum(b.state('alice')) };
    b.event({ process: 'alice', player: 'alice', f: 'desync', time: b.now, value: { expected, actual: { version: 2, checksum: 'deadbeef' }, seq: 2 } });
    const input = b.input();
    const result = await noDesync.check(input);
    expect(result.valid).toBe(false);
    const first = result.first as NoDesyncOffence;
    expect(first.problem).toBe('desync');
    expect(first.event).toBe(input.history.find((e) => e.type === 'event' && e.f === 'desync'));
    expect(result.summary).toContain('alice (alice, history #');
    expect(result.summary).toContain('saw a desync at seq 2');
  });

  it("fails when a bot's final shadow disagrees with the server", async () => {
    const b = game();
    b.sessionEnd('bob', { shadow: { ...b.state('bob'), gold: 1_000_000 } });
    const result = await noDesync.check(b.input());
    expect(result.valid).toBe(false);
    expect((result.first as NoDesyncOffence).problem).toBe('shadow-differs');
    expect(result.summary).toContain('bob (bob, history #');
  });

  it("fails when a bot's shadow disagrees with the server at its version, gifts having arrived since", async () => {
    const b = game();
    b.sessionEnd('bob', { shadow: { ...b.state('bob'), gems: 99 } });
    b.act('alice', { kind: 'gift-send', to: 'bob', amount: 10 });
    const result = await noDesync.check(b.input());
    expect(result.valid).toBe(false);
    expect((result.first as NoDesyncOffence).server?.version).toBe(1);
  });

  it('is unknown with no desync events but no final snapshot', async () => {
    const b = game();
    b.sessionEnd('alice');
    expect((await noDesync.check(b.input({ final: undefined }))).valid).toBe('unknown');
  });

  it('is unknown, saying so, when the final state is not a reference snapshot', async () => {
    const b = game();
    b.sessionEnd('alice');
    const result = await noDesync.check({ ...b.input(), final: { players: {} } });
    expect(result.valid).toBe('unknown');
    expect(result.summary).toContain("the final state is not the reference game's FinalSnapshot (players, actions, gifts are not a list)");
  });

  it('is unknown, saying so, when the final state is not a reference snapshot', async () => {
    const b = game();
    b.sessionEnd('alice');
    const result = await noDesync.check({ ...b.input(), final: { players: {} } });
    expect(result.valid).toBe('unknown');
    expect(result.summary).toContain("the final state is not the reference game's FinalSnapshot (players, actions, gifts are not a list)");
  });
});
