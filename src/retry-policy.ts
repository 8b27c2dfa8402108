/**
 * Exponential backoff with full jitter, as data (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"). One policy shape serves every retrier:
 * the batch uploader retries forever, the client and the replayer a few times.
 */
import { InvalidOptionError } from './errors.js'

export interface RetryPolicy {
  /** Upper bound of the first delay, ms. */
  initialDelayMs: number
  /** Cap on any delay, ms. */
  maxDelayMs: number
  /** Growth of the bound per attempt (>= 1). */
  multiplier: number
  /** Retries after the first attempt; Infinity never gives up. */
  maxRetries: number
}

/** Storing batches: 200 ms doubling to 30 s, forever. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ initialDelayMs: 200, maxDelayMs: 30_000, multiplier: 2, maxRetries: Infinity })

/** Sending to a server (client, generator): 100 ms doubling to 5 s, 5 retries. */
export const DEFAULT_SEND_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ initialDelayMs: 100, maxDelayMs: 5_000, multiplier: 2, maxRetries: 5 })

/** Fills a partial policy from `defaults` and checks it. */
export function normalizeRetryPolicy(policy: Partial<RetryPolicy> | undefined, defaults: Readonly<RetryPolicy>, name = 'retry'): RetryPolicy {
  const merged = { ...defaults, ...policy }
  if (!(merged.maxRetries === Infinity || (Number.isSafeInteger(merged.maxRetries) && merged.maxRetries >= 0))) {
    throw new InvalidOptionError(`${name}.maxRetries`, `must be an integer >= 0 or Infinity, got ${String(merged.maxRetries)}`)
  }
  if (!(merged.initialDelayMs >= 0)) throw new InvalidOptionError(`${name}.initialDelayMs`, `must be >= 0, got ${String(merged.initialDelayMs)}`)
  if (!(merged.maxDelayMs >= merged.initialDelayMs)) throw new InvalidOptionError(`${name}.maxDelayMs`, `must be >= initialDelayMs, got ${String(merged.maxDelayMs)}`)
  if (!(merged.multiplier >= 1)) throw new InvalidOptionError(`${name}.multiplier`, `must be >= 1, got ${String(merged.multiplier)}`)
  return merged
}

/** Delay before retry number `attempt` (1 = first retry): uniform in [0, min(max, initial * multiplier^(attempt-1))]. */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const bound = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1))
  return Math.round(random() * bound)
}

/** HTTP statuses worth another try: every 5xx (the server may recover) and 429. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429
}
