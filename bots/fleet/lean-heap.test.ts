/** keepHeapLean works only while V8 reads these flags at run time: a Node that froze them would turn it into a silent no-op. */
import { execFileSync } from 'node:child_process';
import { heapProfileEnv, keepHeapLean } from './lean-heap';

/** A child that allocates steadily (some of it surviving a while, as in-flight actions do) and prints its young generation's size in MB. */
function youngGenerationAfterLoad(heap: string | null): number {
  const script = `
    ${heap === null ? '' : `require('tsx/cjs'); require(${JSON.stringify(require.resolve('./lean-heap.ts'))}).keepHeapLean();`}
    const kept = [];
    for (let round = 0; round < 300; round++) {
      const batch = [];
      for (let i = 0; i < 20000; i++) batch.push({ i, text: 'x' + i });
      kept[round % 25] = batch;
    }
    const young = require('node:v8').getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    console.log(young.space_size / 1e6);`;
  const env = { ...process.env, LAGSTORM_HEAP: heap ?? '' };
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: __dirname, env }).trim());
}

test('under steady allocation the young generation stays at its first size with keepHeapLean, and grows past it without or with LAGSTORM_HEAP=v8', () => {
  expect(youngGenerationAfterLoad(null)).toBeGreaterThan(16);
  expect(youngGenerationAfterLoad('v8')).toBeGreaterThan(16);
  expect(youngGenerationAfterLoad('')).toBeLessThan(4);
  expect(youngGenerationAfterLoad('lean')).toBeLessThan(4);
});

test('an unknown LAGSTORM_HEAP is refused, naming the variable and the values it takes', () => {
  expect(() => keepHeapLean({ LAGSTORM_HEAP: 'fast' })).toThrow("LAGSTORM_HEAP=fast is not a heap profile: use 'lean' (the default: less memory per bot) or 'v8' (V8's defaults: less CPU per action), or unset it");
});

test("agents are launched with the coordinator's heap profile, and with none when it has none", () => {
  expect(heapProfileEnv({ LAGSTORM_HEAP: 'v8' })).toEqual({ LAGSTORM_HEAP: 'v8' });
  expect(heapProfileEnv({})).toEqual({});
});
