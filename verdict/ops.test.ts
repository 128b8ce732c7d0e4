import { Offences, pairOps, PlayerSeqTable } from './ops';
import type { ClientOp } from '../core/history';

const op = (index: number, type: ClientOp['type'], seq: number, process = 'bot1'): ClientOp => ({ index, type, process, player: 'p1', f: 'collect', seq, intendedAt: index, time: index });

describe('pairOps', () => {
  it('pairs completions with their invokes; a re-invoked or never completed invoke is open', () => {
    const history = [op(0, 'invoke', 1), op(1, 'invoke', 1, 'bot2'), op(2, 'ok', 1, 'bot2'), op(3, 'invoke', 2), op(4, 'invoke', 2), op(5, 'info', 2), op(6, 'fail', 9)];
    const { pairs, open, orphanCompletions } = pairOps(history);
    expect(pairs.map((p) => [p.invoke.index, p.completion.index])).toEqual([
      [1, 2],
      [4, 5],
    ]);
    expect(open.map((o) => o.index).sort()).toEqual([0, 3]);
    expect(orphanCompletions).toBe(1);
  });
});

describe('PlayerSeqTable and Offences', () => {
  it('keys by player and seq, and keeps the first and the worst offence', () => {
    const table = new PlayerSeqTable<string>();
    table.set('a', 1, 'a1');
    table.set('b', 1, 'b1');
    table.set('a', 1e9, 'far');
    expect([table.get('a', 1), table.get('b', 1), table.get('a', 1e9), table.get('c', 1), table.get('a', 2)]).toEqual(['a1', 'b1', 'far', undefined, undefined]);
    const offences = new Offences<string>(2);
    offences.add('late-but-bad', 10, 5);
    offences.add('early', 1, 1);
    offences.add('also-bad-later', 20, 5);
    expect([offences.count, offences.first, offences.worst, offences.examples]).toEqual([3, 'early', 'late-but-bad', ['late-but-bad', 'early']]);
  });
});
