/**
 * The client's retry policy, as data: which failures are retried, and how long
 * to wait before each attempt (exponential backoff with full jitter).
 */
import { InvalidOptionError } from '../errors.js'

export interface RetryPolicy {
  /** Attempts after the first one. Default: 5. */
  retries: number
  /** Wait before the first retry, ms (before jitter). Default: 100. */
  minDelayMs: number
  /** Longest wait between attempts, ms. Default: 5000. */
  maxDelayMs: number
  /** Growth of the wait per attempt. Default: 2. */
  factor: number
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ retries: 5, minDelayMs: 100, maxDelayMs: 5000, factor: 2 })

export function normalizeRetryPolicy(policy: Partial<RetryPolicy> | undefined): RetryPolicy {
  const merged = { ...DEFAULT_RETRY_POLICY, ...policy }
  if (!Number.isSafeInteger(merged.retries) || merged.retries < 0) throw new InvalidOptionError('retry.retries', `must be an integer >= 0, got ${String(merged.retries)}`)
  if (!(merged.minDelayMs >= 0)) throw new InvalidOptionError('retry.minDelayMs', `must be >= 0, got ${String(merged.minDelayMs)}`)
  if (!(merged.maxDelayMs >= merged.minDelayMs)) throw new InvalidOptionError('retry.maxDelayMs', `must be >= minDelayMs, got ${String(merged.maxDelayMs)}`)
  if (!(merged.factor >= 1)) throw new InvalidOptionError('retry.factor', `must be >= 1, got ${String(merged.factor)}`)
  return merged
}

/** HTTP statuses worth another try: every 5xx (the server may recover) and 429. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429
}

/** The wait before retry number `retry` (1-based): random in [0, min(max, min * factor^(retry-1))]. */
export function backoffDelayMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * policy.factor ** (retry - 1))
  return Math.round(ceiling * random())
}
