/** keepHeapLean works only while V8 reads these flags at run time: a Node that froze them would turn it into a silent no-op. */
import { execFileSync } from 'node:child_process';

/** A child that allocates steadily (a quarter of it surviving a while, as in-flight actions do) and prints its young generation's size in MB. */
function youngGenerationAfterLoad(lean: boolean): number {
  const script = `
    ${lean ? `require('tsx/cjs'); require(${JSON.stringify(require.resolve('./lean-heap.ts'))}).keepHeapLean();` : ''}
    const kept = [];
    for (let round = 0; round < 300; round++) {
      const batch = [];
      for (let i = 0; i < 20000; i++) batch.push({ i, text: 'x' + i });
      kept[round % 25] = batch;
    }
    const young = require('node:v8').getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    console.log(young.space_size / 1e6);`;
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: __dirname }).trim());
}

test('under steady allocation the young generation stays at its first size with keepHeapLean, and grows past it without', () => {
  expect(youngGenerationAfterLoad(false)).toBeGreaterThan(16);
  expect(youngGenerationAfterLoad(true)).toBeLessThan(4);
});
