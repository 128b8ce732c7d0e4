import { epochNowMs, systemClock } from './clock';
import { spawnSync } from 'node:child_process';

describe('systemClock timers (one queue over one global timer)', () => {
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  test('fire in due order; a cancelled timer never fires; a re-armed one fires once, at its new time', async () => {
    const clock = systemClock(epochNowMs());
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('c'), 60);
    clock.setTimeout(() => fired.push('a'), 20);
    const cancelled = clock.setTimeout(() => fired.push('never'), 30);
    clock.setTimeout(() => fired.push('b'), 40);
    clock.clearTimeout(cancelled);
    const moved = clock.timer!(() => fired.push('moved'));
    moved.arm(10);
    moved.arm(50);
    await wait(120);
    expect(fired).toEqual(['a', 'b', 'moved', 'c']);
  });

  test('a timer fires no earlier than its time (within the 1 ms granularity) and may re-arm itself', async () => {
    const clock = systemClock(epochNowMs());
    const lateness: number[] = [];
    let due = clock.now() + 15;
    const timer = clock.timer!(() => {
      lateness.push(clock.now() - due);
      if (lateness.length < 3) {
        due = clock.now() + 15;
        timer.arm(15);
      }
    });
    timer.arm(15);
    await wait(150);
    expect(lateness).toHaveLength(3);
    for (const late of lateness) expect(late).toBeGreaterThanOrEqual(-1);
  });
});

test('once every systemClock timer is cancelled, nothing keeps the process alive', () => {
  const script = `
    require('tsx/cjs');
    const { systemClock } = require(${JSON.stringify(require.resolve('./clock'))});
    const clock = systemClock(0);
    const far = clock.setTimeout(() => console.log('fired'), 60000);
    const timer = clock.timer(() => console.log('fired'));
    timer.arm(50000);
    clock.clearTimeout(far);
    timer.cancel();`;
  const started = Date.now();
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(Date.now() - started).toBeLessThan(15_000);
});
