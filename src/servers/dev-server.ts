/**
 * The DevServer: the events API of the seed (POST /api/post-events, GET
 * /events.json, GET /reset) kept in memory, plus a live page for local
 * development. It is a fastify plugin (`devServerPlugin`) and, for the seed's
 * `new DevServer().listen(PORT, cb)`, a class that owns its own fastify.
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from 'fastify'
import { bucketFromQuery, requiredBucket } from '../formats/bucket.js'
import type { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BadRequestError, EventDecodeError, EventValidationError, InvalidOptionError } from '../errors.js'
import { liveDecoderRequest } from '../decoders/live-request.js'
import { decodePostEvents, targetUrl } from '../decoders/post-events.js'
import { EVENTBUF_V2_CONTENT_TYPE } from '../formats/eventbuf-v2.js'
import { storedEventJson } from '../formats/json-events.js'
import type { EventRecord } from '../model/event-record.js'
import { corsHeaders, preflightHeaders, type CorsOptions } from './cors.js'
import { DevEventStore } from './dev-event-store.js'
import { renderDevServerPage } from './dev-server-page.js'

export const DEFAULT_DEV_SERVER_PORT = 7007
export const DEFAULT_DEV_SERVER_HOST = '127.0.0.1'
/** Largest request body, in bytes. Default: 8 MiB. */
export const DEFAULT_DEV_BODY_LIMIT = 8 * 1024 * 1024
/** Most events in one request. Default: 10000. */
export const DEFAULT_DEV_MAX_EVENTS = 10_000
export { MAX_BUCKET_LENGTH } from '../formats/bucket.js'
/** Interval of the comment lines that keep a live stream's connection open. */
export const DEFAULT_STREAM_HEARTBEAT_MS = 15_000

export interface DevServerOptions {
  /** Largest request body in bytes; larger ones get 413. Default: DEFAULT_DEV_BODY_LIMIT (8 MiB). */
  bodyLimit?: number
  /** Most events in one request; more get 413. Default: DEFAULT_DEV_MAX_EVENTS (10000). */
  maxEvents?: number
  /** Where events live; pass one to share it or to look inside. Default: a new DevEventStore. */
  store?: DevEventStore
  /** CORS answers, as on the LoggingServer. Default: reflect the Origin. */
  cors?: CorsOptions
  /** The server clock, ms since 1970, read once per request. Default: Date.now. */
  now?: () => number
  /** Heartbeat of the live event stream, ms. Default: DEFAULT_STREAM_HEARTBEAT_MS (15 s). */
  heartbeatMs?: number
}

interface NormalizedOptions {
  bodyLimit: number
  maxEvents: number
  store: DevEventStore
  cors: CorsOptions
  now: () => number
  heartbeatMs: number
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) throw new InvalidOptionError(name, `must be a positive integer, got ${String(value)}`)
  return value
}

function normalizeOptions(options: DevServerOptions): NormalizedOptions {
  if (options.now !== undefined && typeof options.now !== 'function') throw new InvalidOptionError('now', 'must be a function returning ms since 1970')
  if (options.store !== undefined && !(options.store instanceof DevEventStore)) throw new InvalidOptionError('store', 'must be a DevEventStore')
  return {
    bodyLimit: positiveInteger('bodyLimit', options.bodyLimit, DEFAULT_DEV_BODY_LIMIT),
    maxEvents: positiveInteger('maxEvents', options.maxEvents, DEFAULT_DEV_MAX_EVENTS),
    store: options.store ?? new DevEventStore(),
    cors: options.cors ?? {},
    now: options.now ?? Date.now,
    heartbeatMs: positiveInteger('heartbeatMs', options.heartbeatMs, DEFAULT_STREAM_HEARTBEAT_MS),
  }
}

function bucketOf(request: FastifyRequest, required: true): string
function bucketOf(request: FastifyRequest, required: false): string | undefined
function bucketOf(request: FastifyRequest, required: boolean): string | undefined {
  const raw = (request.query as Record<string, unknown>).bucket
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)]
  return required ? requiredBucket(values) : bucketFromQuery(values)
}

/** The request's events, decoded by the same function the decoders use for logged requests. */
function decodeRequest(request: FastifyRequest, serverTime: number, maxEvents: number): EventRecord[] {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
  const live = liveDecoderRequest({ method: request.method, url: request.url, headers: request.headers, ip: request.ip, body, time: serverTime })
  return decodePostEvents(live, targetUrl(request.url)!, { maxEvents })
}

/** The JSON body of an error answer: `{error, reason}`, plus `index`, `rule` or `offset` when they apply. */
function errorBody(err: unknown): { status: number; body: Record<string, unknown> } {
  if (err instanceof EventValidationError) return { status: 400, body: { error: err.code, index: err.index, rule: err.rule, reason: err.reason } }
  if (err instanceof EventDecodeError) return { status: 400, body: { error: err.code, index: err.index, offset: err.offset, reason: err.reason } }
  if (err instanceof BadRequestError) return { status: err.statusCode, body: { error: err.code, reason: err.reason } }
  const fastifyError = err as { code?: string; statusCode?: number; message?: string }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, body: { error: 'LS_BAD_REQUEST', reason: 'request body is over the body limit' } }
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, body: { error: 'LS_BAD_REQUEST', reason: `content type is not supported; send application/json or ${EVENTBUF_V2_CONTENT_TYPE}` } }
  const status = fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500 ? fastifyError.statusCode : 500
  return { status, body: { error: fastifyError.code ?? 'LS_INTERNAL', reason: status === 500 ? 'internal error' : String(fastifyError.message) } }
}

/**
 * One server-sent event. `data` is JSON text; value texts kept as received may
 * hold line breaks (whitespace between tokens), so each line gets its own
 * `data:` field and the browser joins them back with "\n".
 */
function writeStreamMessage(raw: ServerResponse, event: string, data: string): void {
  raw.write(`event: ${event}\ndata: ${data.split(/\r\n|\r|\n/).join('\ndata: ')}\n\n`)
}

function storedMessage(bucket: string, events: readonly EventRecord[]): string {
  return `{"bucket":${JSON.stringify(bucket)},"events":[${events.map(storedEventJson).join(',')}]}`
}

/**
 * The DevServer as a fastify plugin. Register it with a prefix to mount it
 * anywhere: `app.register(devServerPlugin, { prefix: '/dev' })`. It keeps its
 * own content-type parsers and error answers inside its scope.
 */
export const devServerPlugin: FastifyPluginAsync<DevServerOptions> = async (app, pluginOptions) => {
  const options = normalizeOptions(pluginOptions)
  const { store } = options
  const streams = new Set<ServerResponse>()

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.bodyLimit }, (_request, body, done) => done(null, body))

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(corsHeaders(request.headers, options.cors))
  })
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = errorBody(err)
    if (status === 500) request.log.error({ err }, 'DevServer failed a request')
    return reply.code(status).send(body)
  })
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'LS_BAD_REQUEST', reason: `no route ${request.method} ${request.url.split('?')[0]}` }))

  app.options('/*', async (request, reply) => reply.code(204).headers(preflightHeaders(request.headers, options.cors)).send())

  app.post('/api/post-events', {
    bodyLimit: options.bodyLimit,
    // The bucket is checked before the body is read: no bucket, no work.
    onRequest: async (request) => {
      bucketOf(request, true)
    },
  }, async (request) => {
    const serverTime = options.now()
    return store.add(decodeRequest(request, serverTime, options.maxEvents))
  })

  // Built as text: values are embedded exactly as received, never parsed (so never too deep to answer).
  app.get('/events.json', async (request, reply) => reply.type('application/json; charset=utf-8').send(store.eventsJson(bucketOf(request, true))))
  app.get('/buckets.json', async () => ({ buckets: store.buckets() }))
  app.get('/reset', async () => ({ deleted: store.reset() }))

  app.get('/events/stream', (request, reply) => {
    const bucket = bucketOf(request, false)
    reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, {
      ...corsHeaders(request.headers, options.cors),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    })
    raw.write('retry: 1000\n\n')
    streams.add(raw)
    const unsubscribe = store.subscribe((change) => {
      try {
        if (change.kind === 'reset') writeStreamMessage(raw, 'reset', '{}')
        else if (bucket === undefined || change.bucket === bucket) writeStreamMessage(raw, 'events', storedMessage(change.bucket, change.events))
      } catch (err) {
        // This stream is broken; the events are stored. End the stream, the page reconnects and reloads.
        request.log.warn({ err }, 'DevServer live stream failed; ending it')
        raw.destroy()
      }
    })
    const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), options.heartbeatMs).unref()
    // Tell the page it is connected, so it can load what is already there without missing anything.
    writeStreamMessage(raw, 'ready', JSON.stringify({ buckets: store.buckets() }))
    raw.on('close', () => {
      clearInterval(heartbeat)
      unsubscribe()
      streams.delete(raw)
    })
  })

  app.get('/', async (request, reply) => {
    const base = app.prefix === '' ? '' : app.prefix
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(renderDevServerPage(base))
  })

  // Live streams never end by themselves; end them so close() does not wait for the browsers.
  app.addHook('preClose', async () => {
    for (const raw of streams) raw.end()
    streams.clear()
  })
}

type ListenCallback = (err: Error | null, url?: string) => void

/** `new DevServer(options).listen(port, cb)`: the DevServer on its own fastify instance. */
export class DevServer {
  readonly store: DevEventStore
  readonly app: FastifyInstance
  #url: string | undefined

  constructor(options: DevServerOptions = {}) {
    const normalized = normalizeOptions(options)
    this.store = normalized.store
    this.app = Fastify({ logger: false, forceCloseConnections: true })
    void this.app.register(devServerPlugin, { ...options, store: this.store })
  }

  /** The base URL once listening, e.g. `http://127.0.0.1:7007`. */
  get url(): string | undefined {
    return this.#url
  }

  listen(port: number, callback: ListenCallback): this
  listen(port: number, host: string, callback: ListenCallback): this
  listen(port?: number, host?: string): Promise<string>
  listen(port: number = DEFAULT_DEV_SERVER_PORT, hostOrCallback?: string | ListenCallback, callback?: ListenCallback): this | Promise<string> {
    const host = typeof hostOrCallback === 'string' ? hostOrCallback : DEFAULT_DEV_SERVER_HOST
    const done = typeof hostOrCallback === 'function' ? hostOrCallback : callback
    const listening = this.app.listen({ port, host }).then(() => {
      const address = this.app.server.address() as AddressInfo
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
      this.#url = `http://${shownHost}:${address.port}`
      return this.#url
    })
    if (!done) return listening
    listening.then((url) => done(null, url), (err: Error) => done(err))
    return this
  }

  /** Stops listening and ends live streams. */
  async close(): Promise<void> {
    await this.app.close()
  }
}
