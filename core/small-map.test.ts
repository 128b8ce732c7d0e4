import { SmallMap } from './small-map';

test('keeps insertion order through set, replace and delete, like a Map', () => {
  const map = new SmallMap<number, string>();
  const reference = new Map<number, string>();
  const steps: Array<[string, number, string?]> = [['set', 3, 'a'], ['set', 1, 'b'], ['set', 7, 'c'], ['set', 1, 'B'], ['delete', 3], ['delete', 9], ['set', 3, 'd'], ['delete', 7]];
  for (const [op, key, value] of steps) {
    if (op === 'set') {
      map.set(key, value!);
      reference.set(key, value!);
    } else expect(map.delete(key)).toBe(reference.delete(key));
    expect(map.values()).toEqual([...reference.values()]);
    expect(map.size).toBe(reference.size);
    expect(map.first()).toBe([...reference.values()][0]);
  }
  expect(map.get(1)).toBe('B');
  expect(map.has(7)).toBe(false);
  map.clear();
  expect([map.size, map.first()]).toEqual([0, undefined]);
});
