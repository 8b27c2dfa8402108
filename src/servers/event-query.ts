/**
 * The query string of `GET /events.json` as a RangeQuery, and the page
 * cursor. Keys are written as JSON (`from="a"`, `prefix=["user-17"]`); every
 * parameter is checked here, and a bad one is a 400 naming it.
 */
import { BadRequestError } from '../errors.js'
import { requiredBucket } from '../formats/bucket.js'
import { compareEncodedKeys, encodeKeyFromJsonText, keyjsonBase64Decode, keyjsonBase64Encode, keyPrefixRangeFromJsonText } from '../formats/keyjson.js'
import type { RangeQuery } from '../store/event-store.js'

/** The parameters `GET /events.json` understands; any other one is a 400 (a typo must not widen a read). */
export const EVENTS_QUERY_PARAMETERS = ['bucket', 'from', 'to', 'prefix', 'serverTimeFrom', 'serverTimeTo', 'clientTimeFrom', 'clientTimeTo', 'type', 'limit', 'cursor'] as const

/** Cursors start with this, so one from another version is refused instead of misread. */
const CURSOR_VERSION = 'k1.'

export type Query = Record<string, string | string[] | undefined>

function values(query: Query, name: string): string[] {
  const raw = query[name]
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
}

function single(query: Query, name: string): string | undefined {
  const all = values(query, name)
  if (all.length > 1) throw new BadRequestError(400, `${name} must appear at most once in the query string`)
  return all[0]
}

/** The `limit` query parameter of every read: an integer from 1 to `max` (digits only); `fallback` when absent. */
export function limitParam(query: Query, max: number): number | undefined
export function limitParam(query: Query, max: number, fallback: number): number
export function limitParam(query: Query, max: number, fallback?: number): number | undefined {
  const text = single(query, 'limit')
  if (text === undefined) return fallback
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new BadRequestError(400, `limit must be an integer from 1 to ${max}, got ${JSON.stringify(text)}`)
  return Number(text)
}

function time(query: Query, name: string): number | undefined {
  const text = single(query, name)
  if (text === undefined) return undefined
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new BadRequestError(400, `${name} must be an integer number of ms since 1970, got ${JSON.stringify(text)}`)
  return Number(text)
}

function later(a: Uint8Array | undefined, b: Uint8Array): Uint8Array {
  return a === undefined || compareEncodedKeys(b, a) > 0 ? b : a
}

function earlier(a: Uint8Array | undefined, b: Uint8Array): Uint8Array {
  return a === undefined || compareEncodedKeys(b, a) < 0 ? b : a
}

/** A cursor names the last key of a page; the next page starts after it. */
export function encodeCursor(lastKey: Uint8Array): string {
  return CURSOR_VERSION + keyjsonBase64Encode(lastKey)
}

export function decodeCursor(cursor: string): Uint8Array {
  if (!cursor.startsWith(CURSOR_VERSION)) throw new BadRequestError(400, 'cursor is not one this server gave out; pass nextCursor from the previous page unchanged')
  try {
    return keyjsonBase64Decode(cursor.slice(CURSOR_VERSION.length))
  } catch {
    throw new BadRequestError(400, 'cursor is damaged; pass nextCursor from the previous page unchanged')
  }
}

/**
 * The read a query string asks for. `from`, `to` and `prefix` combine (the
 * read is their intersection); times are [from, to) in ms; `type` repeats.
 */
export function rangeQueryOf(query: Query, maxLimit: number): RangeQuery {
  for (const name of Object.keys(query)) {
    if (!(EVENTS_QUERY_PARAMETERS as readonly string[]).includes(name)) {
      throw new BadRequestError(400, `unknown parameter ${JSON.stringify(name)}; /events.json takes ${EVENTS_QUERY_PARAMETERS.join(', ')}`)
    }
  }
  const range: RangeQuery = { bucket: requiredBucket(values(query, 'bucket')) }
  const fromText = single(query, 'from')
  const toText = single(query, 'to')
  const prefixText = single(query, 'prefix')
  let from = fromText === undefined ? undefined : encodeKeyFromJsonText(fromText, 'from')
  let to = toText === undefined ? undefined : encodeKeyFromJsonText(toText, 'to')
  if (prefixText !== undefined) {
    const prefix = keyPrefixRangeFromJsonText(prefixText, 'prefix')
    from = later(from, prefix.from)
    to = earlier(to, prefix.to)
  }
  if (from !== undefined) range.from = from
  if (to !== undefined) range.to = to
  const cursor = single(query, 'cursor')
  if (cursor !== undefined) range.after = decodeCursor(cursor)
  const serverTimeFrom = time(query, 'serverTimeFrom')
  const serverTimeTo = time(query, 'serverTimeTo')
  const clientTimeFrom = time(query, 'clientTimeFrom')
  const clientTimeTo = time(query, 'clientTimeTo')
  if (serverTimeFrom !== undefined) range.serverTimeFrom = serverTimeFrom
  if (serverTimeTo !== undefined) range.serverTimeTo = serverTimeTo
  if (clientTimeFrom !== undefined) range.clientTimeFrom = clientTimeFrom
  if (clientTimeTo !== undefined) range.clientTimeTo = clientTimeTo
  const types = values(query, 'type')
  if (types.some((type) => type === '')) throw new BadRequestError(400, 'type must not be empty')
  if (types.length > 0) range.types = types
  const limit = limitParam(query, maxLimit)
  if (limit !== undefined) range.limit = limit
  return range
}
