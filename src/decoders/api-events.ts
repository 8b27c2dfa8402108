/**
 * Seed 003's `POST /api/events` body, `{"event_type": ..., "ts": <unix s>,
 * "params": {...}}`, to an EventRecord (formats/api-events.md has the rules
 * and the vectors in formats/vectors/api-events/). The value is the exact
 * text of `params`; the key is made by the server from where the request was
 * received (serverToken, reqId, index), so reading one logged request twice
 * gives the same key and the store keeps it once.
 */
import { BadRequestError, EventValidationError } from '../errors.js'
import { encodeKey, hasLoneSurrogate } from '../formats/keyjson.js'
import { JsonTextError, MAX_JSON_DEPTH, scanJson, type JsonNode } from '../formats/json-text.js'
import { eventRecord, type EventRecord } from '../model/event-record.js'
import type { RequestDecoder } from './request-decoder.js'

export const API_EVENTS_SOURCE = 'api-events'
export const API_EVENTS_PATH = '/api/events'
/** Largest body the decoder reads, bytes. Default: 1 MiB. */
export const DEFAULT_API_EVENT_MAX_BYTES = 1024 * 1024
const MAX_EVENT_TYPE_LENGTH = 1024
const MAX_TIME_MS = Number.MAX_SAFE_INTEGER
/** The fields of a body; any other is refused rather than dropped. */
export const API_EVENT_FIELDS = ['event_type', 'ts', 'params'] as const
/** Where the user id is looked for in params, first found wins. */
export const API_EVENT_USER_FIELDS = ['user', 'userId', 'distinct_id'] as const

/** Rule names of formats/api-events.md, and the field each one is about. */
export const API_EVENT_RULES = {
  'body-utf8': 'body',
  'body-json': 'body',
  'body-depth': 'body',
  'body-object': 'body',
  'body-fields': 'body',
  'event-type': 'event_type',
  ts: 'ts',
  'params-object': 'params',
} as const
export type ApiEventRule = keyof typeof API_EVENT_RULES

/** Where and when a body was received: these make the key and the server-side columns. */
export interface ApiEventContext {
  bucket: string
  /** Ms since 1970 when our server received it; also `ts` when the body has none. */
  serverTime: number
  /** The receiving server's token (a LoggingServer's, or the EventServer's own for direct posts). */
  serverToken: string
  /** The request's number on that server. */
  reqId: number
  /** The event's position in the request (0 for the one event of a body). Default: 0. */
  index?: number
  ip?: string | null
  producer?: string | null
}

export function apiEventKey(serverToken: string, reqId: number, index: number): Uint8Array {
  return encodeKey([API_EVENTS_SOURCE, serverToken, reqId, index])
}

function invalid(rule: ApiEventRule, reason: string): never {
  throw new EventValidationError(0, rule, `${API_EVENT_RULES[rule]}: ${reason}`)
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function userIdOf(params: Record<string, unknown>): string | null {
  for (const field of API_EVENT_USER_FIELDS) {
    const value = params[field]
    if (typeof value === 'string' && value !== '') return value
    if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  }
  return null
}

/**
 * The EventRecord of one body. Throws EventValidationError (LS_EVENT_INVALID,
 * `rule` names the broken rule, the reason starts with the field) or
 * BadRequestError (413) for a body over `maxBytes`.
 */
export function decodeApiEvent(body: Uint8Array, context: ApiEventContext, maxBytes = DEFAULT_API_EVENT_MAX_BYTES): EventRecord {
  if (body.byteLength > maxBytes) throw new BadRequestError(413, `body is ${body.byteLength} bytes; the limit is ${maxBytes}`)
  let text: string
  try {
    text = utf8.decode(body)
  } catch {
    return invalid('body-utf8', 'is not valid UTF-8')
  }
  // The formats layer's scanner checks syntax and depth in one pass, without recursion, so
  // JSON.parse never sees a body nested past the limit; it gives the exact text of params.
  let root: JsonNode
  try {
    root = scanJson(text, { maxDepth: MAX_JSON_DEPTH, keepLevels: 1 })
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err
    if (err.tooDeep) return invalid('body-depth', `nested deeper than ${MAX_JSON_DEPTH} levels at character ${err.offset}`)
    return invalid('body-json', `malformed JSON: ${err.message}`)
  }
  if (root.kind !== 'object') return invalid('body-object', 'must be a JSON object {"event_type": ..., "ts": ..., "params": {...}}')
  const spans = new Map<string, JsonNode>()
  for (const { name, node } of root.members!) {
    if (spans.has(name)) invalid('body-fields', `${JSON.stringify(name)} appears twice`)
    spans.set(name, node)
  }
  for (const name of spans.keys()) {
    if (!(API_EVENT_FIELDS as readonly string[]).includes(name)) invalid('body-fields', `unknown field ${JSON.stringify(name)}; the fields are ${API_EVENT_FIELDS.join(', ')}`)
  }
  const fields = JSON.parse(text) as Record<string, unknown>

  const type = fields.event_type
  if (type === undefined) invalid('event-type', 'is required')
  if (typeof type !== 'string' || type === '') invalid('event-type', `must be a non-empty string, got ${JSON.stringify(type)}`)
  if (type.length > MAX_EVENT_TYPE_LENGTH) invalid('event-type', `is longer than ${MAX_EVENT_TYPE_LENGTH} characters`)
  if (hasLoneSurrogate(type) || type.includes('\u0000')) invalid('event-type', 'must be well-formed Unicode without U+0000')

  let clientTime = context.serverTime
  if (fields.ts !== undefined && fields.ts !== null) {
    const ts = fields.ts
    if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0) invalid('ts', `must be a Unix time in seconds (a number >= 0), got ${JSON.stringify(ts)}`)
    clientTime = Math.round(ts * 1000)
    if (clientTime > MAX_TIME_MS) invalid('ts', `is too far in the future: ${ts}`)
  }

  let value = '{}'
  let params: Record<string, unknown> = {}
  if (fields.params !== undefined) {
    const raw = fields.params
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid('params-object', `must be a JSON object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`)
    params = raw as Record<string, unknown>
    const span = spans.get('params')!
    value = text.slice(span.start, span.end)
  }

  return eventRecord({
    bucket: context.bucket,
    key: apiEventKey(context.serverToken, context.reqId, context.index ?? 0),
    type,
    value,
    clientTime,
    serverTime: context.serverTime,
    userId: userIdOf(params),
    ip: context.ip ?? null,
    producer: context.producer ?? null,
    source: API_EVENTS_SOURCE,
  })
}

/**
 * A body for POST /api/events (what `logging-system gen` sends). `paramsJson`
 * is JSON text of an object, put in as is; `tsSeconds` is left out when undefined.
 */
export function encodeApiEventBody(eventType: string, tsSeconds?: number, paramsJson = '{}'): string {
  const ts = tsSeconds === undefined ? '' : `,"ts":${JSON.stringify(tsSeconds)}`
  return `{"event_type":${JSON.stringify(eventType)}${ts},"params":${paramsJson}}`
}

/**
 * The decoder for logged `POST /api/events` requests (the EventServer's
 * tailer, replay). The key comes from the logged request (serverToken, reqId),
 * so reading it again stores nothing new. Live requests (serverToken '') are
 * refused: every one would get the same key; the EventServer's analytics
 * routes decode those with its own token and request counter.
 */
export const apiEventsRequestDecoder: RequestDecoder = {
  name: API_EVENTS_SOURCE,
  paths: [API_EVENTS_PATH],
  contentTypes: ['application/json', 'text/plain'],
  methods: ['POST'],
  decode(request, url) {
    if (request.serverToken === '') throw new BadRequestError(400, `${API_EVENTS_PATH} needs a logged request (a serverToken) for its key; post live events to the EventServer's ${API_EVENTS_PATH}`)
    const bucket = url.searchParams.get('bucket') || 'default'
    return [decodeApiEvent(request.body, { bucket, serverTime: request.time, serverToken: request.serverToken, reqId: request.reqId, ip: request.ip === '' ? null : request.ip })]
  },
}
