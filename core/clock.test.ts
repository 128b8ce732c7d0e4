import { epochNowMs, systemClock } from './clock';

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
