import { scenarioSchema, type ResolvedScenario } from '../../core/scenario/schema';
import type { BehaviourProfile } from '../../core/game';
import { createRng, uniformInt, type Rng } from '../../core/rng';
import { fraction, formatFraction, parseFraction, parseSegment, parseSegmentSequence, planForSegment, scaleBySegment, SegmentTuple, segmentTuple, type Fraction } from './segments';
import { buildFleetPlan, type FleetPlan } from './workload';

const toNumber = (x: Fraction): number => Number(x.num) / Number(x.den);

/** A random sequence: 1..8 segments on a denominator of 2..60. */
function randomSequence(rng: Rng): Fraction[] {
  const den = uniformInt(rng, 2, 60);
  const cuts = new Set<number>();
  const wanted = Math.min(uniformInt(rng, 0, 7), den - 1);
  while (cuts.size < wanted) cuts.add(uniformInt(rng, 1, den - 1));
  return [0, ...[...cuts].sort((a, b) => a - b), den].map((n) => fraction(BigInt(n), BigInt(den)));
}
const tuplesOf = (sequence: Fraction[]): SegmentTuple[] => sequence.slice(1).map((to, i) => new SegmentTuple({ from: sequence[i], to }, sequence));
const FIXED_SEQUENCES = ['1', '0,1/2,1', '0,1/4,1/2,3/4,1', '0,1/3,1/2,1', '0,1/7,2/5,1/2,9/11,1', '0,0.1,35%,1', '0,1/1000,1'];

describe('parsing', () => {
  it('reads fractions, decimals and percentages exactly', () => {
    expect(formatFraction(parseFraction('2/8'))).toBe('1/4');
    expect(formatFraction(parseFraction('0.125'))).toBe('1/8');
    expect(formatFraction(parseFraction('35%'))).toBe('7/20');
    expect(formatFraction(parseFraction('1'))).toBe('1');
    expect(() => parseFraction('a quarter')).toThrow(/"a quarter" is not a number between 0 and 1; write a fraction \(1\/4\)/);
    expect(() => parseFraction('1/0')).toThrow(/divides by zero/);
  });

  it('refuses empty, reversed and out-of-range segments and sequences, naming the flag', () => {
    expect(parseSegment('1/2')).toEqual({ from: fraction(0n, 1n), to: fraction(1n, 2n) });
    expect(() => parseSegment('1/2:1/4')).toThrow(/"1\/2:1\/4" is empty: from must be below to/);
    expect(() => parseSegment('1/2:3/2')).toThrow(/ends after 1/);
    expect(() => parseSegmentSequence('0,1/2,1/4,1')).toThrow(/1\/4 does not come after 1\/2; list the points in increasing order/);
    expect(parseSegmentSequence('1/3').map(formatFraction)).toEqual(['0', '1/3', '1']); // k6 fills in 0 and 1
    expect(() => segmentTuple('1/4:1/2', '0,1/3,1/2,1')).toThrow(/^--segment-sequence: segment 1\/4:1\/2 is not one of the sequence's segments \(0,1\/3,1\/2,1\)/);
    expect(() => segmentTuple('0:x')).toThrow(/^--segment: "x" is not a number/);
    expect(() => segmentTuple('0:1/999983', '0,1/999983,1/999979,1')).toThrow(/common denominator.*use simpler fractions/);
    expect(segmentTuple('1/4:1/2').toString()).toBe('1/4:1/2 of 0,1/4,1/2,1');
  });
});

describe("k6's per-value share, round(v·to) − round(v·from)", () => {
  it('adds up to v exactly over any sequence, and is not monotone (why bots go by striped slots)', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 300; trial++) {
      const sequence = randomSequence(rng);
      for (const v of [0, 1, 2, 3, 7, 10, 99, 1000, 123_457, 10_000_001]) {
        const sum = sequence.slice(1).reduce((total, to, i) => total + scaleBySegment({ from: sequence[i], to }, v), 0);
        expect(sum).toBe(v);
      }
    }
    const segment = parseSegment('1/2:3/5');
    expect([6, 7].map((v) => scaleBySegment(segment, v))).toEqual([1, 0]);
  });
});

describe('striped slots', () => {
  it('every slot has exactly one owner, and the shares of every count add up exactly, each the floor or ceiling of v·length', () => {
    const rng = createRng(5);
    const sequences = [...FIXED_SEQUENCES.map(parseSegmentSequence), ...Array.from({ length: 200 }, () => randomSequence(rng))];
    const problems: string[] = [];
    for (const sequence of sequences) {
      const name = sequence.map(formatFraction).join(',');
      const tuples = tuplesOf(sequence);
      const lengths = tuples.map((_, i) => toNumber(sequence[i + 1]) - toNumber(sequence[i]));
      const owned = new Array<number>(tuples.length).fill(0);
      for (let v = 0; v <= 400; v++) {
        let sum = 0;
        tuples.forEach((tuple, i) => {
          const share = tuple.share(v);
          // share(v) counts exactly the owned slots below v, and stays within 1 of v·length.
          if (share !== owned[i]) problems.push(`${name}: segment ${i} share(${v}) = ${share}, owns ${owned[i]}`);
          if (Math.abs(share - v * lengths[i]) >= 1) problems.push(`${name}: segment ${i} share(${v}) = ${share}, exact ${v * lengths[i]}`);
          sum += share;
        });
        if (sum !== v) problems.push(`${name}: shares of ${v} add up to ${sum}`);
        const owners = tuples.filter((tuple) => tuple.owns(v));
        if (owners.length !== 1) problems.push(`${name}: slot ${v} has ${owners.length} owners`);
        else owned[tuples.indexOf(owners[0])] += 1;
      }
      // Far beyond one block, still exact (whole blocks plus the prefix of the last one).
      for (const v of [999_983, 10_000_000]) if (tuples.reduce((total, tuple) => total + tuple.share(v), 0) !== v) problems.push(`${name}: shares of ${v} do not add up`);
    }
    expect(problems).toEqual([]);
  });

  it('spreads a segment over the block instead of taking a run of slots', () => {
    const quarter = segmentTuple('1/4:1/2', '0,1/4,1/2,3/4,1');
    expect(quarter.lcd).toBe(4);
    expect(Array.from({ length: 12 }, (_, slot) => quarter.owns(slot))).toEqual([false, true, false, false, false, true, false, false, false, true, false, false]);
    const uneven = tuplesOf(parseSegmentSequence('0,1/2,5/6,1'));
    // Six slots per block: the half takes three, 1/3 two, 1/6 one, none of them side by side.
    expect(Array.from({ length: 6 }, (_, slot) => uneven.findIndex((tuple) => tuple.owns(slot)))).toEqual([0, 1, 0, 2, 1, 0]);
  });
});

const profile = (name: string, sessionLength: BehaviourProfile['sessionLength']): BehaviourProfile => ({
  name,
  description: name,
  mix: [{ action: 'act', weight: 1 }],
  thinkTime: { kind: 'constant', value: 1000 },
  sessionLength,
  offlineTime: { kind: 'constant', value: 1000 },
});
const GAME = { name: 'plan-test', profiles: { grinder: profile('grinder', { kind: 'never' }), churner: profile('churner', { kind: 'exponential', mean: 8000, min: 1000, max: 60_000 }) } };

/** Closed groups with a ramp and with stages, an open group whose stages overrun maxBots (drops). */
function mixedScenario(seed: number): ResolvedScenario {
  const bots = {
    ramped: { profile: 'grinder', count: 37, ramp: '7s' },
    staged: { profile: 'grinder', count: 23, stages: [{ duration: '5s', target: 23 }, { duration: '10s', target: 4 }, { duration: '5s', target: 17 }] },
    visitors: { profile: 'churner', arrival: { rate: 3, per: '1s', maxBots: 25, stages: [{ duration: '20s', target: 9 }, { duration: '10s', target: 1 }] } },
    gifters: { profile: 'grinder', count: 5, giftTo: 'ramped' },
  };
  return { ...scenarioSchema.parse({ name: 'segments', duration: '40s', recovery: { window: '10s' }, bots }), seed };
}
const online = (plan: FleetPlan, group: string, t: number): number => plan.bots.filter((bot) => bot.group === group && bot.windows.some((w) => w.start <= t && t < w.stop)).length;

describe('a plan split into segments', () => {
  it('gives disjoint parts whose union is the whole plan (ids, seeds, windows, peers), with drops and online counts adding up at every time', () => {
    const rng = createRng(21);
    const whole = buildFleetPlan(mixedScenario(77), GAME);
    expect(whole.dropped).toBeGreaterThan(0); // the open group's peak overruns maxBots
    expect(whole.slots).toBe(37 + 23 + whole.bots.filter((bot) => bot.group === 'visitors').length + whole.dropped + 5);
    const sequences = [...FIXED_SEQUENCES.map(parseSegmentSequence), ...Array.from({ length: 30 }, () => randomSequence(rng))];
    for (const sequence of sequences) {
      const parts = tuplesOf(sequence).map((tuple) => planForSegment(buildFleetPlan(mixedScenario(77), GAME), tuple));
      const union = parts.flatMap((part) => part.bots).sort((a, b) => a.slot - b.slot);
      expect(union).toEqual(whole.bots); // disjoint too: the same length as the whole, no bot twice
      expect(parts.reduce((sum, part) => sum + part.dropped, 0)).toBe(whole.dropped);
      for (const group of Object.keys(whole.droppedByGroup)) expect(parts.reduce((sum, part) => sum + part.droppedByGroup[group], 0)).toBe(whole.droppedByGroup[group]);
      for (let t = 0; t < whole.loadEndMs; t += 997) {
        for (const group of ['ramped', 'staged', 'visitors']) {
          const total = online(whole, group, t);
          expect(parts.reduce((sum, part) => sum + online(part, group, t), 0)).toBe(total);
        }
      }
    }
  });

  it('keeps each agent near its exact share of the closed groups at every point of the ramp and the stages', () => {
    const sequence = parseSegmentSequence('0,1/4,1/2,3/4,1');
    const whole = buildFleetPlan(mixedScenario(3), GAME);
    const parts = tuplesOf(sequence).map((tuple) => planForSegment(whole, tuple));
    for (let t = 0; t < whole.loadEndMs; t += 250) {
      for (const group of ['ramped', 'staged']) {
        const total = online(whole, group, t);
        // A group's players are one run of slots, so a quarter never strays 2 or more from total / 4.
        for (const part of parts) expect(Math.abs(online(part, group, t) - total / 4)).toBeLessThan(2);
      }
    }
  });

  it('the single segment 0:1 is the whole plan', () => {
    const whole = buildFleetPlan(mixedScenario(9), GAME);
    expect(planForSegment(whole, segmentTuple('0:1'))).toEqual(whole);
  });
});
