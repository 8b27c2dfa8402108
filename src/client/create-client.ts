/**
 * createClient: queue events with `track`, send them in batches to a DevServer
 * or a LoggingServer (`POST /api/post-events?bucket=`), retrying network
 * errors and 5xx with backoff.
 */
import { randomUUID } from 'node:crypto'
import type { Dispatcher } from 'undici'
import { ClosedError, InvalidOptionError, SendFailedError } from '../errors.js'
import { positiveInteger } from '../option-checks.js'
import { validateEvent, type EventKey, type EventType, type JsonObject, type LogEvent } from '../formats/json-events.js'
import { EVENT_FORMATS, postEvents, postEventsUrl, type EventFormat } from './post-events.js'
import { DEFAULT_SEND_RETRY_POLICY, normalizeRetryPolicy, type RetryPolicy } from '../retry-policy.js'

/** Most events in one request. Default: 100. */
export const DEFAULT_CLIENT_BATCH_EVENTS = 100
/** A queued event is sent at the latest this long after `track`, ms. Default: 1000. */
export const DEFAULT_CLIENT_FLUSH_INTERVAL_MS = 1000

export interface ClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:7007` (or the full `.../api/post-events`). Required. */
  url: string
  /** The bucket token. Required. */
  bucket: string
  /** Wire format. Default: 'json'. */
  format?: EventFormat
  /** Most events per request; reaching it starts a send. Default: DEFAULT_CLIENT_BATCH_EVENTS (100). */
  maxBatchEvents?: number
  /** Sends queued events this long after the first `track`, ms; 0 sends only on size or `flush()`. Default: 1000. */
  flushIntervalMs?: number
  /** Retry policy for network errors, 5xx and 429. Default: DEFAULT_RETRY_POLICY. */
  retry?: Partial<RetryPolicy>
  /** undici dispatcher (Agent, Pool, MockAgent). Default: undici's global dispatcher. */
  dispatcher?: Dispatcher
  /** Called with a send that failed in the background (timer or size); the events stay queued. Default: none. */
  onError?: (err: Error) => void
  /** Makes keys for events tracked without one. Default: crypto.randomUUID. */
  makeKey?: () => EventKey
  /** Clock for clientTime, ms since 1970. Default: Date.now. */
  now?: () => number
}

/** What `track` takes: key and clientTime are filled when missing, value defaults to {}. */
export interface TrackedEvent {
  type: EventType
  value?: JsonObject
  key?: EventKey
  clientTime?: number
}

export interface FlushResult {
  /** Events the server acknowledged with 2xx. */
  sent: number
  requests: number
  /** Sums of the DevServer's counts; undefined when the server did not give them. */
  stored: number | undefined
  duplicates: number | undefined
}

export interface EventClient {
  /** Validates and queues one event; returns it with key and clientTime filled. */
  track(event: TrackedEvent): LogEvent
  /** Sends everything queued now. Rejects with SendFailedError; events not rejected with a 4xx stay queued. */
  flush(): Promise<FlushResult>
  /** Flushes and stops; `track` throws afterwards. */
  close(): Promise<FlushResult>
  /** Events waiting to be sent. */
  readonly pending: number
}

export function createClient(options: ClientOptions): EventClient {
  if (typeof options.bucket !== 'string' || options.bucket === '') throw new InvalidOptionError('bucket', 'must be a non-empty string')
  const format = options.format ?? 'json'
  if (!EVENT_FORMATS.includes(format)) throw new InvalidOptionError('format', `must be one of ${EVENT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`)
  const endpoint = postEventsUrl(options.url, options.bucket)
  const maxBatchEvents = positiveInteger('maxBatchEvents', options.maxBatchEvents, DEFAULT_CLIENT_BATCH_EVENTS)
  const flushIntervalMs = positiveInteger('flushIntervalMs', options.flushIntervalMs, DEFAULT_CLIENT_FLUSH_INTERVAL_MS, true)
  const retry = normalizeRetryPolicy(options.retry, DEFAULT_SEND_RETRY_POLICY)
  const makeKey = options.makeKey ?? randomUUID
  const now = options.now ?? Date.now

  let queue: LogEvent[] = []
  let closed = false
  let timer: NodeJS.Timeout | undefined
  // Sends run one after another, so events arrive in the order they were tracked.
  let chain: Promise<unknown> = Promise.resolve()

  async function sendQueued(): Promise<FlushResult> {
    if (timer) {
      clearTimeout(timer)
      timer = undefined
    }
    const result: FlushResult = { sent: 0, requests: 0, stored: undefined, duplicates: undefined }
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatchEvents)
      try {
        const posted = await postEvents(batch, { endpoint, format, retry, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) })
        if (posted.stored !== undefined) result.stored = (result.stored ?? 0) + posted.stored
        if (posted.duplicates !== undefined) result.duplicates = (result.duplicates ?? 0) + posted.duplicates
      } catch (err) {
        // A 4xx will never succeed: drop that batch. Anything else stays queued for the next flush.
        const rejected = err instanceof SendFailedError && err.status !== undefined && err.status < 500 && err.status !== 429
        if (rejected) queue = queue.slice(batch.length)
        throw err
      }
      queue = queue.slice(batch.length)
      result.sent += batch.length
      result.requests++
    }
    return result
  }

  function flush(): Promise<FlushResult> {
    const run = chain.then(sendQueued)
    chain = run.catch(() => undefined)
    return run
  }

  let backgroundFlush: Promise<unknown> | undefined
  function flushInBackground(): void {
    // One background send at a time is enough: it keeps sending until the queue is empty.
    if (backgroundFlush) return
    backgroundFlush = flush()
      .catch((err: Error) => options.onError?.(err))
      .finally(() => { backgroundFlush = undefined })
  }

  return {
    track(input: TrackedEvent): LogEvent {
      if (closed) throw new ClosedError('client')
      const event = {
        key: input.key === undefined ? makeKey() : input.key,
        type: input.type,
        value: input.value ?? {},
        clientTime: input.clientTime ?? now(),
      }
      validateEvent(event)
      queue.push(event)
      if (queue.length >= maxBatchEvents) flushInBackground()
      else if (flushIntervalMs > 0 && !timer) timer = setTimeout(() => { timer = undefined; flushInBackground() }, flushIntervalMs).unref()
      return event
    },
    flush,
    async close(): Promise<FlushResult> {
      closed = true
      return flush()
    },
    get pending(): number {
      return queue.length
    },
  }
}
