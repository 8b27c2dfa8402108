/**
 * The parameters of the analytics endpoints, read from a query string or a
 * JSON body (both give a plain object) into typed values in one place. A bad
 * value throws BadRequestError (400) whose reason names the parameter.
 *
 * Time filters follow seed 003: `startDate` and `endDate` are Unix seconds,
 * both inclusive, empty or absent means unbounded; they select on the event
 * time (`ts`, the store's client_time).
 */
import { BadRequestError } from '../errors.js'
import { bucketFromQuery } from '../formats/bucket.js'

/** Bucket used when a request names none. */
export const DEFAULT_ANALYTICS_BUCKET = 'default'
/** Page size when `limit` is absent. */
export const DEFAULT_PAGE_LIMIT = 100
/** Largest `limit` accepted; larger ones get 400 rather than a silently shorter page. */
export const MAX_PAGE_LIMIT = 1000
/** Most event types in one `eventType` filter or funnel. */
export const MAX_TYPES_IN_FILTER = 100
/** Most steps in one funnel. */
export const MAX_FUNNEL_STEPS = 20
/** Conversion window of a funnel when none is given, seconds. Default: 1 day. */
export const DEFAULT_FUNNEL_WINDOW_SECONDS = 86_400
const MAX_TYPE_LENGTH = 1024

export type Granularity = 'hour' | 'minute' | 'second'
export const GRANULARITIES: readonly Granularity[] = ['hour', 'minute', 'second']
export const GRANULARITY_MS: Readonly<Record<Granularity, number>> = { hour: 3_600_000, minute: 60_000, second: 1000 }

/** Which events an analysis looks at. Times are ms since 1970, `[fromMs, toMs)`. */
export interface EventFilter {
  bucket: string
  fromMs?: number
  toMs?: number
  /** Only these types (the `type` column's text). */
  types?: string[]
}

export interface PageParams {
  /** 1-based. */
  page: number
  limit: number
}

export type RawParams = Record<string, unknown>

function fail(field: string, message: string): never {
  throw new BadRequestError(400, `${field}: ${message}`)
}

/** A query string gives strings or arrays of strings; a JSON body gives anything. */
function single(raw: RawParams, field: string): unknown {
  const value = raw[field]
  if (Array.isArray(value) && typeof value[0] === 'string') {
    if (value.length > 1) fail(field, 'must appear once')
    return value[0]
  }
  return value
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === ''
}

/** An integer from a JSON number or a query-string decimal; undefined when absent or empty. */
export function integerParam(raw: RawParams, field: string, min: number, max: number): number | undefined {
  const value = single(raw, field)
  if (isEmpty(value)) return undefined
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN
  if (!Number.isSafeInteger(number)) fail(field, `must be an integer, got ${JSON.stringify(value)}`)
  if (number < min || number > max) fail(field, `must be between ${min} and ${max}, got ${number}`)
  return number
}

function unixSecondsParam(raw: RawParams, field: string): number | undefined {
  const value = single(raw, field)
  if (isEmpty(value)) return undefined
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN
  if (!Number.isFinite(number) || number < 0 || number > 253_402_300_799) fail(field, `must be a Unix time in seconds (0..253402300799), got ${JSON.stringify(value)}`)
  return number
}

export function bucketParam(raw: RawParams): string {
  const value = raw.bucket
  const values = value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]
  try {
    return bucketFromQuery(values) ?? DEFAULT_ANALYTICS_BUCKET
  } catch (err) {
    return fail('bucket', (err as Error).message)
  }
}

/** A list of event types: a string, an array of strings, or (query string) the parameter repeated. */
export function typeListParam(raw: RawParams, field: string, maxItems: number): string[] | undefined {
  const value = raw[field] ?? raw[`${field}[]`]
  if (isEmpty(value)) return undefined
  const list = Array.isArray(value) ? value : [value]
  if (list.length === 0) return undefined
  if (list.length > maxItems) fail(field, `at most ${maxItems} types, got ${list.length}`)
  return list.map((item, index) => {
    if (typeof item === 'number' && Number.isInteger(item) && item >= 0 && item <= 65535) return String(item)
    if (typeof item !== 'string' || item === '') fail(field, `item ${index} must be a non-empty string, got ${JSON.stringify(item)}`)
    if (item.length > MAX_TYPE_LENGTH) fail(field, `item ${index} is longer than ${MAX_TYPE_LENGTH} characters`)
    return item
  })
}

/** bucket, startDate, endDate and eventType. */
export function eventFilterParams(raw: RawParams, typeField = 'eventType'): EventFilter {
  const start = unixSecondsParam(raw, 'startDate')
  const end = unixSecondsParam(raw, 'endDate')
  if (start !== undefined && end !== undefined && start > end) fail('startDate', `is after endDate (${start} > ${end})`)
  const filter: EventFilter = { bucket: bucketParam(raw) }
  if (start !== undefined) filter.fromMs = Math.ceil(start * 1000)
  // endDate is inclusive to the end of its second.
  if (end !== undefined) filter.toMs = Math.floor(end) * 1000 + 1000
  const types = typeListParam(raw, typeField, MAX_TYPES_IN_FILTER)
  if (types !== undefined) filter.types = types
  return filter
}

export function pageParams(raw: RawParams, maxLimit = MAX_PAGE_LIMIT): PageParams {
  return {
    page: integerParam(raw, 'page', 1, 1_000_000) ?? 1,
    limit: integerParam(raw, 'limit', 1, maxLimit) ?? Math.min(DEFAULT_PAGE_LIMIT, maxLimit),
  }
}

export function granularityParam(raw: RawParams, allowed: readonly Granularity[], fallback: Granularity): Granularity {
  const value = single(raw, 'granularity')
  if (isEmpty(value)) return fallback
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) fail('granularity', `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`)
  return value as Granularity
}

export function booleanParam(raw: RawParams, field: string): boolean {
  const value = single(raw, field)
  if (isEmpty(value) || value === false || value === 'false' || value === '0') return false
  if (value === true || value === 'true' || value === '1') return true
  return fail(field, `must be true or false, got ${JSON.stringify(value)}`)
}

export interface FunnelParams {
  filter: EventFilter
  steps: string[]
  windowMs: number
}

export function funnelParams(raw: RawParams): FunnelParams {
  const filter = eventFilterParams(raw, 'eventType')
  if (filter.types !== undefined) fail('eventType', 'a funnel filters by its steps; leave eventType out')
  const steps = typeListParam(raw, 'steps', MAX_FUNNEL_STEPS)
  if (steps === undefined || steps.length < 2) fail('steps', 'a funnel needs at least 2 steps (event types, in order)')
  const windowSeconds = integerParam(raw, 'window', 1, 366 * 86_400) ?? DEFAULT_FUNNEL_WINDOW_SECONDS
  return { filter, steps, windowMs: windowSeconds * 1000 }
}
