/**
 * eventbuf-v2: one event is a msgpack length prefix followed by five msgpack
 * fields and a 4-byte sha1 checksum; a stream of events is their concatenation.
 * The byte layout, and why it is this one, is in formats/eventbuf-v2.md.
 */
import { hash } from 'node:crypto'
import { Decoder, Encoder } from '@msgpack/msgpack'
import { EventDecodeError } from '../errors.js'
import { checkClientTime, checkKey, checkType, checkValueNode, validateEvent, type EventKey, type EventType, type LogEvent, type ReceivedEvent, type RuleViolation } from './json-events.js'
import { JsonTextError, MAX_JSON_DEPTH, scanJson, utf8Offset } from './json-text.js'
import { msgpackUintWidth, readUintBytes } from './msgpack-uint.js'

export const EVENTBUF_V2_CONTENT_TYPE = 'application/eventbuf-v2'
export const EVENTBUF_V2_VERSION = 0x02
/** The checksum field: msgpack bin 8 (0xc4) of length 4, then the first 4 bytes of the sha1. */
const CHECKSUM_HEADER = [0xc4, 0x04] as const
const CHECKSUM_FIELD_BYTES = 6
/** Smallest possible body (version, 3 bins, client time, checksum): 1 + 3 + 3 + 4 + 1 + 6. */
export const EVENTBUF_V2_MIN_BODY_BYTES = 18
/** Default largest body (bytes after the length prefix) a reader accepts: 1 MiB. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024

const encoder = new Encoder()

function sha1Prefix(bytes: Uint8Array): Buffer {
  // The one-shot hash (Node >= 20.12) costs far less per event than createHash/update/digest.
  return hash('sha1', bytes, 'buffer').subarray(0, 4)
}

/** Encodes one event. It must be valid (validateEvent); an invalid one throws EventValidationError. */
export function encodeEventbufV2(event: LogEvent, index = 0): Uint8Array {
  validateEvent(event, index)
  const valueJson = new TextEncoder().encode(JSON.stringify(event.value))
  const fields = [
    encoder.encode(EVENTBUF_V2_VERSION),
    encoder.encode(encoder.encode(event.key)),
    encoder.encode(encoder.encode(event.type)),
    encoder.encode(valueJson),
    encoder.encode(event.clientTime),
  ]
  const hashed = Buffer.concat(fields)
  const checksum = encoder.encode(sha1Prefix(hashed))
  const length = encoder.encode(hashed.length + checksum.length)
  return Buffer.concat([length, hashed, checksum])
}

/** Encodes events back to back ("eventbuf-v2 events"). */
export function encodeEventbufV2Events(events: readonly LogEvent[]): Uint8Array {
  return Buffer.concat(events.map((event, index) => encodeEventbufV2(event, index)))
}

export interface EventbufV2DecoderOptions {
  /** Largest body (bytes after the length prefix) accepted. Default: DEFAULT_MAX_EVENT_BYTES (1 MiB). */
  maxEventBytes?: number
  /** Most events accepted in the whole stream. Default: Infinity. */
  maxEvents?: number
}

type Prefix = { kind: 'need-more' } | { kind: 'ok'; bytes: number; length: number } | { kind: 'bad'; reason: string }

/** Reads the length prefix: a msgpack unsigned integer in any width (src/formats/msgpack-uint.ts). */
function readLengthPrefix(buffer: Uint8Array, at: number, maxEventBytes: number): Prefix {
  const head = buffer[at]!
  const width = msgpackUintWidth(head)
  if (width < 0) return { kind: 'bad', reason: `length prefix starts with 0x${head.toString(16).padStart(2, '0')}, which is not a msgpack unsigned integer` }
  if (width === 0) return { kind: 'ok', bytes: 1, length: head }
  if (buffer.length - at < 1 + width) return { kind: 'need-more' }
  // Exact up to 2^53; anything near that is far above any limit anyway.
  const length = readUintBytes(buffer, at + 1, width)
  if (length > maxEventBytes) return { kind: 'bad', reason: `length ${length} is over the limit of ${maxEventBytes} bytes` }
  return { kind: 'ok', bytes: 1 + width, length }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Map keys (object member names in a key) are strict UTF-8 strings; the library's default decoder is lenient. */
const strictKeyDecoder = {
  canBeCached: (): boolean => true,
  decode(bytes: Uint8Array, offset: number, length: number): string {
    try {
      return strictUtf8.decode(bytes.subarray(offset, offset + length))
    } catch {
      throw new Error('a map key is not valid UTF-8')
    }
  },
}
function stringMapKey(key: unknown): string {
  if (typeof key !== 'string') throw new Error(`a map key is ${typeof key}; object keys have string member names`)
  return key
}
const decoderOptions = { keyDecoder: strictKeyDecoder, mapKeyConverter: stringMapKey }
const fieldDecoder = new Decoder(decoderOptions)
/** The same fields with str contents left as bytes, to check them as strict UTF-8 (the default decoder replaces bad bytes). */
const rawStringDecoder = new Decoder({ ...decoderOptions, rawStrings: true })

function describe(value: unknown): string {
  if (value === null) return 'nil'
  if (value instanceof Uint8Array) return 'a byte string (bin)'
  if (value instanceof Date) return 'a timestamp extension'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'a map or extension' : `a ${typeof value}`
}

/** Checks that a decoded str was valid UTF-8 (`raw` is the same field decoded with rawStrings). */
function checkStrictString(value: unknown, raw: unknown, field: string): void {
  if (value instanceof Uint8Array) throw new Error(`${field} holds a byte string (bin); keys and types hold str`)
  if (typeof value !== 'string') return
  try {
    strictUtf8.decode(raw as Uint8Array)
  } catch {
    throw new Error(`${field} string is not valid UTF-8`)
  }
}

/**
 * Decodes the msgpack value held in a key or type bin: exactly one msgpack value,
 * strings strict UTF-8, including those inside an array or map (keys may be one
 * level deep; deeper ones are refused by the key rules).
 */
function decodeInner(bytes: Uint8Array, field: 'key' | 'type'): unknown {
  let value: unknown
  try {
    value = fieldDecoder.decode(bytes)
  } catch (err) {
    throw new Error(`${field} bytes are not exactly one msgpack value (${(err as Error).message})`)
  }
  if (typeof value === 'string') {
    // A lone str (the common key and type): its bytes follow the header, check them in place.
    const head = bytes[0]!
    const header = head <= 0xbf ? 1 : head === 0xd9 ? 2 : head === 0xda ? 3 : 5
    checkStrictString(value, bytes.subarray(header), field)
    return value
  }
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) {
    checkStrictString(value, undefined, field)
    return value
  }
  let raw: unknown
  try {
    raw = rawStringDecoder.decode(bytes)
  } catch (err) {
    throw new Error(`${field} bytes are not exactly one msgpack value (${(err as Error).message})`)
  }
  if (Array.isArray(value)) value.forEach((element, i) => checkStrictString(element, (raw as unknown[])[i], `${field} element ${i}`))
  else if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    for (const [name, member] of Object.entries(value)) checkStrictString(member, (raw as Record<string, unknown>)[name], `${field} member ${JSON.stringify(name)}`)
  }
  return value
}

/** A broken event rule as a decode reason, naming the rule (formats/json-events.md). */
function ruleReason(violation: RuleViolation): string {
  return `${violation.reason} (rule ${violation.rule})`
}

/** Reads the value bin: UTF-8 JSON text of an object, within the depth and size limits; returns its exact text. */
function readValueText(valueBytes: Uint8Array): string {
  let text: string
  try {
    text = strictUtf8.decode(valueBytes)
  } catch {
    throw new Error('value is not UTF-8 JSON text (invalid UTF-8)')
  }
  let root
  try {
    root = scanJson(text, { maxDepth: MAX_JSON_DEPTH })
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err
    if (err.tooDeep) throw new Error(`value nests deeper than ${MAX_JSON_DEPTH} levels (rule value-depth)`)
    throw new Error(`value is not UTF-8 JSON text (${err.reason} at byte ${utf8Offset(text, err.offset)} of the value)`)
  }
  const problem = checkValueNode(root, text)
  if (problem) throw new Error(ruleReason(problem))
  return text.slice(root.start, root.end)
}

/** Turns the body (bytes after the length prefix) into an event, or throws an Error whose message is the reason. */
function decodeBody(body: Uint8Array): ReceivedEvent {
  if (body[0] !== EVENTBUF_V2_VERSION) {
    throw new Error(`version byte is 0x${body[0]!.toString(16).padStart(2, '0')}, expected 0x02`)
  }
  const checksumAt = body.length - CHECKSUM_FIELD_BYTES
  if (body[checksumAt] !== CHECKSUM_HEADER[0] || body[checksumAt + 1] !== CHECKSUM_HEADER[1]) {
    throw new Error('the last 6 bytes are not a checksum field (0xc4 0x04 and 4 bytes); the length prefix or the fields are wrong')
  }
  const hashed = body.subarray(0, checksumAt)
  if (!sha1Prefix(hashed).equals(body.subarray(checksumAt + 2))) throw new Error('checksum mismatch')

  const fields: unknown[] = []
  try {
    for (const field of fieldDecoder.decodeMulti(hashed)) {
      fields.push(field)
      if (fields.length > 5) break
    }
  } catch (err) {
    throw new Error(`field ${fields.length + 1} is not valid msgpack (${(err as Error).message})`)
  }
  if (fields.length !== 5) throw new Error(`expected 5 fields before the checksum, found ${fields.length > 5 ? 'more' : fields.length}`)
  const [, keyBytes, typeBytes, valueBytes, clientTime] = fields
  if (!(keyBytes instanceof Uint8Array)) throw new Error(`key field is ${describe(keyBytes)}, expected a bin holding msgpack`)
  if (!(typeBytes instanceof Uint8Array)) throw new Error(`type field is ${describe(typeBytes)}, expected a bin holding msgpack`)
  if (!(valueBytes instanceof Uint8Array)) throw new Error(`value field is ${describe(valueBytes)}, expected a bin holding JSON`)

  const key = decodeInner(keyBytes, 'key')
  const keyProblem = checkKey(key)
  if (keyProblem) throw new Error(ruleReason(keyProblem))
  const type = decodeInner(typeBytes, 'type')
  const typeProblem = checkType(type)
  if (typeProblem) throw new Error(typeof type === 'object' && type !== null ? `type is ${describe(type)} (rule type-value)` : ruleReason(typeProblem))
  const value = readValueText(valueBytes)
  const timeProblem = checkClientTime(clientTime)
  if (timeProblem) throw new Error(typeof clientTime === 'object' ? `clientTime is ${describe(clientTime)} (rule client-time)` : ruleReason(timeProblem))

  return { key: key as EventKey, type: type as EventType, value, clientTime: clientTime as number }
}

/**
 * Streaming decoder for concatenated eventbuf-v2 events. `push` each chunk as
 * it arrives and get back the events completed by it; `end` when the input is
 * over. The first bad event throws EventDecodeError with its byte offset in the
 * whole stream; after that the decoder is unusable.
 */
export class EventbufV2Decoder {
  readonly maxEventBytes: number
  readonly maxEvents: number
  #pending: Uint8Array = new Uint8Array(0)
  /** Stream offset of #pending[0]. */
  #offset = 0
  #index = 0
  #failed: EventDecodeError | undefined

  constructor(options: EventbufV2DecoderOptions = {}) {
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES
    this.maxEvents = options.maxEvents ?? Infinity
  }

  /** Events decoded so far. */
  get count(): number {
    return this.#index
  }

  push(chunk: Uint8Array): ReceivedEvent[] {
    if (this.#failed) throw this.#failed
    const buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    const events: ReceivedEvent[] = []
    let at = 0
    while (at < buffer.length) {
      const prefix = readLengthPrefix(buffer, at, this.maxEventBytes)
      if (prefix.kind === 'need-more') break
      if (prefix.kind === 'bad') this.#fail(at, prefix.reason)
      const { bytes, length } = prefix as { bytes: number; length: number }
      if (length < EVENTBUF_V2_MIN_BODY_BYTES) this.#fail(at, `length ${length} is below the minimum of ${EVENTBUF_V2_MIN_BODY_BYTES}`)
      if (this.#index >= this.maxEvents) this.#fail(at, `more than ${this.maxEvents} events`)
      if (buffer.length - at - bytes < length) break
      try {
        events.push(decodeBody(buffer.subarray(at + bytes, at + bytes + length)))
      } catch (err) {
        this.#fail(at, (err as Error).message, err)
      }
      at += bytes + length
      this.#index++
    }
    this.#offset += at
    // Copy the remainder so a caller reusing its chunk buffer cannot change it under us.
    this.#pending = at === buffer.length ? new Uint8Array(0) : Uint8Array.prototype.slice.call(buffer, at)
    return events
  }

  /** Ends the stream; throws when it stops inside an event. */
  end(): void {
    if (this.#failed) throw this.#failed
    if (this.#pending.length > 0) {
      const prefix = readLengthPrefix(this.#pending, 0, this.maxEventBytes)
      const detail = prefix.kind === 'ok' ? `${this.#pending.length - prefix.bytes} of ${prefix.length} bytes` : `${this.#pending.length} bytes of a length prefix`
      this.#fail(0, `truncated event: the input ends after ${detail}`)
    }
  }

  #fail(at: number, reason: string, cause?: unknown): never {
    this.#failed = new EventDecodeError(this.#offset + at, this.#index, reason, cause === undefined ? undefined : { cause })
    throw this.#failed
  }
}

/** Decodes a complete buffer of concatenated events; each value is its exact JSON text. */
export function decodeEventbufV2(bytes: Uint8Array, options?: EventbufV2DecoderOptions): ReceivedEvent[] {
  const decoder = new EventbufV2Decoder(options)
  const events = decoder.push(bytes)
  decoder.end()
  return events
}

/** Decodes events from a stream of chunks (a node Readable, a web stream, any async iterable). */
export async function* decodeEventbufV2Stream(chunks: AsyncIterable<Uint8Array>, options?: EventbufV2DecoderOptions): AsyncGenerator<ReceivedEvent> {
  const decoder = new EventbufV2Decoder(options)
  for await (const chunk of chunks) yield* decoder.push(chunk)
  decoder.end()
}
