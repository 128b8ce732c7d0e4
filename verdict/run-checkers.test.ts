import { mergeValidity, runCheckers } from './run-checkers';
import { CHECKERS } from './checkers';
import { CHECK_NAMES, type Checker } from './types';
import { HistoryBuilder } from './test-history';

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

describe('runCheckers', () => {
  it('runs every built-in checker over a consistent run: all valid', async () => {
    const results = await runCheckers(CHECK_NAMES, consistentRun().input());
    expect(results.map((r) => [r.name, r.valid])).toEqual(CHECK_NAMES.map((name) => [name, true]));
    expect(results.every((r) => typeof r.details?.durationMs === 'number')).toBe(true);
  });

  it('turns a throwing checker into unknown with the error, and keeps running the others', async () => {
    const throwing: Checker = {
      name: 'conservation',
      description: 'throws',
      check: () => {
        throw new Error('boom');
      },
    };
    const results = await runCheckers(['conservation', 'monotonic'], consistentRun().input(), { ...CHECKERS, conservation: throwing });
    expect(results[0]).toMatchObject({ name: 'conservation', valid: 'unknown', summary: 'checker crashed: boom' });
    expect(results[0].error).toContain('boom');
    expect(results[1]).toMatchObject({ name: 'monotonic', valid: true });
  });

  it('turns a real checker crashing on malformed input into unknown', async () => {
    const input = consistentRun().input();
    (input.final as unknown as { actions: unknown }).actions = null; // a broken admin API response
    const [result] = await runCheckers(['exactly-once'], input);
    expect(result.valid).toBe('unknown');
    expect(result.summary).toMatch(/^checker crashed: /);
  });

  it("merges false > unknown > true", () => {
    expect(mergeValidity([])).toBe(true);
    expect(mergeValidity([true, true])).toBe(true);
    expect(mergeValidity([true, 'unknown', true])).toBe('unknown');
    expect(mergeValidity(['unknown', false, true])).toBe(false);
  });
});
