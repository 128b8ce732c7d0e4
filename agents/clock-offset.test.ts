import { estimateOffset, localTimeZero, measureClockOffset, type ClockSample } from './clock-offset';

/** An agent whose clock runs `skewMs` behind the coordinator's, over legs of the given one-way delays. */
function skewedExchange(skewMs: number, legs: Array<{ up: number; down: number; processing: number }>): () => Promise<ClockSample> {
  let trueTime = 1_000_000;
  let i = 0;
  return async () => {
    const { up, down, processing } = legs[i++ % legs.length];
    const t0 = trueTime - skewMs; // agent clock
    const t1 = trueTime + up; // coordinator clock = true time
    const t2 = t1 + processing;
    const t3 = t2 + down - skewMs;
    trueTime = t2 + down + 10;
    return { t0, t1, t2, t3 };
  };
}

test('a skewed agent clock: the estimate keeps the lowest-RTT sample and the true offset lies within its bound', async () => {
  const legs = [
    { up: 40, down: 2, processing: 1 }, // slow and lopsided: a bad sample
    { up: 3, down: 2, processing: 5 }, // the best: rtt 5
    { up: 20, down: 30, processing: 0 },
    { up: 9, down: 1, processing: 2 },
  ];
  const estimate = await measureClockOffset(skewedExchange(5000, legs), 8);
  expect(estimate.rttMs).toBe(5);
  expect(estimate.errorMs).toBe(2.5);
  expect(estimate.samples).toBe(8);
  expect(Math.abs(estimate.offsetMs - 5000)).toBeLessThanOrEqual(estimate.errorMs);
  expect(estimate.offsetMs).toBe(5000.5); // (3 + (−2)) / 2 off the truth: the asymmetry of that sample
});

test('an agent ahead of the coordinator gets a negative offset; the worst sample alone would be far off', () => {
  const exchange = skewedExchange(-1234, [{ up: 1, down: 1, processing: 0 }]);
  return exchange().then((good) => {
    const bad: ClockSample = { t0: good.t0, t1: good.t1 + 300, t2: good.t2 + 300, t3: good.t3 + 302 };
    expect(estimateOffset([bad]).offsetMs).toBeCloseTo(-1234 + 149, 3); // what a one-shot estimate would believe
    const estimate = estimateOffset([bad, good]);
    expect(estimate.offsetMs).toBe(-1234);
    expect(estimate.errorMs).toBe(1);
    expect(() => estimateOffset([])).toThrow(/no clock samples/);
  });
});

test("an agent 5 s behind times its history on the coordinator's timeline, within the bound", async () => {
  const skewMs = 5000;
  const estimate = await measureClockOffset(skewedExchange(skewMs, [{ up: 4, down: 1, processing: 0 }, { up: 2, down: 2, processing: 1 }]), 4);
  const coordinatorZero = 2_000_000; // the coordinator's time 0 (its clock = true time here)
  const agentZero = localTimeZero(coordinatorZero, estimate);
  // Something happens at true time 2 003 250: the agent's clock reads 5 s less.
  const agentRelative = 2_003_250 - skewMs - agentZero;
  expect(Math.abs(agentRelative - 3250)).toBeLessThanOrEqual(estimate.errorMs);
  // Without the correction the agent would be 5 s off.
  expect(2_003_250 - skewMs - coordinatorZero).toBe(-1750);
});
