import { segmentTuple } from '../bots/fleet/segments';
import { evenSegment } from './protocol';

test('agent i of n gets segment i/n:(i+1)/n of the even sequence, in lowest terms', () => {
  expect([0, 1, 2, 3].map((i) => evenSegment(i, 4))).toEqual([
    { segment: '0:1/4', sequence: '0,1/4,1/2,3/4,1' },
    { segment: '1/4:1/2', sequence: '0,1/4,1/2,3/4,1' },
    { segment: '1/2:3/4', sequence: '0,1/4,1/2,3/4,1' },
    { segment: '3/4:1', sequence: '0,1/4,1/2,3/4,1' },
  ]);
  expect(evenSegment(0, 1)).toEqual({ segment: '0:1', sequence: '0,1' });
});

test('the agents of an even split own every slot exactly once, each a near-equal share', () => {
  for (const count of [1, 2, 3, 4, 6, 7]) {
    const tuples = Array.from({ length: count }, (_, i) => evenSegment(i, count)).map(({ segment, sequence }) => segmentTuple(segment, sequence));
    for (let slot = 0; slot < 100; slot++) expect(tuples.filter((tuple) => tuple.owns(slot))).toHaveLength(1);
    for (const tuple of tuples) expect([Math.floor(100 / count), Math.ceil(100 / count)]).toContain(tuple.share(100));
  }
});
