/**
 * Fast path of the batch V1 reader for the event shapes writers produce:
 * reads the map in place instead of building a generic object first, and
 * turns base64 straight into bytes. Anything it does not expect (an unknown
 * key, a signed integer, nil, a float, a bad length) returns undefined and the
 * event goes to the general decoder, which accepts every encoding the spec
 * allows and words the errors. test/batch-v1-format.test.ts checks that both
 * paths decode every vector and random batches to the same events;
 * bench/replay-decode.js measures the gain.
 */
import { OUTCOME_NAMES, REQ_DATA_EVENT, REQ_END_EVENT, type HttpEvent, type RequestOutcome } from './http-events.js'

/** Reader state over one event's bytes; `pos` moves forward, -1 marks "not the fast shape". */
class Cursor {
  pos: number
  constructor(
    readonly bytes: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start
  }

  uint(): number {
    const bytes = this.bytes
    const p = this.pos
    if (p >= this.end) return -1
    const first = bytes[p]!
    if (first <= 0x7f) {
      this.pos = p + 1
      return first
    }
    const width = first === 0xcc ? 1 : first === 0xcd ? 2 : first === 0xce ? 4 : first === 0xcf ? 8 : 0
    if (width === 0 || p + 1 + width > this.end) return -1
    this.pos = p + 1 + width
    if (width === 1) return bytes[p + 1]!
    if (width === 2) return bytes.readUInt16BE(p + 1)
    if (width === 4) return bytes.readUInt32BE(p + 1)
    const high = bytes.readUInt32BE(p + 1)
    if (high > 0x1fffff) return -1 // past Number.MAX_SAFE_INTEGER
    return high * 0x100000000 + bytes.readUInt32BE(p + 5)
  }

  /** Length of a str at the cursor (the cursor moves past its header), or -1. */
  strLength(): number {
    const bytes = this.bytes
    const p = this.pos
    if (p >= this.end) return -1
    const first = bytes[p]!
    let length: number
    let header: number
    if ((first & 0xe0) === 0xa0) [length, header] = [first & 0x1f, 1]
    else if (first === 0xd9 && p + 2 <= this.end) [length, header] = [bytes[p + 1]!, 2]
    else if (first === 0xda && p + 3 <= this.end) [length, header] = [bytes.readUInt16BE(p + 1), 3]
    else if (first === 0xdb && p + 5 <= this.end) [length, header] = [bytes.readUInt32BE(p + 1), 5]
    else return -1
    if (p + header + length > this.end) return -1
    this.pos = p + header
    return length
  }

  str(): string | undefined {
    const length = this.strLength()
    if (length < 0) return undefined
    const start = this.pos
    this.pos += length
    return this.bytes.toString('utf8', start, start + length)
  }

  /** A map key "1".."10" (fixstr) or 1..10 (fixint): the field number, or -1. */
  field(): number {
    const bytes = this.bytes
    const p = this.pos
    if (p >= this.end) return -1
    const first = bytes[p]!
    if (first <= 0x7f) {
      this.pos = p + 1
      return first
    }
    if (first === 0xa1 && p + 2 <= this.end) {
      const digit = bytes[p + 1]! - 0x30
      if (digit < 1 || digit > 9) return -1
      this.pos = p + 2
      return digit
    }
    if (first === 0xa2 && p + 3 <= this.end && bytes[p + 1] === 0x31 && bytes[p + 2] === 0x30) {
      this.pos = p + 3
      return 10
    }
    return -1
  }

  mapSize(): number {
    const p = this.pos
    if (p >= this.end) return -1
    const first = this.bytes[p]!
    if ((first & 0xf0) === 0x80) {
      this.pos = p + 1
      return first & 0x0f
    }
    if (first === 0xde && p + 3 <= this.end) {
      this.pos = p + 3
      return this.bytes.readUInt16BE(p + 1)
    }
    return -1
  }

  /** Body bytes: base64 str (validated) or bin (copied). */
  data(): Uint8Array | undefined {
    const bytes = this.bytes
    const p = this.pos
    if (p >= this.end) return undefined
    const first = bytes[p]!
    if (first === 0xc4 || first === 0xc5 || first === 0xc6) {
      const header = first === 0xc4 ? 2 : first === 0xc5 ? 3 : 5
      if (p + header > this.end) return undefined
      const length = first === 0xc4 ? bytes[p + 1]! : first === 0xc5 ? bytes.readUInt16BE(p + 1) : bytes.readUInt32BE(p + 1)
      if (p + header + length > this.end) return undefined
      this.pos = p + header + length
      // A copy, so an open request does not keep the whole batch alive.
      return Uint8Array.prototype.slice.call(bytes, p + header, p + header + length)
    }
    const length = this.strLength()
    if (length < 0 || length % 4 === 1) return undefined
    const start = this.pos
    this.pos = start + length
    const text = bytes.toString('latin1', start, start + length)
    const padding = length > 0 && text.charCodeAt(length - 1) === 0x3d ? (length > 1 && text.charCodeAt(length - 2) === 0x3d ? 2 : 1) : 0
    // node's decoder skips characters outside the alphabet and stops at '=', so
    // any of those shows as a short result; it also takes the URL-safe '-' and '_',
    // which standard base64 does not have.
    const decoded = Buffer.from(text, 'base64')
    if (decoded.byteLength !== Math.floor((length * 3) / 4) - padding) return undefined
    if (text.indexOf('-') !== -1 || text.indexOf('_') !== -1) return undefined
    return decoded
  }
}

/** The event at bytes[start, end), or undefined when it is not in the shape writers produce. */
export function decodeEventFast(bytes: Buffer, start: number, end: number): HttpEvent | undefined {
  const cursor = new Cursor(bytes, start, end)
  const entries = cursor.mapSize()
  if (entries < 0) return undefined
  let type = -1
  let reqId = -1
  let serverTime = -1
  let outcome = 0
  let data: Uint8Array | undefined
  let ip = ''
  let contentType = ''
  let path = ''
  let method = ''
  let headers: Record<string, string> = {}
  for (let i = 0; i < entries; i++) {
    const field = cursor.field()
    switch (field) {
      case 1:
        if ((type = cursor.uint()) < 0) return undefined
        break
      case 2:
        if ((reqId = cursor.uint()) < 0) return undefined
        break
      case 3:
        if ((serverTime = cursor.uint()) < 0) return undefined
        break
      case 4:
        data = cursor.data()
        if (!data) return undefined
        break
      case 5:
      case 6:
      case 7:
      case 8: {
        const text = cursor.str()
        if (text === undefined) return undefined
        if (field === 5) ip = text
        else if (field === 6) contentType = text
        else if (field === 7) path = text
        else method = text
        break
      }
      case 9: {
        const size = cursor.mapSize()
        if (size < 0) return undefined
        headers = {}
        for (let h = 0; h < size; h++) {
          const name = cursor.str()
          const value = cursor.str()
          // `__proto__` goes to the general decoder, which rejects it (formats/batch-v1.md §3.6).
          if (name === undefined || value === undefined || name === '__proto__') return undefined
          headers[name] = value
        }
        break
      }
      case 10:
        outcome = cursor.uint()
        if (!(outcome in OUTCOME_NAMES)) return undefined
        break
      default:
        return undefined
    }
  }
  if (cursor.pos !== end || reqId < 0 || serverTime < 0) return undefined
  if (type === REQ_DATA_EVENT) return data ? { type: REQ_DATA_EVENT, reqId, serverTime, data } : undefined
  if (type === REQ_END_EVENT && data === undefined) {
    return { type: REQ_END_EVENT, reqId, serverTime, ip, contentType, path, method, headers, outcome: outcome as RequestOutcome }
  }
  return undefined
}
