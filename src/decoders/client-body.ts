/**
 * Reading a client's body and fields, the same way for every analytics
 * format: gzip decided by Content-Encoding and by the bytes themselves (never
 * by Content-Type: a common Node client sends gzipped JSON labelled
 * `application/x-www-form-urlencoded`), base64 in either alphabet, `data=`
 * forms, times, Basic auth and event keys.
 */
import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { ClientRequestError } from '../errors.js'
import { checkKey, MAX_KEY_BYTES } from '../formats/keyjson.js'
import type { ClientRequest } from './client-request.js'
import { JsonDocument, JsonTextError } from './json-text.js'

/** Largest body a client decoder reads after decompression: far above any client's batch limit. */
export const MAX_DECODED_BODY_BYTES = 8 * 1024 * 1024

const GZIP_MAGIC_0 = 0x1f
const GZIP_MAGIC_1 = 0x8b

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1
}

/**
 * The body as text: gunzipped when Content-Encoding says gzip, when the query
 * says `compression=gzip`/`gzip-js` (posthog-js), or when it starts with the
 * gzip magic bytes. Anything else is read as UTF-8.
 */
export function bodyText(format: string, request: ClientRequest, url: URL): string {
  const encoding = (request.headers['content-encoding'] ?? '').trim().toLowerCase()
  const compression = url.searchParams.get('compression') ?? ''
  let bytes = request.body
  if (encoding === 'gzip' || compression === 'gzip' || compression === 'gzip-js' || isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_DECODED_BODY_BYTES })
    } catch (err) {
      const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
      throw new ClientRequestError(
        format,
        tooLarge ? 413 : 400,
        tooLarge ? `gzip body inflates past ${MAX_DECODED_BODY_BYTES} bytes` : `body is not valid gzip: ${(err as Error).message}`,
      )
    }
  } else if (encoding !== '' && encoding !== 'identity') {
    throw new ClientRequestError(format, 415, `Content-Encoding ${JSON.stringify(encoding)} is not supported (gzip or none)`)
  }
  if (bytes.byteLength > MAX_DECODED_BODY_BYTES) throw new ClientRequestError(format, 413, `body is ${bytes.byteLength} bytes; the limit is ${MAX_DECODED_BODY_BYTES}`)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}

/** Parses JSON text, answering 400 with the parser's reason when it is not JSON. */
export function jsonDocument(format: string, text: string, what = 'body'): JsonDocument {
  try {
    return new JsonDocument(text)
  } catch (err) {
    if (err instanceof JsonTextError) throw new ClientRequestError(format, 400, `${what}: ${err.message}`)
    throw err
  }
}

/** True when the text (after leading whitespace) starts like a JSON object or array. */
export function looksLikeJson(text: string): boolean {
  const first = text.trimStart()[0]
  return first === '{' || first === '['
}

/**
 * Decodes base64 in the standard or the URL-safe alphabet, padded or not.
 * Strict: any other character is an error (Buffer.from would skip it silently).
 */
export function decodeBase64(format: string, text: string, what: string): string {
  const trimmed = text.trim()
  if (!/^[A-Za-z0-9+/\-_]*={0,2}$/.test(trimmed)) {
    const bad = trimmed.search(/[^A-Za-z0-9+/\-_=]/)
    throw new ClientRequestError(format, 400, `${what} is neither JSON nor base64 (character ${JSON.stringify(trimmed[bad] ?? '=')} at offset ${bad})`)
  }
  return Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')
}

/**
 * The fields of an `application/x-www-form-urlencoded` text. A `+` stays a
 * `+`: the clients that send base64 in `data=` (mixpanel for Node) do not
 * escape it, and a base64 value never holds a space.
 */
export function formFields(format: string, text: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const part of text.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = eq < 0 ? part : part.slice(0, eq)
    const raw = eq < 0 ? '' : part.slice(eq + 1)
    try {
      fields.set(decodeURIComponent(name), decodeURIComponent(raw))
    } catch {
      throw new ClientRequestError(format, 400, `form field ${JSON.stringify(name)} has a bad %-escape`)
    }
  }
  return fields
}

/** The username of `Authorization: Basic base64(user:password)`, or undefined without Basic auth. */
export function basicAuthUser(headers: Readonly<Record<string, string>>): string | undefined {
  const header = headers['authorization']
  if (!header) return undefined
  const match = /^\s*basic\s+(\S+)\s*$/i.exec(header)
  if (!match) return undefined
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const user = colon < 0 ? decoded : decoded.slice(0, colon)
  return user === '' ? undefined : user
}

/** The token of `Authorization: Bearer T`, or undefined. */
export function bearerToken(headers: Readonly<Record<string, string>>): string | undefined {
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(headers['authorization'] ?? '')
  return match ? match[1] : undefined
}

/**
 * A time the client sent: an ISO 8601 string (what Segment, PostHog and
 * Grouparoo send) or a number of ms since 1970. Returns ms; throws 400 naming
 * the field for anything else.
 */
export function parseTime(format: string, value: unknown, field: string): number {
  let ms: number
  if (typeof value === 'number') ms = value
  else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) ms = Date.parse(value)
  else ms = NaN
  if (!Number.isFinite(ms) || ms < 0 || ms > 8.64e15) {
    throw new ClientRequestError(format, 400, `${field} ${JSON.stringify(value)} is not a time (an ISO 8601 string or ms since 1970)`)
  }
  return Math.round(ms)
}

/**
 * Clock-skew correction as Segment documents it: the client's clock is off by
 * (its send time − our receive time), so the event happened at
 * eventTime + (receiveTime − sentAt). Without a send time nothing is corrected.
 */
export function correctedTimes(eventTime: number, sentAt: number | undefined, receivedAt: number): { clientTime: number; originalClientTime: number | null } {
  if (sentAt === undefined) return { clientTime: eventTime, originalClientTime: null }
  return { clientTime: Math.max(0, eventTime + (receivedAt - sentAt)), originalClientTime: eventTime }
}

/** An id the client sent (string or number), as text; undefined when absent, null or empty. */
export function idText(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

/**
 * The text of a client id usable as a key (formats/keyjson.md: no U+0000, no
 * lone surrogate, at most MAX_KEY_BYTES encoded). Throws 400 naming the field otherwise.
 */
export function clientIdKeyText(format: string, id: string, field: string): string {
  const violation = checkKey(id) ?? (Buffer.byteLength(id) + 1 > MAX_KEY_BYTES ? { reason: `over ${MAX_KEY_BYTES - 1} bytes` } : undefined)
  if (violation) throw new ClientRequestError(format, 400, `${field} ${JSON.stringify(id.slice(0, 80))} cannot be an event key: ${violation.reason}`)
  return id
}

/**
 * The key of an event without a client id: named after the request that
 * carried it (serverToken and reqId name a request globally) and its place in
 * it, so reading the same logged request twice gives the same keys.
 */
export function requestKeyText(request: ClientRequest, index: number): string {
  return `${request.serverToken}/${request.reqId}/${index}`
}

/**
 * A UUID in version-4 form derived from a name: the SHA-256 of the name, with
 * the version and variant bits set. Unique as long as the names are, and the
 * same every time a name is read again.
 */
export function uuidFromName(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
