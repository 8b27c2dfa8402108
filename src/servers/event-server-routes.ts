/**
 * How features put routes on the EventServer: each is an `EventServerRoutes`
 * (a name, an optional URL prefix, and a fastify plugin that receives the
 * server's context). The built-in list is EVENT_SERVER_ROUTES in
 * event-server.ts; more can be passed as `new EventServer({ routes: [...] })`.
 */
import type { FastifyInstance } from 'fastify'
import type { DirectIngest } from '../ingest/direct-ingest.js'
import type { RequestDecoderRegistry } from '../decoders/registry.js'
import type { EventServerMetrics } from '../ops/event-server-metrics.js'
import type { EventStore } from '../store/event-store.js'
import type { ServerLogger } from './logging-server.js'

/** Codes of errors that mean the store could not do it now: 503 with Retry-After, nothing was stored, the client may retry. */
export const STORE_UNAVAILABLE_CODES: ReadonlySet<string> = new Set(['LS_CLOSED', 'LS_STORE_UNAVAILABLE'])
/** Retry-After of such a 503, seconds. */
export const STORE_RETRY_AFTER_SECONDS = 1

export interface EventServerLimits {
  /** Largest request body, bytes. */
  bodyLimit: number
  /** Most events in one post. */
  maxEvents: number
  /** Largest `limit` a read may ask for. */
  maxPageLimit: number
}

/** What every route plugin gets: the open store and the shared pieces around it. */
export interface EventServerContext {
  /** The store, open while the server listens. */
  store: EventStore
  /** Decode-and-commit for requests received here (same decoders as the tailer). */
  ingest: DirectIngest
  decoders: RequestDecoderRegistry
  limits: EventServerLimits
  metrics: EventServerMetrics
  logger: ServerLogger
  /** The server clock, ms since 1970. */
  now: () => number
}

export interface EventServerRoutes {
  /** For messages and to refuse the same routes twice. */
  name: string
  /** URL prefix of every route of the plugin, e.g. `/api/analytics`. Default: none. */
  prefix?: string
  /**
   * Registers the routes on `app`, an encapsulated fastify scope: content-type
   * parsers and hooks added here stay here. Errors thrown by handlers get the
   * server's JSON error answers (`{error, reason}`) unless the plugin sets its own handler.
   */
  plugin(app: FastifyInstance, context: EventServerContext): Promise<void>
}
