/**
 * Sends stored events to one destination, in commit order, from a checkpoint
 * kept in the store (`forward:<name>`, position = the last event handed over:
 * its ingested_at, bucket and key). At-least-once: the checkpoint moves only
 * after a batch was delivered or dead-lettered, so a forwarder killed mid-way
 * sends that batch again on restart; every event carries its dedup id
 * (Segment messageId, Mixpanel $insert_id, webhook id) so the receiver can
 * drop the repeat. Exactly-once is impossible over HTTP.
 *
 * Per batch: a token-bucket rate limit on requests; 429, 5xx and network
 * errors retried with exponential backoff and full jitter (src/retry-policy.ts),
 * waiting at least what Retry-After asks; a refusal (another 4xx) of a batch
 * is split in halves until the refused events are alone, and those go to the
 * dead-letter store, as do the events of a batch that ran out of retries.
 */
import { eventOfRow, type EventRow } from '../store/event-row.js'
import { InvalidOptionError } from '../errors.js'
import { positiveInteger, positiveNumber } from '../option-checks.js'
import type { EventRecord } from '../model/event-record.js'
import { normalizeRetryPolicy, retryDelay, type RetryPolicy } from '../retry-policy.js'
import type { EventStore } from '../store/event-store.js'
import { DeadLetterStore } from './dead-letters.js'
import { createDestination, type Destination, type DestinationConfig } from './destination.js'
import { RateLimiter } from './rate-limiter.js'

/** Forwarding: 1 s doubling to 60 s, 8 retries (about 4 minutes), then the dead-letter store. */
export const DEFAULT_FORWARD_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ initialDelayMs: 1000, maxDelayMs: 60_000, multiplier: 2, maxRetries: 8 })
export const DEFAULT_FORWARD_BATCH_SIZE = 100
export const DEFAULT_FORWARD_REQUESTS_PER_SECOND = 10
export const DEFAULT_FORWARD_POLL_MS = 1000
/**
 * Events committed less than this long ago wait: a commit that took its
 * ingested_at just before a slower one finished must not be skipped. Default 1 s.
 */
export const DEFAULT_FORWARD_SETTLE_MS = 1000

export interface ForwarderOptions extends DestinationConfig {
  /** Names the destination: the checkpoint `forward:<name>` and its dead letters. Required. */
  name: string
  store: EventStore
  /** Only events of these buckets. Default: all. */
  buckets?: readonly string[]
  /** Only events of these types (text form). Default: all. */
  types?: readonly string[]
  /** Events per request. Default: 100. */
  batchSize?: number
  /** Requests per second at most (token bucket, bursts of the same size). Default: 10. */
  requestsPerSecond?: number
  /** Default: DEFAULT_FORWARD_RETRY_POLICY. */
  retry?: Partial<RetryPolicy>
  /** Idle wait between looks for new events when not nudged, ms. Default: 1000. */
  pollMs?: number
  /** Default: DEFAULT_FORWARD_SETTLE_MS. */
  settleMs?: number
  /** Errors of the background loop (a store query failing); it waits and goes on. Default: stderr. */
  onError?: (error: Error) => void
  /** Random in [0, 1) for the jitter. Default: Math.random. */
  random?: () => number
}

export interface ForwardStats {
  /** Events read from the store. */
  read: number
  delivered: number
  deadLettered: number
  requests: number
  retries: number
}

export interface DeliveryResult {
  delivered: EventRecord[]
  dead: { event: EventRecord; reason: string }[]
}

interface Position {
  ingestedAt: number
  bucket: string
  keyHex: string
}

class Stopped extends Error {}

export class Forwarder {
  readonly name: string
  readonly stats: ForwardStats = { read: 0, delivered: 0, deadLettered: 0, requests: 0, retries: 0 }
  readonly deadLetters: DeadLetterStore
  private readonly store: EventStore
  private readonly destination: Destination
  private readonly options: ForwarderOptions
  private readonly policy: RetryPolicy
  private readonly limiter: RateLimiter
  private readonly batchSize: number
  private readonly checkpointName: string
  private stopped = false
  private loop: Promise<void> | undefined
  private wake: (() => void) | undefined
  private nudged = false

  constructor(options: ForwarderOptions) {
    if (typeof options.name !== 'string' || options.name === '') throw new InvalidOptionError('forward.name', 'a destination name is required')
    this.options = options
    this.name = options.name
    this.store = options.store
    this.destination = createDestination(options, `forward[${options.name}]`)
    this.policy = normalizeRetryPolicy(options.retry, DEFAULT_FORWARD_RETRY_POLICY, `forward[${options.name}].retry`)
    this.batchSize = positiveInteger(`forward[${options.name}].batchSize`, options.batchSize, DEFAULT_FORWARD_BATCH_SIZE)
    this.limiter = new RateLimiter(positiveNumber(`forward[${options.name}].requestsPerSecond`, options.requestsPerSecond, DEFAULT_FORWARD_REQUESTS_PER_SECOND))
    // Checked here so a bad value fails at construction; the loop reads options.pollMs.
    positiveNumber(`forward[${options.name}].pollMs`, options.pollMs, DEFAULT_FORWARD_POLL_MS)
    if (options.settleMs !== undefined && !(options.settleMs >= 0)) throw new InvalidOptionError(`forward[${options.name}].settleMs`, 'must be >= 0')
    this.checkpointName = `forward:${options.name}`
    this.deadLetters = new DeadLetterStore(options.store)
  }

  /** Starts the background loop: forward, then wait for a nudge or pollMs, forever. */
  start(): void {
    this.loop ??= this.run()
  }

  /** New events were committed: look now instead of at the next poll. */
  nudge(): void {
    this.nudged = true
    this.wake?.()
  }

  /** Stops after the request under way; a batch not finished is sent again next time. */
  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.loop
  }

  /** Forwards until no settled event is left; resolves with the number of events handed over. */
  async drain(): Promise<number> {
    let total = 0
    for (let n = await this.forwardBatch(); n > 0; n = await this.forwardBatch()) total += n
    return total
  }

  private async run(): Promise<void> {
    const onError = this.options.onError ?? ((error: Error) => process.stderr.write(`forward ${this.name}: ${error.message}\n`))
    while (!this.stopped) {
      let count = 0
      try {
        count = await this.forwardBatch()
      } catch (err) {
        if (err instanceof Stopped) return
        onError(err as Error)
      }
      if (count === 0 && !this.stopped) {
        if (this.nudged) {
          // Just-committed events become visible once settled.
          this.nudged = false
          await this.sleep(Math.min(this.options.settleMs ?? DEFAULT_FORWARD_SETTLE_MS, this.options.pollMs ?? DEFAULT_FORWARD_POLL_MS), false)
        } else {
          await this.sleep(this.options.pollMs ?? DEFAULT_FORWARD_POLL_MS, true)
        }
      }
    }
  }

  /** Reads the next batch after the checkpoint, delivers it, dead-letters what failed for good, moves the checkpoint. */
  async forwardBatch(): Promise<number> {
    const position = await this.position()
    const events = await this.readAfter(position)
    if (events.length === 0) return 0
    this.stats.read += events.length
    const { dead } = await this.deliver(events.map((e) => e.event))
    await this.deadLetters.record(dead.map(({ event, reason }) => ({ destination: this.name, event, status: 'dead' as const, reason, attempts: 1 })))
    const last = events[events.length - 1]!
    const next: Position = { ingestedAt: last.ingestedAt, bucket: last.event.bucket, keyHex: last.keyHex }
    await this.store.write({ events: [], checkpoints: [{ name: this.checkpointName, position: JSON.stringify(next) }] })
    return events.length
  }

  /**
   * Delivers events (retrying, splitting refused batches); never throws for a
   * destination's answer, only when stopped. Used by the loop and by a dead-letter retry.
   */
  async deliver(events: readonly EventRecord[]): Promise<DeliveryResult> {
    const result: DeliveryResult = { delivered: [], dead: [] }
    const pending: EventRecord[][] = []
    for (let i = 0; i < events.length; i += this.batchSize) pending.push(events.slice(i, i + this.batchSize))
    while (pending.length > 0) {
      const batch = pending.shift()!
      const outcome = await this.sendWithRetries(batch)
      if (outcome.kind === 'delivered') {
        result.delivered.push(...batch)
        this.stats.delivered += batch.length
      } else if (outcome.kind === 'refused' && batch.length > 1) {
        const half = Math.ceil(batch.length / 2)
        pending.unshift(batch.slice(0, half), batch.slice(half))
      } else {
        for (const event of batch) result.dead.push({ event, reason: outcome.reason })
        this.stats.deadLettered += batch.length
      }
    }
    return result
  }

  private async sendWithRetries(batch: readonly EventRecord[]): Promise<{ kind: 'delivered' } | { kind: 'refused' | 'exhausted'; reason: string }> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new Stopped()
      for (let wait = this.limiter.tryTake(); wait > 0; wait = this.limiter.tryTake()) await this.sleep(wait, false)
      this.stats.requests++
      const outcome = await this.destination.send(batch)
      if (outcome.kind === 'delivered') return { kind: 'delivered' }
      if (outcome.kind === 'refused') return { kind: 'refused', reason: outcome.reason }
      if (attempt >= this.policy.maxRetries) return { kind: 'exhausted', reason: `gave up after ${attempt + 1} attempts: ${outcome.reason}` }
      this.stats.retries++
      const delay = Math.max(retryDelay(this.policy, attempt + 1, this.options.random), outcome.retryAfterMs ?? 0)
      await this.sleep(delay, false)
    }
  }

  private async position(): Promise<Position | undefined> {
    const [checkpoint] = (await this.store.checkpoints(this.checkpointName)).filter((c) => c.name === this.checkpointName)
    return checkpoint ? (JSON.parse(checkpoint.position) as Position) : undefined
  }

  private async readAfter(position: Position | undefined): Promise<{ event: EventRecord; ingestedAt: number; keyHex: string }[]> {
    const sql = this.store.sql
    const l = sql.literal
    const filters = [`ingested_at <= ${Date.now() - (this.options.settleMs ?? DEFAULT_FORWARD_SETTLE_MS)}`]
    if (position) {
      const key = l(new Uint8Array(Buffer.from(position.keyHex, 'hex')))
      filters.push(
        `(ingested_at > ${position.ingestedAt} OR (ingested_at = ${position.ingestedAt} AND (bucket > ${l(position.bucket)} OR (bucket = ${l(position.bucket)} AND key > ${key}))))`,
      )
    }
    if (this.options.buckets) filters.push(`bucket IN (${this.options.buckets.map((b) => l(b)).join(', ') || 'NULL'})`)
    if (this.options.types) filters.push(`type IN (${this.options.types.map((t) => l(t)).join(', ') || 'NULL'})`)
    const rows = await sql.query<ForwardRow>(
      `SELECT bucket, hex(key) AS key_hex, type, type_is_code, value, client_time, server_time, original_client_time, user_id, anonymous_id, producer, ip, source, ingested_at
       FROM events WHERE ${filters.join(' AND ')} ORDER BY ingested_at, bucket, key LIMIT ${this.batchSize}`,
    )
    return rows.map((row) => ({ event: eventOfRow(row), ingestedAt: Number(row.ingested_at), keyHex: row.key_hex }))
  }

  /** Waits `ms`; a stop ends it early, and so does a nudge when `wakeOnNudge`. */
  private sleep(ms: number, wakeOnNudge: boolean): Promise<void> {
    if (this.stopped) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wake = () => {
        if (wakeOnNudge || this.stopped) done()
      }
    })
  }
}

/** A row of the events table with what the forwarder follows. */
interface ForwardRow extends EventRow {
  bucket: string
  ingested_at: number
}
