/** Capped exponential backoff with full jitter (AWS architecture blog), bounded by a time budget. */
export interface RetryPolicy {
  /** First delay ceiling in ms; doubles per attempt. */
  baseMs: number;
  /** Largest delay ceiling in ms. */
  capMs: number;
  /** Give up once this much time has passed since the first attempt. */
  budgetMs: number;
  /** false only under the planted 'retry-storm' defect: retry at once, no jitter. */
  backoff: boolean;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 20, capMs: 1000, budgetMs: 5000, backoff: true };

/** Delay before retry number `attempt` (0-based): uniform in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  if (!policy.backoff) return 0;
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
