/**
 * Execution segments, k6-style: split one run's bots between agents with no coordinator.
 *
 * A segment is a half-open rational interval [from, to) of [0, 1]; a segment sequence is the
 * list of points that cut [0, 1] into the segments of all agents (`0,1/4,1/2,3/4,1`). Every bot
 * gets a slot (its position in the plan, see workload.ts); the sequence deals the slots out with
 * k6's striping: within every block of `lcd` slots (the lowest common denominator of the
 * segments' lengths) segment i owns exactly length·lcd of them, spread as evenly as the block
 * allows. So for any count v, the agents' shares of slots [0, v) add up to v exactly, at every
 * point of a ramp or stage, and every agent computes its own bots from the seed alone.
 *
 * `scale` is k6's per-value share round(v·to) − round(v·from) (exact, for scalars such as a
 * rate); it cannot drive a bot mapping, since it is not monotone in v (1/2:3/5 owns 1 of 6 and
 * 0 of 7), which is why bots go by the striped slots.
 */

import type { FleetPlan } from './workload';

/** A rational number in lowest terms, on bigints: no float drift whatever the denominators. */
export interface Fraction {
  readonly num: bigint;
  readonly den: bigint;
}

/** Striping works on blocks of `lcd` slots; past this the offsets table gets too large to be worth it. */
export const MAX_SEGMENT_LCD = 1_000_000;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function fraction(num: bigint, den: bigint): Fraction {
  if (den === 0n) throw new Error('a fraction cannot have denominator 0');
  const sign = den < 0n ? -1n : 1n;
  const divisor = gcd(num, den) || 1n;
  return { num: (sign * num) / divisor, den: (sign * den) / divisor };
}

function compare(a: Fraction, b: Fraction): number {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

function subtract(a: Fraction, b: Fraction): Fraction {
  return fraction(a.num * b.den - b.num * a.den, a.den * b.den);
}

export function formatFraction(value: Fraction): string {
  return value.den === 1n ? String(value.num) : `${value.num}/${value.den}`;
}

/** `1/4`, `0.25` or `25%` (k6 accepts the same three forms). */
export function parseFraction(text: string): Fraction {
  const trimmed = text.trim();
  let match = /^(\d+)\s*\/\s*(\d+)$/.exec(trimmed);
  if (match) {
    if (BigInt(match[2]) === 0n) throw new Error(`"${text}" divides by zero`);
    return fraction(BigInt(match[1]), BigInt(match[2]));
  }
  match = /^(\d+)(?:\.(\d+))?(%?)$/.exec(trimmed);
  if (match) {
    const decimals = match[2] ?? '';
    const den = 10n ** BigInt(decimals.length) * (match[3] ? 100n : 1n);
    return fraction(BigInt(match[1] + decimals), den);
  }
  throw new Error(`"${text}" is not a number between 0 and 1; write a fraction (1/4), a decimal (0.25) or a percentage (25%)`);
}

/** round(v·x), halves up, exactly. */
function roundTimes(value: number, x: Fraction): bigint {
  return (2n * BigInt(value) * x.num + x.den) / (2n * x.den);
}

export interface ExecutionSegment {
  readonly from: Fraction;
  readonly to: Fraction;
}

/** `from:to`, or just `to` (meaning 0:to); 0 ≤ from < to ≤ 1. */
export function parseSegment(text: string): ExecutionSegment {
  const parts = text.split(':');
  if (parts.length > 2) throw new Error(`"${text}" has more than one ':'; write from:to, e.g. 1/4:1/2`);
  const [from, to] = parts.length === 2 ? [parseFraction(parts[0]), parseFraction(parts[1])] : [fraction(0n, 1n), parseFraction(parts[0])];
  if (compare(to, fraction(1n, 1n)) > 0) throw new Error(`"${text}" ends after 1; segments lie within [0, 1]`);
  if (compare(from, to) >= 0) throw new Error(`"${text}" is empty: from must be below to, e.g. 1/4:1/2`);
  return { from, to };
}

export function formatSegment(segment: ExecutionSegment): string {
  return `${formatFraction(segment.from)}:${formatFraction(segment.to)}`;
}

/** k6's ExecutionSegment.Scale: round(v·to) − round(v·from). Adjacent segments' shares of v add up to v exactly. */
export function scaleBySegment(segment: ExecutionSegment, value: number): number {
  return Number(roundTimes(value, segment.to) - roundTimes(value, segment.from));
}

/**
 * The cut points of [0, 1], strictly increasing (`0,1/4,1/2,3/4,1`); a missing 0 or 1 is added,
 * as k6 does. Without one, the sequence is the segment's own points: 0, from, to, 1.
 */
export function parseSegmentSequence(text: string): Fraction[] {
  const points = text.split(',').map((part) => parseFraction(part));
  for (let i = 1; i < points.length; i++) {
    if (compare(points[i - 1], points[i]) >= 0) {
      throw new Error(`"${text}": ${formatFraction(points[i])} does not come after ${formatFraction(points[i - 1])}; list the points in increasing order`);
    }
  }
  if (compare(points[points.length - 1], fraction(1n, 1n)) > 0) throw new Error(`"${text}" goes past 1; segments lie within [0, 1]`);
  return normaliseSequence(points);
}

function normaliseSequence(points: Fraction[]): Fraction[] {
  const zero = fraction(0n, 1n);
  const one = fraction(1n, 1n);
  const out = [...points];
  if (compare(out[0], zero) !== 0) out.unshift(zero);
  if (compare(out[out.length - 1], one) !== 0) out.push(one);
  return out;
}

/**
 * One agent's place in a segment sequence: which slots it owns, and its share of any count.
 * Built once per run from the segment and the sequence every agent was given.
 */
export class SegmentTuple {
  readonly segment: ExecutionSegment;
  readonly sequence: readonly Fraction[];
  /** The position of `segment` in the sequence. */
  readonly index: number;
  /** Slots repeat in blocks of this many. */
  readonly lcd: number;
  /** Within a block: the positions this segment owns, ascending. */
  readonly offsets: readonly number[];
  /** Within a block: the owning segment of each position. */
  private readonly owners: Uint32Array;

  constructor(segment: ExecutionSegment, sequence?: readonly Fraction[]) {
    const points = sequence ? normaliseSequence([...sequence]) : normaliseSequence(uniquePoints([segment.from, segment.to]));
    const index = points.findIndex((point, i) => i + 1 < points.length && compare(point, segment.from) === 0 && compare(points[i + 1], segment.to) === 0);
    if (index < 0) {
      throw new Error(`segment ${formatSegment(segment)} is not one of the sequence's segments (${points.map(formatFraction).join(',')}); pick two adjacent points of the sequence`);
    }
    const lengths = points.slice(1).map((point, i) => subtract(point, points[i]));
    let lcd = 1n;
    for (const length of lengths) lcd = (lcd * length.den) / gcd(lcd, length.den);
    if (lcd > BigInt(MAX_SEGMENT_LCD)) {
      throw new Error(`the sequence's segments need blocks of ${lcd} slots (their common denominator), more than ${MAX_SEGMENT_LCD}; use simpler fractions`);
    }
    this.segment = segment;
    this.sequence = points;
    this.index = index;
    this.lcd = Number(lcd);
    this.owners = stripe(lengths.map((length) => Number(length.num * (lcd / length.den))), this.lcd);
    const offsets: number[] = [];
    this.owners.forEach((owner, position) => owner === index && offsets.push(position));
    this.offsets = offsets;
  }

  /** Whether slot `slot` (0-based) belongs to this segment. */
  owns(slot: number): boolean {
    return this.owners[slot % this.lcd] === this.index;
  }

  /** How many of slots [0, count) this segment owns; the sequence's shares of any count add up to it. */
  share(count: number): number {
    const whole = Math.floor(count / this.lcd);
    const rest = count - whole * this.lcd;
    // Binary search: how many offsets lie below `rest`.
    let low = 0;
    let high = this.offsets.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.offsets[mid] < rest) low = mid + 1;
      else high = mid;
    }
    return whole * this.offsets.length + low;
  }

  toString(): string {
    return `${formatSegment(this.segment)} of ${this.sequence.map(formatFraction).join(',')}`;
  }
}

function uniquePoints(points: Fraction[]): Fraction[] {
  return points.filter((point, i) => i === 0 || compare(point, points[i - 1]) !== 0);
}

/**
 * Striping: which segment owns each position of a block of `lcd` slots. Like k6's striping it
 * spreads each segment's slots evenly over the block, but by Tijdeman's chairman-assignment rule
 * (earliest deadline among the segments due), which keeps every segment's share of any prefix
 * within 1 − 1/(2n−2) of v·length: always the floor or the ceiling of its exact share. (k6's
 * first-due rule drifts past 1.5 with mixed sizes.) Integers only: λᵢ = normᵢ / lcd.
 */
function stripe(norms: number[], lcd: number): Uint32Array {
  const n = norms.length;
  const owners = new Uint32Array(lcd);
  if (n === 1) return owners;
  const d = 2 * n - 2; // δ = 1/d
  const taken = new Array<number>(n).fill(0);
  for (let position = 0; position < lcd; position++) {
    const t = position + 1;
    let best = -1;
    for (let i = 0; i < n; i++) {
      // Due: t·λᵢ − takenᵢ ≥ δ.
      if (d * (t * norms[i] - taken[i] * lcd) < lcd) continue;
      // Deadline (takenᵢ + 1 − δ) / λᵢ, compared as fractions (d·(takenᵢ+1) − 1) / normᵢ.
      if (best < 0 || (d * (taken[i] + 1) - 1) * norms[best] < (d * (taken[best] + 1) - 1) * norms[i]) best = i;
    }
    if (best < 0) throw new Error(`internal: striping found no segment due at position ${position} of ${lcd}`);
    owners[position] = best;
    taken[best] += 1;
  }
  norms.forEach((norm, i) => {
    if (taken[i] !== norm) throw new Error(`internal: striping gave segment ${i} ${taken[i]} of ${lcd} slots, not ${norm}`);
  });
  return owners;
}

/** Parses the `--segment` / `--segment-sequence` pair into a tuple; errors name the flag at fault. */
export function segmentTuple(segmentText: string, sequenceText?: string, names = { segment: '--segment', sequence: '--segment-sequence' }): SegmentTuple {
  let segment: ExecutionSegment;
  try {
    segment = parseSegment(segmentText);
  } catch (error) {
    throw new Error(`${names.segment}: ${(error as Error).message}`);
  }
  let sequence: Fraction[] | undefined;
  if (sequenceText !== undefined) {
    try {
      sequence = parseSegmentSequence(sequenceText);
    } catch (error) {
      throw new Error(`${names.sequence}: ${(error as Error).message}`);
    }
  }
  try {
    return new SegmentTuple(segment, sequence);
  } catch (error) {
    throw new Error(`${sequence ? names.sequence : names.segment}: ${(error as Error).message}`);
  }
}

/**
 * One segment's part of a whole run's plan: the bots whose slots it owns, unchanged (ids, seeds,
 * windows), and the dropped arrivals of its own slots. Every agent builds the whole plan from the
 * seed and keeps its part, so the parts are disjoint and their union is the single-machine plan.
 */
export function planForSegment(plan: FleetPlan, tuple: SegmentTuple): FleetPlan {
  const droppedSlots = Object.fromEntries(Object.entries(plan.droppedSlots).map(([group, slots]) => [group, slots.filter((slot) => tuple.owns(slot))]));
  const droppedByGroup = Object.fromEntries(Object.entries(droppedSlots).map(([group, slots]) => [group, slots.length]));
  return {
    ...plan,
    bots: plan.bots.filter((bot) => tuple.owns(bot.slot)),
    droppedSlots,
    droppedByGroup,
    dropped: Object.values(droppedByGroup).reduce((sum, n) => sum + n, 0),
  };
}
