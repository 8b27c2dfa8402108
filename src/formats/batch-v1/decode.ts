/**
 * Batch V1 reader side. Defensive: every length is bounded, the length prefix
 * must equal the encoded event's size, and an error names the byte offset of
 * the event that broke. Accepts every encoding formats/batch-v1.md allows:
 * integer or string map keys, base64 text or bin data, any uint width for the
 * length prefix.
 */
import { Decoder } from '@msgpack/msgpack'
import { BatchDecodeError } from '../../errors.js'
import { decodeEventFast } from './decode-fast.js'
import {
  Field,
  OUTCOME_NAMES,
  REQ_DATA_EVENT,
  REQ_END_EVENT,
  type HttpEvent,
  type RequestOutcome,
} from './http-events.js'

export interface BatchDecodeOptions {
  /** Largest encoded event accepted, in bytes. Default: 64 MiB. */
  maxEventBytes?: number
  /** Use the in-place fast path for the usual shapes (tests turn it off to compare). Default: true. */
  fastPath?: boolean
}

export const DEFAULT_MAX_EVENT_BYTES = 64 * 1024 * 1024

export interface DecodedEvent {
  event: HttpEvent
  /** Offset of the event's length prefix in the uncompressed batch. */
  offset: number
  /** Bytes taken by the event, prefix included. */
  size: number
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * The general decoder with the reader's text rule (formats/batch-v1.md §3.6):
 * every str is decoded as the WHATWG UTF-8 decoder does (each maximal invalid
 * subsequence becomes U+FFFD), the same call the fast path makes. The library's
 * own decoder turns invalid bytes into other text (even lone surrogates), so the
 * two paths would disagree on the same bytes.
 */
class BatchEventDecoder extends Decoder {}
interface DecoderInternals {
  bytes: Uint8Array
  pos: number
  maxStrLength: number
}
Object.defineProperty(BatchEventDecoder.prototype, 'decodeUtf8String', {
  value: function decodeUtf8String(this: DecoderInternals, byteLength: number, headerOffset: number): string {
    if (byteLength > this.maxStrLength) throw new RangeError(`Max length exceeded: UTF-8 byte length (${byteLength}) > maxStrLength (${this.maxStrLength})`)
    const start = this.pos + headerOffset
    if (this.bytes.byteLength < start + byteLength) throw new RangeError('Insufficient data')
    const bytes = this.bytes
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', start, start + byteLength)
    this.pos = start + byteLength
    return text
  },
})

/**
 * Reads a msgpack unsigned integer (any width) at `offset`: [value, bytes used].
 * The one reader of a frame's length prefix (the spool and the streamed batch reader use it too).
 */
export function readLengthPrefix(bytes: Buffer, offset: number): [number, number] {
  const first = bytes[offset]!
  if (first <= 0x7f) return [first, 1]
  const width = first === 0xcc ? 1 : first === 0xcd ? 2 : first === 0xce ? 4 : first === 0xcf ? 8 : 0
  if (width === 0) {
    throw new BatchDecodeError(offset, `length prefix is not a msgpack unsigned integer (first byte 0x${first.toString(16).padStart(2, '0')})`)
  }
  if (offset + 1 + width > bytes.byteLength) throw new BatchDecodeError(offset, 'truncated length prefix')
  const at = offset + 1
  const value =
    width === 1 ? bytes[at]! : width === 2 ? bytes.readUInt16BE(at) : width === 4 ? bytes.readUInt32BE(at) : Number(bytes.readBigUInt64BE(at))
  return [value, 1 + width]
}

function field(map: Record<string, unknown>, key: number): unknown {
  return map[key]
}

function requireInteger(map: Record<string, unknown>, key: number, name: string, offset: number): number {
  const value = field(map, key)
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new BatchDecodeError(offset, `field ${key} (${name}) must be a non-negative integer, got ${describe(value)}`)
  }
  return value
}

function optionalString(map: Record<string, unknown>, key: number, name: string, offset: number): string {
  const value = field(map, key)
  if (value === undefined || value === null) return ''
  if (typeof value !== 'string') throw new BatchDecodeError(offset, `field ${key} (${name}) must be a string, got ${describe(value)}`)
  return value
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `bin(${value.byteLength})`
  if (value === null) return 'nil'
  return Array.isArray(value) ? 'array' : typeof value
}

function decodeData(value: unknown, offset: number): Uint8Array {
  // A copy: msgpack hands out a view of the whole batch, which an open request would keep alive.
  if (value instanceof Uint8Array) return Uint8Array.prototype.slice.call(value)
  if (typeof value === 'string') {
    if (!BASE64.test(value) || value.length % 4 === 1) throw new BatchDecodeError(offset, 'field 4 (data) is not standard base64')
    return Buffer.from(value, 'base64')
  }
  throw new BatchDecodeError(offset, `field 4 (data) must be base64 text or bin, got ${describe(value)}`)
}

function decodeHeaders(value: unknown, offset: number): Record<string, string> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new BatchDecodeError(offset, `field 9 (headers) must be a map, got ${describe(value)}`)
  }
  const headers: Record<string, string> = {}
  for (const [name, text] of Object.entries(value as Record<string, unknown>)) {
    if (typeof text !== 'string') throw new BatchDecodeError(offset, `header ${JSON.stringify(name)} must be a string`)
    headers[name] = text
  }
  return headers
}

function toEvent(map: Record<string, unknown>, offset: number): HttpEvent {
  const type = field(map, Field.eventType)
  const reqId = requireInteger(map, Field.reqId, 'reqId', offset)
  const serverTime = requireInteger(map, Field.serverTime, 'server time', offset)
  if (type === REQ_DATA_EVENT) {
    return { type: REQ_DATA_EVENT, reqId, serverTime, data: decodeData(field(map, Field.data), offset) }
  }
  if (type === REQ_END_EVENT) {
    const outcome = field(map, Field.outcome) ?? 0
    if (typeof outcome !== 'number' || !(outcome in OUTCOME_NAMES)) {
      throw new BatchDecodeError(offset, `field 10 (outcome) must be one of ${Object.keys(OUTCOME_NAMES).join(', ')}, got ${String(outcome)}`)
    }
    return {
      type: REQ_END_EVENT,
      reqId,
      serverTime,
      ip: optionalString(map, Field.ip, 'remote IP', offset),
      contentType: optionalString(map, Field.contentType, 'content-type', offset),
      path: optionalString(map, Field.path, 'path', offset),
      method: optionalString(map, Field.method, 'method', offset),
      headers: decodeHeaders(field(map, Field.headers), offset),
      outcome: outcome as RequestOutcome,
    }
  }
  throw new BatchDecodeError(offset, `field 1 (event type) must be ${REQ_DATA_EVENT} or ${REQ_END_EVENT}, got ${String(type)}`)
}

/**
 * Decodes an uncompressed batch event by event. Yields every good event
 * before throwing a BatchDecodeError at the first bad one, so a caller keeps
 * what came before the damage.
 */
export function* decodeBatchV1(bytes: Uint8Array, options: BatchDecodeOptions = {}): Generator<DecodedEvent> {
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES
  const fastPath = options.fastPath ?? true
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const decoder = new BatchEventDecoder({ maxStrLength: maxEventBytes, maxBinLength: maxEventBytes, maxMapLength: 0xffff, maxArrayLength: 0xffff })
  let offset = 0
  while (offset < bytes.byteLength) {
    const [length, prefixBytes] = readLengthPrefix(buffer, offset)
    if (length > maxEventBytes) throw new BatchDecodeError(offset, `event of ${length} bytes is over the ${maxEventBytes}-byte limit`)
    const start = offset + prefixBytes
    const end = start + length
    if (end > bytes.byteLength) {
      throw new BatchDecodeError(offset, `truncated event: the prefix says ${length} bytes, ${bytes.byteLength - start} remain`)
    }
    const fast = fastPath ? decodeEventFast(buffer, start, end) : undefined
    if (fast) {
      yield { event: fast, offset, size: end - offset }
      offset = end
      continue
    }
    let decoded: unknown
    try {
      decoded = decoder.decode(bytes.subarray(start, end))
    } catch (err) {
      // RangeError: the decoder ran off the end of the slice the prefix gave it, or found bytes left over.
      const message = (err as Error).message
      const reason = /^Extra /.test(message)
        ? `length prefix ${length} is larger than the encoded event`
        : err instanceof RangeError
          ? `length prefix ${length} is smaller than the encoded event`
          : `event is not valid msgpack (${message})`
      throw new BatchDecodeError(offset, reason, { cause: err })
    }
    if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded) || decoded instanceof Uint8Array) {
      throw new BatchDecodeError(offset, `event must be a msgpack map, got ${describe(decoded)}`)
    }
    yield { event: toEvent(decoded as Record<string, unknown>, offset), offset, size: end - offset }
    offset = end
  }
}
