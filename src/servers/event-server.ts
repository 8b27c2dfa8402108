/**
 * The EventServer: the durable half of the system. It serves the events API
 * over an EventStore (DuckDB embedded, or ClickHouse), takes direct posts
 * (2xx only once committed) and, when given a source, tails the
 * LoggingServer's batches into the same store. Routes are plugins: the
 * built-in list is EVENT_SERVER_ROUTES, and `options.routes` adds more.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import { BadRequestError, InvalidOptionError, LoggingSystemError } from '../errors.js'
import { positiveInteger } from '../option-checks.js'
import { DirectIngest } from '../ingest/direct-ingest.js'
import { BatchTailer, type BatchTailerOptions } from '../ingest/batch-tailer.js'
import type { IngestObserver } from '../ingest/ingest-observer.js'
import { RequestDecoderRegistry } from '../decoders/registry.js'
import { createEventServerMetrics, type EventServerMetrics } from '../ops/event-server-metrics.js'
import type { EventStore } from '../store/event-store.js'
import { corsHeaders, preflightHeaders, type CorsOptions } from './cors.js'
import { rebindingProblem } from './request-guard.js'
import { collectRouteHelp, helpDocument, HELP_ROUTE_HELP, PREFLIGHT_ROUTE_HELP } from './route-help.js'
import { STORE_RETRY_AFTER_SECONDS, STORE_UNAVAILABLE_CODES, type EventServerContext, type EventServerLimits, type EventServerRoutes } from './event-server-routes.js'
import { eventsApiRoutes } from './events-api.js'
import { ingestionRoutes } from './ingestion-routes.js'
import { ClientIngest } from '../ingest/client-ingest.js'
import { analyticsEventServerRoutes } from './analytics-routes.js'
import type { ServerLogger } from './logging-server.js'
import { ProcessingEventStore } from '../processors/processing-store.js'
import type { ProcessorConfig } from '../processors/processor.js'

export type { EventServerContext, EventServerLimits, EventServerRoutes } from './event-server-routes.js'

/**
 * The routes every EventServer has, in registration order. A feature adds
 * its routes with one line here (or per server with `options.routes`).
 */
export const EVENT_SERVER_ROUTES: readonly EventServerRoutes[] = [eventsApiRoutes, analyticsEventServerRoutes, ingestionRoutes]

export const DEFAULT_EVENT_SERVER_PORT = 8090
export const DEFAULT_EVENT_SERVER_HOST = '127.0.0.1'
/** Largest request body, bytes. Default: 8 MiB (as the DevServer). */
export const DEFAULT_EVENT_BODY_LIMIT = 8 * 1024 * 1024
/** Most events in one post. Default: 10000 (as the DevServer). */
export const DEFAULT_EVENT_MAX_EVENTS = 10_000
/** Largest `limit` of one read. Default: 1,000,000 (without a limit a read streams everything). */
export const DEFAULT_MAX_PAGE_LIMIT = 1_000_000

/** Tailing options of an EventServer: the tailer's, without what the server supplies. */
export type EventServerTailOptions = Omit<BatchTailerOptions, 'store' | 'observer' | 'decoders'>

export interface EventServerOptions {
  /** Where events live: an open store (openEventStore gives one). close() closes it. Required. */
  store: EventStore
  /** Tail a LoggingServer's batches into the store. Default: none (direct posts only). */
  tail?: EventServerTailOptions
  /** Routes added after EVENT_SERVER_ROUTES. Default: none. */
  routes?: readonly EventServerRoutes[]
  /**
   * Processors run after each committed write, for direct posts and tailing alike
   * (docs/processors.md): the daily export, forwarding, an NDJSON file, your own. Default: none.
   */
  processors?: readonly ProcessorConfig[]
  /** Largest request body in bytes; larger ones get 413. Default: DEFAULT_EVENT_BODY_LIMIT (8 MiB). */
  bodyLimit?: number
  /** Most events in one post; more get 413. Default: DEFAULT_EVENT_MAX_EVENTS (10000). */
  maxEvents?: number
  /** Largest `limit` of /events.json. Default: DEFAULT_MAX_PAGE_LIMIT. */
  maxPageLimit?: number
  /** Request decoders for posts and tailing. Default: the built-in ones. */
  decoders?: RequestDecoderRegistry
  /**
   * CORS answers. Posts (event ingestion) reflect the Origin, so pages of any site can send events;
   * reads answer other sites only when `cors.origin` names one. Default: `{}` (reflect on posts only).
   */
  cors?: CorsOptions
  /** Host names accepted besides loopback ones on a request that arrived on loopback (DNS rebinding guard). Default: none. */
  allowedHosts?: readonly string[]
  /** Metrics to count into. Default: a new registry (see `metrics`). */
  metrics?: EventServerMetrics
  /** Where problems and lifecycle are logged (pino works). Default: silent. */
  logger?: ServerLogger
  /** The server clock, ms since 1970. Default: Date.now. */
  now?: () => number
}

const silentLogger: ServerLogger = { info() {}, warn() {}, error() {} }

/** Codes of errors that mean the input was bad (400 unless the error names a status). */
const BAD_INPUT_CODES = new Set<string>(['LS_EVENT_DECODE', 'LS_EVENT_INVALID', 'LS_KEY_INVALID', 'LS_KEY_DECODE', 'LS_BAD_REQUEST'])

/** The status and JSON body of an error answer: `{error, reason}` plus `index`, `rule`, `offset` when the error has them. */
export function errorAnswer(err: unknown): { status: number; body: Record<string, unknown> } {
  const e = err as Partial<LoggingSystemError> & { statusCode?: number; reason?: string; index?: number; rule?: string; offset?: number }
  const details = { ...(e.index !== undefined ? { index: e.index } : {}), ...(e.rule !== undefined ? { rule: e.rule } : {}), ...(e.offset !== undefined ? { offset: e.offset } : {}) }
  if (err instanceof LoggingSystemError && STORE_UNAVAILABLE_CODES.has(err.code)) return { status: 503, body: { error: err.code, reason: err.message } }
  if (err instanceof LoggingSystemError && BAD_INPUT_CODES.has(err.code)) {
    const status = e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 400
    return { status, body: { error: err.code, ...details, reason: e.reason ?? err.message } }
  }
  const code = (err as { code?: string }).code
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, body: { error: 'LS_BAD_REQUEST', reason: 'request body is over the body limit' } }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, body: { error: 'LS_BAD_REQUEST', reason: 'content type is not supported' } }
  const status = e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500
  return { status, body: { error: code ?? 'LS_INTERNAL', reason: status === 500 ? 'internal error' : String(e.message) } }
}

/** Logs what ingestion reports, and passes it on to the metrics. */
function loggingObserver(logger: ServerLogger, metrics: EventServerMetrics, status: { commitFailing: boolean }): IngestObserver {
  return {
    committed(origin, result, seconds) {
      status.commitFailing = false
      metrics.committed?.(origin, result, seconds)
    },
    commitFailed(origin, error) {
      status.commitFailing = true
      logger.error({ origin, err: error }, 'the event store did not commit')
      metrics.commitFailed?.(origin, error)
    },
    batchTailed(batch) {
      metrics.batchTailed?.(batch)
      if (batch.result !== 'read') logger.warn({ batch }, 'tailed a batch with damage')
    },
    requestSkipped(reason) {
      metrics.requestSkipped?.(reason)
    },
    problem(problem) {
      metrics.problem?.(problem)
      logger.warn({ tail: problem }, `tail: ${problem.kind}`)
    },
    tailLag(seconds) {
      metrics.tailLag?.(seconds)
    },
  }
}

export interface EventServerStatus {
  listening: boolean
  /** The last store write failed (cleared by the next one that commits). */
  commitFailing: boolean
  tailing: boolean
}

export class EventServer {
  readonly app: FastifyInstance
  readonly store: EventStore
  readonly metrics: EventServerMetrics
  readonly ingest: DirectIngest
  /** The tailer, when the server tails batches. */
  readonly tailer: BatchTailer | undefined
  readonly #logger: ServerLogger
  readonly #health = { commitFailing: false }
  readonly #tailSource: EventServerTailOptions['source'] | undefined
  #url: string | undefined
  #closing: Promise<void> | undefined

  constructor(options: EventServerOptions) {
    if (!options || !options.store) throw new InvalidOptionError('store', 'an EventStore is required (see openEventStore)')
    if (options.now !== undefined && typeof options.now !== 'function') throw new InvalidOptionError('now', 'must be a function returning ms since 1970')
    const limits: EventServerLimits = {
      bodyLimit: positiveInteger('bodyLimit', options.bodyLimit, DEFAULT_EVENT_BODY_LIMIT),
      maxEvents: positiveInteger('maxEvents', options.maxEvents, DEFAULT_EVENT_MAX_EVENTS),
      maxPageLimit: positiveInteger('maxPageLimit', options.maxPageLimit, DEFAULT_MAX_PAGE_LIMIT),
    }
    const routes = [...EVENT_SERVER_ROUTES, ...(options.routes ?? [])]
    const names = new Set<string>()
    for (const route of routes) {
      if (names.has(route.name)) throw new InvalidOptionError('routes', `${JSON.stringify(route.name)} is registered twice`)
      names.add(route.name)
    }
    this.#logger = options.logger ?? silentLogger
    const logger = this.#logger
    // Wrapping the store puts every ingest path through the processors, after the commit.
    this.store = options.processors?.length
      ? new ProcessingEventStore(options.store, options.processors, {
          onError: (err, processor) => logger.error({ err, processor }, 'processor failed'),
          ...(options.now ? { now: options.now } : {}),
        })
      : options.store
    this.metrics = options.metrics ?? createEventServerMetrics()
    const now = options.now ?? Date.now
    const decoders = options.decoders ?? new RequestDecoderRegistry()
    const observer = loggingObserver(this.#logger, this.metrics, this.#health)
    this.ingest = new DirectIngest({ store: this.store, decoders, observer, maxEvents: limits.maxEvents })
    this.#tailSource = options.tail?.source
    this.tailer = options.tail ? new BatchTailer({ clientIngest: new ClientIngest(this.store), ...options.tail, store: this.store, decoders, observer, now: options.tail.now ?? now }) : undefined
    const context: EventServerContext = { store: this.store, ingest: this.ingest, decoders, limits, metrics: this.metrics, logger: this.#logger, now }

    const cors = options.cors ?? {}
    this.app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: limits.bodyLimit })
    // Before any route: GET /help lists every route of every plugin, as registered.
    const helpRoutes = collectRouteHelp(this.app)
    const allowedHosts = options.allowedHosts ?? []
    this.app.addHook('onRequest', async (request, reply) => {
      const rebinding = rebindingProblem(request.headers.host, request.raw.socket?.localAddress, allowedHosts)
      if (rebinding) throw new BadRequestError(403, rebinding)
      // Anyone may send events; what the store holds is read by other sites only when an origin is configured.
      if (request.method === 'POST' || typeof cors.origin === 'string') reply.headers(corsHeaders(request.headers, cors))
    })
    this.app.setErrorHandler((err, request, reply) => {
      const { status, body } = errorAnswer(err)
      if (status === 503) reply.header('retry-after', String(STORE_RETRY_AFTER_SECONDS))
      if (status === 500) this.#logger.error({ err, url: request.url }, 'EventServer failed a request')
      return reply.code(status).send(body)
    })
    this.app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'LS_BAD_REQUEST', reason: `no route ${request.method} ${request.url.split('?')[0]}` }))
    this.app.options('/*', { config: { help: PREFLIGHT_ROUTE_HELP } }, async (request, reply) => reply.code(204).headers(preflightHeaders(request.headers, cors)).send())
    this.app.get('/help', { config: { help: HELP_ROUTE_HELP } }, async () => helpDocument(helpRoutes))
    for (const route of routes) {
      void this.app.register(async (scope) => route.plugin(scope, context), route.prefix !== undefined ? { prefix: route.prefix } : {})
    }
  }

  /** The base URL once listening, e.g. `http://127.0.0.1:8090`. */
  get url(): string | undefined {
    return this.#url
  }

  status(): EventServerStatus {
    return { listening: this.#url !== undefined && !this.#closing, commitFailing: this.#health.commitFailing, tailing: this.tailer !== undefined && !this.#closing }
  }

  /** Ready for traffic: listening, and the store's last write (if any) committed. */
  get ready(): boolean {
    const status = this.status()
    return status.listening && !status.commitFailing
  }

  /** Listens, then starts tailing. Resolves with the base URL. */
  async listen(port: number = DEFAULT_EVENT_SERVER_PORT, host: string = DEFAULT_EVENT_SERVER_HOST): Promise<string> {
    // A bad processor configuration fails here, before any event is taken.
    if (this.store instanceof ProcessingEventStore) await this.store.start()
    await this.app.listen({ port, host })
    const address = this.app.server.address() as AddressInfo
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
    this.#url = `http://${shownHost}:${address.port}`
    this.tailer?.start()
    this.#logger.info({ url: this.#url, store: this.store.kind, tailing: this.tailer?.stream ?? null }, 'EventServer listening')
    return this.#url
  }

  /** Stops tailing (the batch under way is committed), stops listening, closes the store. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.tailer?.stop()
      await this.#tailSource?.close?.()
      await this.app.close()
      await this.store.close()
    })()
    return this.#closing
  }
}
