/**
 * The seed's events API on the EventServer, same shapes as the DevServer:
 * POST /api/post-events (2xx only once committed), GET /events.json (a key
 * range, streamed, with an opaque cursor for the next page), GET /buckets.json.
 */
import { Readable } from 'node:stream'
import type { FastifyRequest } from 'fastify'
import { headerRecord } from '../decoders/live-request.js'
import { requiredBucket } from '../formats/bucket.js'
import { encodedKeyToJson } from '../formats/keyjson.js'
import type { EventRecord } from '../model/event-record.js'
import type { EventStore, RangeQuery } from '../store/event-store.js'
import type { EventServerRoutes } from './event-server.js'
import { encodeCursor, limitParam, rangeQueryOf, type Query } from './event-query.js'

/** Rejects listed by /rejects.json without a limit, and the most it lists. */
export const DEFAULT_REJECTS_LIMIT = 100
export const MAX_REJECTS_LIMIT = 10_000

/** Bytes of JSON gathered before they are handed to the socket. */
const STREAM_CHUNK_BYTES = 64 * 1024

function bucketValues(request: FastifyRequest): string[] {
  const raw = (request.query as Record<string, unknown>).bucket
  return raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)]
}

/** One event as /events.json writes it: the DevServer's fields, the value as the exact text received. */
export function eventJson(event: EventRecord): string {
  const type = typeof event.type === 'number' ? String(event.type) : JSON.stringify(event.type)
  return `{"key":${encodedKeyToJson(event.key)},"type":${type},"value":${event.value},"clientTime":${event.clientTime},"serverTime":${event.serverTime}}`
}

/**
 * `{"events":[...]}` written as the store reads, in chunks, so memory stays
 * flat whatever the bucket's size; `,"nextCursor":"..."` follows when a limit
 * cut the read short.
 */
export async function* eventsDocument(store: EventStore, range: RangeQuery): AsyncGenerator<string> {
  const limit = range.limit
  let chunk = '{"events":['
  let count = 0
  let last: Uint8Array | undefined
  let more = false
  // One event past the limit says whether there is a next page.
  for await (const event of store.read(limit === undefined ? range : { ...range, limit: limit + 1 })) {
    if (limit !== undefined && count === limit) {
      more = true
      break
    }
    chunk += (count === 0 ? '' : ',') + eventJson(event)
    count++
    last = event.key
    if (chunk.length >= STREAM_CHUNK_BYTES) {
      yield chunk
      chunk = ''
    }
  }
  chunk += ']'
  if (more && last) chunk += `,"nextCursor":${JSON.stringify(encodeCursor(last))}`
  yield chunk + '}\n'
}

export const eventsApiRoutes: EventServerRoutes = {
  name: 'events-api',
  async plugin(app, context) {
    const { store, ingest, limits } = context
    // Bodies stay bytes: the decoders keep each value's exact text.
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.bodyLimit }, (_request, body, done) => done(null, body))

    app.post('/api/post-events', {
      bodyLimit: limits.bodyLimit,
      config: {
        help: {
          description: 'Store events (JSON or eventbuf-v2 body, by Content-Type); 200 {stored, duplicates} once durably committed',
          required: ['bucket'],
          parameters: { bucket: 'Bucket the events go to (query)' },
        },
      },
      // The bucket is checked before the body is read: no bucket, no work.
      onRequest: async (request) => {
        requiredBucket(bucketValues(request))
      },
    }, async (request) => {
      const headers = headerRecord(request.headers)
      const { stored, duplicates } = await ingest.post({
        method: request.method,
        path: request.url,
        contentType: headers['content-type'] ?? '',
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        ip: request.ip ?? '',
        headers,
        time: context.now(),
      })
      return { stored, duplicates }
    })

    app.get('/events.json', {
      config: {
        help: {
          description: 'The events of a bucket in key order, value as the exact JSON text received',
          required: ['bucket'],
          parameters: {
            bucket: 'Bucket to read',
            from: 'Lowest key, inclusive, as JSON',
            to: 'Highest key, exclusive, as JSON',
            prefix: 'A JSON list: every list key that starts with its elements',
            serverTimeFrom: 'Server time range start, ms since 1970 (inclusive)',
            serverTimeTo: 'Server time range end, ms since 1970 (exclusive)',
            clientTimeFrom: 'Client time range start, ms since 1970 (inclusive)',
            clientTimeTo: 'Client time range end, ms since 1970 (exclusive)',
            type: 'Only this type; repeat for several',
            limit: `At most this many events (at most ${limits.maxPageLimit}); without it the whole range streams`,
            cursor: 'The nextCursor of the previous page, with the same other parameters',
          },
        },
      },
    }, async (request, reply) => {
      const range = rangeQueryOf(request.query as Record<string, string | string[]>, limits.maxPageLimit)
      return reply.type('application/json; charset=utf-8').send(Readable.from(eventsDocument(store, range), { objectMode: false }))
    })

    app.get('/buckets.json', { config: { help: { description: 'Every bucket with its event count' } } }, async () => ({ buckets: await store.buckets() }))

    // Requests that gave no events (undecodable logged requests), newest first, for a user to look at.
    app.get('/rejects.json', { config: { help: { description: 'Logged requests that gave no events, newest first', parameters: { limit: `How many (default ${DEFAULT_REJECTS_LIMIT}, at most ${MAX_REJECTS_LIMIT})` } } } }, async (request) => {
      const limit = limitParam(request.query as Query, MAX_REJECTS_LIMIT, DEFAULT_REJECTS_LIMIT)
      const rejects = await store.rejects(limit)
      return {
        rejects: rejects.map(({ body, ...reject }) => ({ ...reject, bodyBase64: Buffer.from(body).toString('base64') })),
      }
    })

  },
}
