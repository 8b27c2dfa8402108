/**
 * The seed's own API, `POST /api/post-events?bucket=B`, in one place: the
 * DevServer (live), the EventServer (live and tailed) and replay all decode
 * its body with decodePostEvents.
 */
import { BadRequestError, EventDecodeError } from '../errors.js'
import { requiredBucket } from '../formats/bucket.js'
import { decodeEventbufV2, EVENTBUF_V2_CONTENT_TYPE } from '../formats/eventbuf-v2.js'
import { readJsonEventsBody, type ReceivedEvent } from '../formats/json-events.js'
import { encodeKey } from '../formats/keyjson.js'
import { eventRecord, type EventRecord } from '../model/event-record.js'
import type { DecoderRequest } from './request-decoder.js'

export const POST_EVENTS_PATH = '/api/post-events'
export const POST_EVENTS_JSON_SOURCE = 'post-events/json'
export const POST_EVENTS_EVENTBUF_V2_SOURCE = 'post-events/eventbuf-v2'

export interface PostEventsLimits {
  /** Most events in one request; more is a 413 BadRequestError. Default: Infinity (no limit). */
  maxEvents?: number
}

/** `text/plain; charset=utf-8` → `text/plain`. */
export function mediaTypeOf(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase()
}

/** The bucket of a `/api/post-events?bucket=B` request; checked before its body is decoded: no bucket, no work. */
export function postEventsBucket(url: URL): string {
  return requiredBucket(url.searchParams.getAll('bucket'))
}

function readEvents(request: DecoderRequest, maxEvents: number): { source: string; events: ReceivedEvent[] } {
  const mediaType = mediaTypeOf(request.contentType)
  if (mediaType === 'application/json') {
    const events = readJsonEventsBody(request.body)
    if (events.length > maxEvents) throw new BadRequestError(413, `${events.length} events in one request; the limit is ${maxEvents}`)
    return { source: POST_EVENTS_JSON_SOURCE, events }
  }
  if (mediaType === EVENTBUF_V2_CONTENT_TYPE) {
    try {
      return { source: POST_EVENTS_EVENTBUF_V2_SOURCE, events: decodeEventbufV2(request.body, { maxEvents }) }
    } catch (err) {
      if (err instanceof EventDecodeError && err.reason.startsWith('more than ')) throw new BadRequestError(413, `more than ${maxEvents} events in one request`)
      throw err
    }
  }
  throw new BadRequestError(415, `content type ${mediaType === '' ? '(none)' : JSON.stringify(mediaType)} is not supported; send application/json or ${EVENTBUF_V2_CONTENT_TYPE}`)
}

/**
 * The events of one post-events request as EventRecords: keys keyjson-encoded,
 * values as the exact text received, serverTime = request.time. Throws
 * BadRequestError (no bucket, malformed JSON, 415, 413), EventValidationError
 * or EventDecodeError; all of them mean 4xx.
 */
export function decodePostEvents(request: DecoderRequest, url: URL, limits: PostEventsLimits = {}): EventRecord[] {
  const bucket = postEventsBucket(url)
  const { source, events } = readEvents(request, limits.maxEvents ?? Infinity)
  return events.map((event) =>
    eventRecord({
      bucket,
      key: encodeKey(event.key),
      type: event.type,
      value: event.value,
      clientTime: event.clientTime,
      serverTime: request.time,
      ip: request.ip === '' ? null : request.ip,
      source,
    }),
  )
}

// Any origin: only the path and query of a request target are used.
const BASE = 'http://request.invalid'

/** Parses a request target (path and query) into a URL; undefined when it is not one. */
export function targetUrl(path: string): URL | undefined {
  try {
    return new URL(path, BASE)
  } catch {
    return undefined
  }
}
