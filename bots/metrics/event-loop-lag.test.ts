import { watchEventLoopLag } from './event-loop-lag';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('an idle loop reads near 0 ms, and a loop blocked for 60 ms at a time reads its block', async () => {
  const lag = watchEventLoopLag();
  try {
    await wait(300);
    expect(lag.p99Ms()).toBeLessThan(5);
    lag.reset();
    for (let i = 0; i < 5; i++) {
      const until = Date.now() + 60;
      while (Date.now() < until); // block the loop
      await wait(20);
    }
    expect(lag.p99Ms()).toBeGreaterThan(40);
  } finally {
    lag.stop();
  }
});
