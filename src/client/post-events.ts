/**
 * Sends one batch of events to `POST /api/post-events?bucket=` over undici,
 * retrying network errors, 5xx and 429 by the retry policy. Used by
 * createClient and by `logging-system gen`.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { request, type Dispatcher } from 'undici'
import { InvalidOptionError, SendFailedError } from '../errors.js'
import { encodeEventbufV2Events, EVENTBUF_V2_CONTENT_TYPE } from '../formats/eventbuf-v2.js'
import { encodeJsonEvents, validateEvents, type LogEvent } from '../formats/json-events.js'
import { isRetryableStatus, retryDelay, type RetryPolicy } from '../retry-policy.js'

export type EventFormat = 'json' | 'eventbuf-v2'
export const EVENT_FORMATS: readonly EventFormat[] = ['json', 'eventbuf-v2']
export const POST_EVENTS_PATH = 'api/post-events'

/**
 * The endpoint for `bucket`: `url` is the server's base URL (its path is kept,
 * `api/post-events` is added) or already ends in `/api/post-events`.
 */
export function postEventsUrl(url: string, bucket: string): URL {
  let endpoint: URL
  try {
    endpoint = new URL(url)
  } catch {
    throw new InvalidOptionError('url', `${JSON.stringify(url)} is not an absolute URL, e.g. http://127.0.0.1:7007`)
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new InvalidOptionError('url', `must be http: or https:, got ${endpoint.protocol}`)
  if (!endpoint.pathname.endsWith('/' + POST_EVENTS_PATH)) {
    endpoint.pathname = endpoint.pathname.replace(/\/?$/, '/') + POST_EVENTS_PATH
  }
  endpoint.searchParams.set('bucket', bucket)
  return endpoint
}

export function encodeBatch(events: readonly LogEvent[], format: EventFormat): { contentType: string; body: Uint8Array | string } {
  if (format === 'eventbuf-v2') return { contentType: EVENTBUF_V2_CONTENT_TYPE, body: encodeEventbufV2Events(events) }
  validateEvents(events)
  return { contentType: 'application/json', body: encodeJsonEvents(events) }
}

export interface PostResult {
  /** HTTP status of the answer that ended it (2xx). */
  status: number
  attempts: number
  /** From a DevServer's answer; undefined when the server does not say (the LoggingServer). */
  stored: number | undefined
  duplicates: number | undefined
}

export interface PostOptions {
  endpoint: URL
  format: EventFormat
  retry: RetryPolicy
  dispatcher?: Dispatcher
  /** Waits between attempts; tests replace it. Default: timers/promises setTimeout. */
  sleep?: (ms: number) => Promise<unknown>
}

function countsOf(text: string): { stored: number | undefined; duplicates: number | undefined } {
  try {
    const parsed = JSON.parse(text) as { stored?: unknown; duplicates?: unknown }
    return {
      stored: typeof parsed.stored === 'number' ? parsed.stored : undefined,
      duplicates: typeof parsed.duplicates === 'number' ? parsed.duplicates : undefined,
    }
  } catch {
    return { stored: undefined, duplicates: undefined }
  }
}

/** Posts `events` as one request; throws SendFailedError when it gives up. */
export async function postEvents(events: readonly LogEvent[], options: PostOptions): Promise<PostResult> {
  const { contentType, body } = encodeBatch(events, options.format)
  return postBody(body, contentType, events.length, options)
}

/**
 * Posts one encoded body of `count` events, retrying network errors, 5xx and
 * 429 by the policy; throws SendFailedError when it gives up.
 */
export async function postBody(body: Uint8Array | string, contentType: string, count: number, options: Omit<PostOptions, 'format'>): Promise<PostResult> {
  const wait = options.sleep ?? sleep
  for (let attempt = 1; ; attempt++) {
    let status: number | undefined
    let text: string | undefined
    let failure: unknown
    try {
      const response = await request(options.endpoint, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      })
      status = response.statusCode
      text = await response.body.text()
    } catch (err) {
      failure = err
    }
    if (status !== undefined && status >= 200 && status < 300) return { status, attempts: attempt, ...countsOf(text ?? '') }
    const retryable = status === undefined || isRetryableStatus(status)
    if (!retryable || attempt > options.retry.maxRetries) {
      const what = status === undefined ? `network error: ${(failure as Error)?.message ?? String(failure)}` : `HTTP ${status}${text ? `: ${text.slice(0, 500)}` : ''}`
      throw new SendFailedError(`could not post ${count} events to ${options.endpoint.origin}${options.endpoint.pathname} after ${attempt} attempt${attempt === 1 ? '' : 's'} (${what})`, {
        attempts: attempt,
        ...(status !== undefined ? { status } : {}),
        ...(text !== undefined ? { body: text } : {}),
      }, failure === undefined ? undefined : { cause: failure })
    }
    await wait(retryDelay(options.retry, attempt))
  }
}
