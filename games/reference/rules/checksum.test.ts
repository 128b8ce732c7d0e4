import { canonicalJson, checksum } from './checksum';
import { newPlayer } from './model';

describe('checksum', () => {
  it('is independent of key order and of zero inventory counts', () => {
    const a = { ...newPlayer('p1'), inventory: { sword: 1, potion: 0 } };
    const b = { lastSeq: 0, version: 0, inventory: { sword: 1 }, xp: 0, level: 1, gems: 10, gold: 500, id: 'p1' };
    expect(checksum(a)).toBe(checksum(b));
  });

  it('changes with any field and is a 14-hex-digit string', () => {
    const base = newPlayer('p1');
    const sums = new Set([base, { ...base, gold: 501 }, { ...base, version: 1 }, { ...base, id: 'p2' }, { ...base, inventory: { potion: 1 } }].map(checksum));
    expect(sums.size).toBe(5);
    for (const sum of sums) expect(sum).toMatch(/^[0-9a-f]{14}$/);
  });

  it('is pinned: a change to the algorithm breaks every bot in the field', () => {
    expect(checksum(newPlayer('alice'))).toBe('037407bf498cfd');
  });

  it('canonicalJson sorts keys recursively and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"z":1}]},"b":1}');
  });
});
