/**
 * Seed 003's API on the EventServer, as one fastify plugin: the dashboard
 * (GET /), CORS preflight, GET /help (made from this plugin's own route
 * table when it runs alone; the EventServer lists all of its routes), POST /api/events, event listing and queries, 48 h stats, the daily
 * aggregation and the analyses. Routing and HTTP only: the queries live in
 * src/analytics/, the body rules in src/decoders/api-events.ts.
 *
 *   app.register(analyticsRoutes, { store })
 */
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { BadRequestError, EventValidationError, InvalidOptionError, LoggingSystemError } from '../errors.js'
import { positiveInteger } from '../option-checks.js'
import {
  booleanParam,
  bucketParam,
  eventFilterParams,
  funnelParams,
  granularityParam,
  GRANULARITIES,
  integerParam,
  MAX_PAGE_LIMIT,
  pageParams,
  type Granularity,
  type RawParams,
} from '../analytics/analytics-params.js'
import { EventAnalytics } from '../analytics/event-analytics.js'
import { eventPageJson, apiEventJson } from '../analytics/event-json.js'
import { API_EVENT_RULES, decodeApiEvent, DEFAULT_API_EVENT_MAX_BYTES, type ApiEventRule } from '../decoders/api-events.js'
import { encodedKeyToJson } from '../formats/keyjson.js'
import type { EventStore, WriteResult } from '../store/event-store.js'
import type { EventRecord } from '../model/event-record.js'
import { STORE_RETRY_AFTER_SECONDS, STORE_UNAVAILABLE_CODES, type EventServerRoutes } from './event-server-routes.js'
import { renderAnalyticsDashboard } from './analytics-dashboard.js'
import { corsHeaders, preflightHeaders, type CorsOptions } from './cors.js'
import { collectRouteHelp, helpDocument, HELP_ROUTE_HELP, PREFLIGHT_ROUTE_HELP, type RouteHelp } from './route-help.js'

/** Most events one live-tail poll returns. */
export const DEFAULT_TAIL_LIMIT = 200
/** Most rows of a flows answer. */
export const MAX_FLOWS_LIMIT = 1000

export interface AnalyticsRoutesOptions {
  /** The store events are written to and analysed in. Required. */
  store: EventStore
  /** Names this server in the keys of directly posted events. Default: a random UUID per process. */
  serverToken?: string
  /** Server clock, ms since 1970. Default: Date.now. */
  now?: () => number
  /** Granularity of GET /api/stats when the request names none. Default: `hour`. */
  defaultGranularity?: Granularity
  /** Granularities a request may ask for. Default: hour, minute, second. */
  granularities?: Granularity[]
  /** Largest `limit` of a page. Default: MAX_PAGE_LIMIT (1000). */
  maxPageLimit?: number
  /** Largest POST /api/events body, bytes. Default: DEFAULT_API_EVENT_MAX_BYTES (1 MiB). */
  bodyLimit?: number
  /** CORS answers; `false` when the server around the plugin already answers preflights. Default: reflect the Origin. */
  cors?: CorsOptions | false
  /** The table expression the analyses read. Default: `events` (DuckDB), `events FINAL` (ClickHouse). */
  table?: string
  /**
   * How POST /api/events commits its event. Default: `store.write` per request; the EventServer passes
   * its group commit, so concurrent posts share one durable write.
   */
  commit?: (events: EventRecord[]) => Promise<WriteResult>
  /** Serve GET /help listing this plugin's routes; `false` when the server around it lists its whole route table. Default: true. */
  help?: boolean
}

const TIME_PARAMETERS = {
  bucket: 'Bucket to read (default: default)',
  startDate: 'Set a start date in unix timestamp, if empty it will include all items from the start',
  endDate: 'Set an end date in unix timestamp (inclusive), if empty it will include all items until',
  eventType: 'If set it will filter by an event, can be an array for multiple events',
}

function rawParams(request: FastifyRequest): RawParams {
  const query = request.query as RawParams
  if (request.method !== 'POST') return query
  const body = request.body
  if (!Buffer.isBuffer(body) || body.length === 0) return query
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch (err) {
    throw new BadRequestError(400, `body: malformed JSON: ${(err as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BadRequestError(400, 'body: must be a JSON object of parameters')
  return { ...query, ...(parsed as RawParams) }
}


function errorAnswer(err: unknown): { status: number; body: Record<string, unknown> } {
  if (err instanceof LoggingSystemError && STORE_UNAVAILABLE_CODES.has(err.code)) return { status: 503, body: { error: err.code, reason: err.message } }
  if (err instanceof EventValidationError) {
    return { status: 400, body: { error: err.code, rule: err.rule, field: API_EVENT_RULES[err.rule as ApiEventRule] ?? null, reason: err.reason } }
  }
  if (err instanceof BadRequestError) return { status: err.statusCode, body: { error: err.code, reason: err.reason } }
  const fastifyError = err as { code?: string; statusCode?: number; message?: string }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, body: { error: 'LS_BAD_REQUEST', reason: 'body: over the body limit' } }
  const status = fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500 ? fastifyError.statusCode : 500
  return { status, body: { error: fastifyError.code ?? 'LS_INTERNAL', reason: status === 500 ? 'internal error' : String(fastifyError.message) } }
}

export const analyticsRoutes: FastifyPluginAsync<AnalyticsRoutesOptions> = async (app, options) => {
  const store = options.store
  if (!store || typeof store.write !== 'function' || !store.sql) throw new InvalidOptionError('store', 'must be an EventStore')
  const now = options.now ?? Date.now
  const granularities = options.granularities ?? [...GRANULARITIES]
  if (granularities.length === 0 || granularities.some((g) => !GRANULARITIES.includes(g))) throw new InvalidOptionError('granularities', `must be a non-empty list of ${GRANULARITIES.join(', ')}`)
  const defaultGranularity = options.defaultGranularity ?? (granularities.includes('hour') ? 'hour' : granularities[0]!)
  if (!granularities.includes(defaultGranularity)) throw new InvalidOptionError('defaultGranularity', `must be one of ${granularities.join(', ')}`)
  const maxPageLimit = positiveInteger('maxPageLimit', options.maxPageLimit, MAX_PAGE_LIMIT)
  const bodyLimit = options.bodyLimit ?? DEFAULT_API_EVENT_MAX_BYTES
  const serverToken = options.serverToken ?? randomUUID()
  const commit = options.commit ?? ((events: EventRecord[]) => store.write({ events }))
  const analytics = new EventAnalytics(store.sql, options.table === undefined ? {} : { table: options.table })
  let nextReqId = 0

  const helpRoutes = options.help === false ? undefined : collectRouteHelp(app)

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body))
  if (options.cors !== false) {
    const cors = options.cors ?? {}
    app.addHook('onRequest', async (request, reply) => {
      reply.headers(corsHeaders(request.headers, cors))
    })
    app.options('/*', { config: { help: PREFLIGHT_ROUTE_HELP } }, async (request, reply) => reply.code(204).headers(preflightHeaders(request.headers, cors)).send())
  }
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = errorAnswer(err)
    if (status === 503) reply.header('retry-after', String(STORE_RETRY_AFTER_SECONDS))
    if (status === 500) request.log.error({ err }, 'analytics request failed')
    return reply.code(status).send(body)
  })

  const sendJsonText = (reply: FastifyReply, text: string): FastifyReply => reply.type('application/json; charset=utf-8').send(text)

  app.get('/', { config: { help: { description: 'HTML Page: the analytics dashboard' } } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(renderAnalyticsDashboard(app.prefix)),
  )

  if (helpRoutes) app.get('/help', { config: { help: HELP_ROUTE_HELP } }, async () => helpDocument(helpRoutes))

  app.get('/api/events', {
    config: { help: { description: 'Get all the events in the system, this is without any filtering', parameters: { page: 'Which page to show', limit: `How many items to show per page (at most ${maxPageLimit})`, bucket: TIME_PARAMETERS.bucket } } },
  }, async (request, reply) => {
    const raw = rawParams(request)
    return sendJsonText(reply, eventPageJson(await analytics.events({ bucket: bucketParam(raw) }, pageParams(raw, maxPageLimit))))
  })

  app.post('/api/events/query', {
    config: {
      help: {
        description: 'Get the events from the database',
        parameters: { page: 'Which page to show', limit: `How many items to show per page (at most ${maxPageLimit})`, ...TIME_PARAMETERS },
      },
    },
  }, async (request, reply) => {
    const raw = rawParams(request)
    return sendJsonText(reply, eventPageJson(await analytics.events(eventFilterParams(raw), pageParams(raw, maxPageLimit))))
  })

  app.post('/api/events', {
    bodyLimit,
    config: {
      help: {
        description: 'Register an event; 202 once it is durably stored',
        required: ['event_type'],
        parameters: {
          event_type: 'Type of event being sent',
          ts: 'UNIX timestamp in seconds (default: the server time)',
          params: 'A key-value dictionary where the key must be a string but the value can be of any data type',
          bucket: 'Query string: the bucket to store it in (default: default)',
        },
      },
    },
  }, async (request, reply) => {
    const bucket = bucketParam(request.query as RawParams)
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const record = decodeApiEvent(body, { bucket, serverTime: now(), serverToken, reqId: nextReqId++, ip: request.ip ?? null }, bodyLimit)
    const result = await commit([record])
    return reply.code(202).send({ bucket, id: JSON.parse(encodedKeyToJson(record.key)) as unknown, stored: result.stored, duplicates: result.duplicates })
  })

  app.get('/api/events/tail', {
    config: { help: { description: 'Events stored since a time (the live tail), oldest first; poll with since = the last ingestedAt seen and drop keys already seen', parameters: { since: 'Ms since 1970 (the store\'s ingestedAt); left out: the newest events', limit: `At most this many (default ${DEFAULT_TAIL_LIMIT})`, bucket: TIME_PARAMETERS.bucket, eventType: TIME_PARAMETERS.eventType } } },
  }, async (request, reply) => {
    const raw = rawParams(request)
    const filter = eventFilterParams(raw)
    const since = integerParam(raw, 'since', 0, Number.MAX_SAFE_INTEGER)
    const limit = integerParam(raw, 'limit', 1, maxPageLimit) ?? DEFAULT_TAIL_LIMIT
    const { events, ingestedAt } = await analytics.tail(filter, since, limit)
    const next = ingestedAt.length > 0 ? ingestedAt[ingestedAt.length - 1]! : (since ?? 0)
    return sendJsonText(reply, `{"since":${since ?? null},"next":${next},"events":[${events.map(apiEventJson).join(',')}]}`)
  })

  app.get('/api/stats/:type?', {
    config: {
      help: {
        description: 'Gets the stats for the latest 48hours',
        parameters: { ':type': 'Can be any event type we need (all types when left out)', granularity: `${granularities.join(', ')} (default ${defaultGranularity})`, bucket: TIME_PARAMETERS.bucket },
      },
    },
  }, async (request) => {
    const raw = rawParams(request)
    const type = (request.params as { type?: string }).type
    return analytics.stats(bucketParam(raw), type === undefined || type === '' ? null : type, granularityParam(raw, granularities, defaultGranularity), now())
  })

  app.get('/api/aggregations/daily', {
    config: { help: { description: 'Events per day and event type (date, year, month, day, event_type, total)', parameters: TIME_PARAMETERS } },
  }, async (request) => ({ days: await analytics.daily(eventFilterParams(rawParams(request))) }))

  const analysisRoute = (path: string, help: RouteHelp, handler: (raw: RawParams) => Promise<unknown>): void => {
    for (const method of ['GET', 'POST'] as const) {
      app.route({ method, url: `/api/analysis/${path}`, config: { help }, handler: async (request) => handler(rawParams(request)) })
    }
  }

  analysisRoute('types', { description: 'Event types with their counts, most frequent first', parameters: TIME_PARAMETERS }, async (raw) => ({ types: await analytics.types(eventFilterParams(raw)) }))
  analysisRoute('activity', { description: 'What times the events come in: counts by hour of day and weekday (UTC)', parameters: TIME_PARAMETERS }, async (raw) => analytics.activity(eventFilterParams(raw)))
  analysisRoute('uniques', {
    description: 'Unique users per day and over the range',
    parameters: { ...TIME_PARAMETERS, approximate: 'true for the fast estimate (HyperLogLog on DuckDB, uniq on ClickHouse); default exact' },
  }, async (raw) => analytics.uniques(eventFilterParams(raw), booleanParam(raw, 'approximate')))
  analysisRoute('users', { description: 'How many events by user, most active first', parameters: { ...TIME_PARAMETERS, page: 'Which page to show', limit: 'How many users per page' } }, async (raw) =>
    analytics.eventsPerUser(eventFilterParams(raw), pageParams(raw, maxPageLimit)),
  )
  analysisRoute('flows', { description: 'From which event to which event users go next: counts of A followed next by B, per user', parameters: { ...TIME_PARAMETERS, limit: 'How many pairs, most frequent first (default 20)' } }, async (raw) => ({
    flows: await analytics.flows(eventFilterParams(raw), integerParam(raw, 'limit', 1, MAX_FLOWS_LIMIT) ?? 20),
  }))
  analysisRoute('funnel', {
    description: 'Users reaching each of ordered steps within a conversion window; conversion and drop-off per step',
    required: ['steps'],
    parameters: { bucket: TIME_PARAMETERS.bucket, startDate: TIME_PARAMETERS.startDate, endDate: TIME_PARAMETERS.endDate, steps: 'Event types in order (an array, or the parameter repeated)', window: 'Conversion window in seconds from the first step (default 86400)' },
  }, async (raw) => {
    const { filter, steps, windowMs } = funnelParams(raw)
    return analytics.funnel(filter, steps, windowMs)
  })
}

/**
 * The plugin as EventServer routes: the server's store and clock; the server
 * already answers CORS preflights for every URL.
 */
export const analyticsEventServerRoutes: EventServerRoutes = {
  name: 'analytics',
  async plugin(app, context) {
    await analyticsRoutes(app, { store: context.store, now: context.now, cors: false, help: false, commit: (events) => context.ingest.commit(events) })
  },
}
