/** Think-time and session-length distributions (ms), sampled from a seeded Rng. No Node APIs. */
import { standardNormal, type Rng } from './rng';

export type Distribution =
  | { kind: 'constant'; value: number }
  | { kind: 'uniform'; min: number; max: number }
  /** Poisson arrivals: memoryless think time with this mean. */
  | { kind: 'exponential'; mean: number; min?: number; max?: number }
  /** Heavy-ish right tail, as measured human think times are; `sigma` is the log-space spread. */
  | { kind: 'lognormal'; mean: number; sigma: number; min?: number; max?: number }
  | { kind: 'never' };

export function sample(distribution: Distribution, rng: Rng): number {
  switch (distribution.kind) {
    case 'constant':
      return distribution.value;
    case 'uniform':
      return distribution.min + rng.next() * (distribution.max - distribution.min);
    case 'exponential':
      return clamp(-distribution.mean * Math.log(1 - rng.next()), distribution.min, distribution.max);
    case 'lognormal': {
      // mu chosen so that E[X] = mean: E[exp(N(mu, s^2))] = exp(mu + s^2 / 2).
      const mu = Math.log(distribution.mean) - (distribution.sigma * distribution.sigma) / 2;
      return clamp(Math.exp(mu + distribution.sigma * standardNormal(rng)), distribution.min, distribution.max);
    }
    case 'never':
      return Infinity;
  }
}

/** The distribution's mean (before clamping): what a profile advertises. */
export function meanOf(distribution: Distribution): number {
  switch (distribution.kind) {
    case 'constant':
      return distribution.value;
    case 'uniform':
      return (distribution.min + distribution.max) / 2;
    case 'exponential':
    case 'lognormal':
      return distribution.mean;
    case 'never':
      return Infinity;
  }
}

function clamp(value: number, min = 0, max = Infinity): number {
  return Math.min(max, Math.max(min, value));
}
