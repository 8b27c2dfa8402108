/** Exponential backoff with full jitter, as data (AWS Architecture Blog, "Exponential Backoff And Jitter"). */

export interface RetryPolicy {
  /** Upper bound of the first delay, ms. Default: 200. */
  initialDelayMs: number
  /** Cap on any delay, ms. Default: 30000. */
  maxDelayMs: number
  /** Growth of the bound per attempt. Default: 2. */
  multiplier: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { initialDelayMs: 200, maxDelayMs: 30_000, multiplier: 2 }

/** Delay before retry number `attempt` (1 = first retry): uniform in [0, bound]. */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const bound = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1))
  return Math.round(random() * bound)
}
