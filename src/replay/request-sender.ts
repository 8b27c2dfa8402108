/**
 * Re-sends logged requests to a target over HTTP: original method, path with
 * query, content type and body, with bounded concurrency (one undici Pool) and
 * retries on network errors and 5xx answers (exponential backoff, full
 * jitter, a cap on attempts). A 4xx answer is counted and not retried.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { InvalidOptionError, ReplaySendError } from '../errors.js'
import { positiveInteger } from '../option-checks.js'
import type { LoggedRequest } from '../reader/request-assembler.js'
import { normalizeRetryPolicy, retryDelay, type RetryPolicy } from '../retry-policy.js'

export const DEFAULT_REPLAY_CONCURRENCY = 16
export const DEFAULT_REPLAY_MAX_ATTEMPTS = 5
/** 200 ms doubling to 10 s, full jitter: 5 attempts wait at most 0.2 + 0.4 + 0.8 + 1.6 s. */
/** Backoff between attempts; how many attempts is `maxAttempts` (maxRetries here is maxAttempts - 1). */
export const DEFAULT_REPLAY_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ initialDelayMs: 200, maxDelayMs: 10_000, multiplier: 2, maxRetries: DEFAULT_REPLAY_MAX_ATTEMPTS - 1 })
export const DEFAULT_REPLAY_TIMEOUT_MS = 30_000
/** Header naming the logged request a replayed one comes from: `<serverToken>:<reqId>`. */
export const REPLAYED_FROM_HEADER = 'x-replayed-from'

export interface RequestSenderOptions {
  /** Base URL of the target; a logged path `/p?q` goes to `<target path>/p?q`. Required. */
  target: string
  /** Requests in flight at once. Default: 16. */
  concurrency?: number
  /** Attempts per request, the first included. Default: 5. */
  maxAttempts?: number
  /** Backoff between attempts. Default: DEFAULT_REPLAY_RETRY_POLICY. */
  retryPolicy?: Partial<RetryPolicy>
  /** Time for the answer's headers, and between body chunks, ms. Default: 30000. */
  timeoutMs?: number
  /** Send `X-Replayed-From: <serverToken>:<reqId>`. Default: true. */
  replayedFromHeader?: boolean
  /** Called once per request when it is done (taken, refused or given up). */
  onResult?: (result: SendResult) => void
}

export interface SendResult {
  request: LoggedRequest
  /** The last HTTP status; undefined after a network error. */
  status: number | undefined
  attempts: number
  /** Set when the target did not take the request. */
  error?: ReplaySendError
}

export interface SendStats {
  /** Requests answered with 1xx-3xx. */
  sent: number
  /** Requests answered with 4xx (not retried). */
  rejected: number
  /** Requests given up on: network errors or 5xx until the attempts ran out. */
  failed: number
  /** Attempts after the first, over all requests. */
  retries: number
}

export class RequestSender {
  readonly stats: SendStats = { sent: 0, rejected: 0, failed: 0, retries: 0 }
  private readonly pool: Pool
  private readonly basePath: string
  private readonly concurrency: number
  private readonly maxAttempts: number
  private readonly retryPolicy: RetryPolicy
  private readonly replayedFromHeader: boolean
  private readonly onResult: ((result: SendResult) => void) | undefined
  private readonly inFlight = new Set<Promise<void>>()

  constructor(options: RequestSenderOptions) {
    let url: URL
    try {
      url = new URL(options.target)
    } catch {
      throw new InvalidOptionError('target', `${JSON.stringify(options.target)} is not a URL`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidOptionError('target', `${JSON.stringify(options.target)} must be an http: or https: URL`)
    if (url.search || url.hash) throw new InvalidOptionError('target', 'must have no query or fragment (the logged path brings its own)')
    this.basePath = url.pathname.replace(/\/+$/, '')
    this.concurrency = positiveInteger('concurrency', options.concurrency, DEFAULT_REPLAY_CONCURRENCY)
    this.maxAttempts = positiveInteger('maxAttempts', options.maxAttempts, DEFAULT_REPLAY_MAX_ATTEMPTS)
    this.retryPolicy = normalizeRetryPolicy(options.retryPolicy, DEFAULT_REPLAY_RETRY_POLICY, 'retryPolicy')
    this.replayedFromHeader = options.replayedFromHeader ?? true
    this.onResult = options.onResult
    const timeoutMs = positiveInteger('timeoutMs', options.timeoutMs, DEFAULT_REPLAY_TIMEOUT_MS)
    this.pool = new Pool(url.origin, { connections: this.concurrency, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
  }

  /** Starts sending a request; resolves once there is room for the next one (not when this one is done). */
  async send(request: LoggedRequest): Promise<void> {
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight)
    const task = this.deliver(request).finally(() => this.inFlight.delete(task))
    this.inFlight.add(task)
  }

  /** Waits until every request handed to send() is done. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight)
  }

  async close(): Promise<void> {
    await this.drain()
    await this.pool.close()
  }

  private async deliver(request: LoggedRequest): Promise<void> {
    const id = `${request.serverToken}:${request.reqId}`
    const headers: Record<string, string> = {}
    if (request.contentType !== '') headers['content-type'] = request.contentType
    if (this.replayedFromHeader) headers[REPLAYED_FROM_HEADER] = id
    const method = request.method || (request.body.byteLength > 0 ? 'POST' : 'GET')
    const path = this.basePath + (request.path.startsWith('/') ? request.path : '/' + request.path)
    let status: number | undefined
    let lastError: unknown
    let attempts = 0
    for (let attempt = 1; ; attempt++) {
      attempts = attempt
      if (attempt > 1) {
        this.stats.retries++
        await sleep(retryDelay(this.retryPolicy, attempt - 1))
      }
      try {
        const response = await this.pool.request({ path, method, headers, body: request.body.byteLength > 0 ? request.body : null })
        status = response.statusCode
        const text = status >= 400 ? (await response.body.text()).slice(0, 200) : (await response.body.dump(), '')
        if (status < 400) {
          this.stats.sent++
          this.onResult?.({ request, status, attempts: attempt })
          return
        }
        lastError = new ReplaySendError(id, `${method} ${request.path} answered ${status}${text ? `: ${text}` : ''}`, { status, attempts: attempt })
        if (status < 500) {
          this.stats.rejected++
          this.onResult?.({ request, status, attempts: attempt, error: lastError as ReplaySendError })
          return
        }
      } catch (err) {
        status = undefined
        lastError = err
        // A request undici refuses to build will not get better.
        if ((err as { code?: string }).code === 'UND_ERR_INVALID_ARG') break
      }
      if (attempt >= this.maxAttempts) break
    }
    const error =
      lastError instanceof ReplaySendError
        ? lastError
        : new ReplaySendError(id, `${method} ${request.path}: ${(lastError as Error)?.message ?? String(lastError)}`, { attempts }, { cause: lastError })
    this.stats.failed++
    this.onResult?.({ request, status, attempts: error.attempts, error })
  }
}
