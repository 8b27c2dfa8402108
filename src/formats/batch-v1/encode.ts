/**
 * Batch V1 writer side: each event is msgpack(length) + msgpack(event map),
 * string map keys "1".."10" in ascending order, body chunks as base64 text
 * (formats/batch-v1.md).
 *
 * The two event shapes are fixed, so they are written straight into a buffer
 * instead of going through a general msgpack encoder: bench/ measured the
 * general path at ~0.7x of plain node:http and this one near parity. A
 * `Frame` knows its exact size before it is written, so the batch writer can
 * write it straight into the batch's staging buffer: no buffer per event.
 * test/batch-v1-encode.test.ts checks, for random events, that these bytes
 * equal what @msgpack/msgpack encodes for the same maps.
 */
import { Field, REQ_DATA_EVENT, REQ_END_EVENT, type ReqEndEvent } from './http-events.js'

/** Bytes msgpack needs for a non-negative integer. */
function uintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x100 ? 2 : value < 0x10000 ? 3 : value < 0x100000000 ? 5 : 9
}

function writeUint(buffer: Buffer, offset: number, value: number): number {
  if (value < 0x80) {
    buffer[offset] = value
    return offset + 1
  }
  if (value < 0x100) {
    buffer[offset] = 0xcc
    buffer[offset + 1] = value
    return offset + 2
  }
  if (value < 0x10000) {
    buffer[offset] = 0xcd
    buffer.writeUInt16BE(value, offset + 1)
    return offset + 3
  }
  if (value < 0x100000000) {
    buffer[offset] = 0xce
    buffer.writeUInt32BE(value, offset + 1)
    return offset + 5
  }
  buffer[offset] = 0xcf
  buffer.writeUInt32BE(Math.floor(value / 0x100000000), offset + 1)
  buffer.writeUInt32BE(value >>> 0, offset + 5)
  return offset + 9
}

/** Bytes of a msgpack str header for `length` bytes of UTF-8. */
function strHeaderSize(length: number): number {
  return length < 32 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5
}

function writeStrHeader(buffer: Buffer, offset: number, length: number): number {
  if (length < 32) {
    buffer[offset] = 0xa0 | length
    return offset + 1
  }
  if (length < 0x100) {
    buffer[offset] = 0xd9
    buffer[offset + 1] = length
    return offset + 2
  }
  if (length < 0x10000) {
    buffer[offset] = 0xda
    buffer.writeUInt16BE(length, offset + 1)
    return offset + 3
  }
  buffer[offset] = 0xdb
  buffer.writeUInt32BE(length, offset + 1)
  return offset + 5
}

/**
 * Strings up to this length are measured and, when ASCII, copied in JavaScript: for the short
 * strings of a REQ_END (IP, method, content type, path) that is cheaper than a call into
 * Buffer.byteLength / buffer.write, which bench/ profiled at a fifth of the capture's time.
 */
const SHORT_STRING = 128

/** Node's native string writers and base64 encoder, without buffer.write()/toString()'s argument handling (all exist on every Buffer). */
type NativeWriters = {
  utf8Write(text: string, offset: number, length: number): number
  latin1Write(text: string, offset: number, length: number): number
  base64Slice(start: number, end: number): string
}

/** UTF-8 byte length of `text`. */
function utf8Size(text: string): number {
  const length = text.length
  if (length > SHORT_STRING) return Buffer.byteLength(text, 'utf8')
  for (let i = 0; i < length; i++) if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, 'utf8')
  return length
}

function writeStr(buffer: Buffer, offset: number, text: string, byteLength: number): number {
  offset = writeStrHeader(buffer, offset, byteLength)
  const length = text.length
  if (byteLength === length && length <= SHORT_STRING) {
    // ASCII (as many bytes as characters): one byte per character.
    for (let i = 0; i < length; i++) buffer[offset + i] = text.charCodeAt(i)
    return offset + length
  }
  return offset + (buffer as unknown as NativeWriters).utf8Write(text, offset, byteLength)
}

/** A fixstr key "1".."9" or "10": its bytes. */
function writeKey(buffer: Buffer, offset: number, field: number): number {
  if (field < 10) {
    buffer[offset] = 0xa1
    buffer[offset + 1] = 0x30 + field
    return offset + 2
  }
  buffer[offset] = 0xa2
  buffer[offset + 1] = 0x31
  buffer[offset + 2] = 0x30 + (field - 10)
  return offset + 3
}

/** One framed event, sized but not yet written: `writeInto` writes exactly `byteLength` bytes at `offset`. */
export interface Frame {
  readonly byteLength: number
  writeInto(target: Buffer, offset: number): void
}

/**
 * How REQ_DATA carries body bytes: `base64` text (the seed's format, the
 * default) or msgpack `bin` (the raw bytes: 25 % fewer bytes to gzip, and no
 * base64 work; every batch V1 reader accepts it, formats/batch-v1.md §3.1).
 */
export type BodyEncoding = 'base64' | 'bin'
export const BODY_ENCODINGS: readonly BodyEncoding[] = ['base64', 'bin']
export const DEFAULT_BODY_ENCODING: BodyEncoding = 'base64'

/** Bytes of a msgpack bin header for `length` bytes. */
function binHeaderSize(length: number): number {
  return length < 0x100 ? 2 : length < 0x10000 ? 3 : 5
}

function writeBinHeader(buffer: Buffer, offset: number, length: number): number {
  if (length < 0x100) {
    buffer[offset] = 0xc4
    buffer[offset + 1] = length
    return offset + 2
  }
  if (length < 0x10000) {
    buffer[offset] = 0xc5
    buffer.writeUInt16BE(length, offset + 1)
    return offset + 3
  }
  buffer[offset] = 0xc6
  buffer.writeUInt32BE(length, offset + 1)
  return offset + 5
}

/** Fixed part of a REQ_DATA map: header, the four keys and the event type. */
function reqDataFixedSize(reqId: number, serverTime: number): number {
  return 1 + 2 + 1 + 2 + uintSize(reqId) + 2 + uintSize(serverTime) + 2
}

function writeReqDataHead(buffer: Buffer, offset: number, eventSize: number, reqId: number, serverTime: number): number {
  offset = writeUint(buffer, offset, eventSize)
  buffer[offset++] = 0x84
  offset = writeKey(buffer, offset, Field.eventType)
  buffer[offset++] = REQ_DATA_EVENT
  offset = writeKey(buffer, offset, Field.reqId)
  offset = writeUint(buffer, offset, reqId)
  offset = writeKey(buffer, offset, Field.serverTime)
  offset = writeUint(buffer, offset, serverTime)
  return writeKey(buffer, offset, Field.data)
}

/** REQ_DATA with the chunk as base64 text. */
class Base64DataFrame implements Frame {
  readonly byteLength: number
  private readonly eventSize: number
  private readonly data: string

  constructor(
    private readonly reqId: number,
    private readonly serverTime: number,
    chunk: Uint8Array,
  ) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    this.data = (bytes as unknown as NativeWriters).base64Slice(0, bytes.byteLength)
    // base64 is ASCII: its byte length is its string length.
    this.eventSize = reqDataFixedSize(reqId, serverTime) + strHeaderSize(this.data.length) + this.data.length
    this.byteLength = uintSize(this.eventSize) + this.eventSize
  }

  writeInto(target: Buffer, offset: number): void {
    offset = writeReqDataHead(target, offset, this.eventSize, this.reqId, this.serverTime)
    offset = writeStrHeader(target, offset, this.data.length)
    ;(target as unknown as NativeWriters).latin1Write(this.data, offset, this.data.length)
  }
}

/** REQ_DATA with the chunk as msgpack bin: the bytes copied as they are. */
class BinDataFrame implements Frame {
  readonly byteLength: number
  private readonly eventSize: number

  constructor(
    private readonly reqId: number,
    private readonly serverTime: number,
    private readonly chunk: Uint8Array,
  ) {
    this.eventSize = reqDataFixedSize(reqId, serverTime) + binHeaderSize(chunk.byteLength) + chunk.byteLength
    this.byteLength = uintSize(this.eventSize) + this.eventSize
  }

  writeInto(target: Buffer, offset: number): void {
    offset = writeReqDataHead(target, offset, this.eventSize, this.reqId, this.serverTime)
    offset = writeBinHeader(target, offset, this.chunk.byteLength)
    target.set(this.chunk, offset)
  }
}

/** One REQ_DATA event carrying one body chunk, ready to be written. */
export function reqDataFrame(reqId: number, serverTime: number, chunk: Uint8Array, bodyEncoding: BodyEncoding = DEFAULT_BODY_ENCODING): Frame {
  return bodyEncoding === 'bin' ? new BinDataFrame(reqId, serverTime, chunk) : new Base64DataFrame(reqId, serverTime, chunk)
}

/** Writes a frame into a buffer of its own. */
export function frameBytes(frame: Frame): Buffer {
  const buffer = Buffer.allocUnsafe(frame.byteLength)
  frame.writeInto(buffer, 0)
  return buffer
}

/** One framed REQ_DATA event carrying one body chunk. */
export function encodeReqData(reqId: number, serverTime: number, chunk: Uint8Array, bodyEncoding: BodyEncoding = DEFAULT_BODY_ENCODING): Buffer {
  return frameBytes(reqDataFrame(reqId, serverTime, chunk, bodyEncoding))
}

/** An already encoded frame (e.g. read back from a spool), as a Frame. */
export function bytesFrame(bytes: Uint8Array): Frame {
  return { byteLength: bytes.byteLength, writeInto: (target, offset) => target.set(bytes, offset) }
}

/** REQ_END: sizes are measured once, when the frame is made. */
class ReqEndFrame implements Frame {
  readonly byteLength: number
  private readonly eventSize: number
  private readonly sizes: number[]
  private readonly headerNames: string[]

  constructor(private readonly end: Omit<ReqEndEvent, 'type'>) {
    const ipBytes = utf8Size(end.ip)
    const contentTypeBytes = utf8Size(end.contentType)
    const pathBytes = utf8Size(end.path)
    const methodBytes = utf8Size(end.method)
    const headerNames = (this.headerNames = Object.keys(end.headers))
    if (headerNames.length >= 0x10000) throw new RangeError('too many headers')
    let headersSize = headerNames.length < 16 ? 1 : 3
    const sizes = (this.sizes = [ipBytes, contentTypeBytes, pathBytes, methodBytes])
    for (const name of headerNames) {
      const nameBytes = utf8Size(name)
      const valueBytes = utf8Size(end.headers[name]!)
      sizes.push(nameBytes, valueBytes)
      headersSize += strHeaderSize(nameBytes) + nameBytes + strHeaderSize(valueBytes) + valueBytes
    }
    this.eventSize =
      1 +
      (2 + 1) +
      (2 + uintSize(end.reqId)) +
      (2 + uintSize(end.serverTime)) +
      (2 + strHeaderSize(ipBytes) + ipBytes) +
      (2 + strHeaderSize(contentTypeBytes) + contentTypeBytes) +
      (2 + strHeaderSize(pathBytes) + pathBytes) +
      (2 + strHeaderSize(methodBytes) + methodBytes) +
      (2 + headersSize) +
      (3 + uintSize(end.outcome))
    this.byteLength = uintSize(this.eventSize) + this.eventSize
  }

  writeInto(buffer: Buffer, offset: number): void {
    const { end, sizes, headerNames } = this
    offset = writeUint(buffer, offset, this.eventSize)
    buffer[offset++] = 0x89
    offset = writeKey(buffer, offset, Field.eventType)
    buffer[offset++] = REQ_END_EVENT
    offset = writeKey(buffer, offset, Field.reqId)
    offset = writeUint(buffer, offset, end.reqId)
    offset = writeKey(buffer, offset, Field.serverTime)
    offset = writeUint(buffer, offset, end.serverTime)
    offset = writeKey(buffer, offset, Field.ip)
    offset = writeStr(buffer, offset, end.ip, sizes[0]!)
    offset = writeKey(buffer, offset, Field.contentType)
    offset = writeStr(buffer, offset, end.contentType, sizes[1]!)
    offset = writeKey(buffer, offset, Field.path)
    offset = writeStr(buffer, offset, end.path, sizes[2]!)
    offset = writeKey(buffer, offset, Field.method)
    offset = writeStr(buffer, offset, end.method, sizes[3]!)
    offset = writeKey(buffer, offset, Field.headers)
    if (headerNames.length < 16) {
      buffer[offset++] = 0x80 | headerNames.length
    } else {
      buffer[offset] = 0xde
      buffer.writeUInt16BE(headerNames.length, offset + 1)
      offset += 3
    }
    for (let i = 0; i < headerNames.length; i++) {
      const name = headerNames[i]!
      offset = writeStr(buffer, offset, name, sizes[4 + 2 * i]!)
      offset = writeStr(buffer, offset, end.headers[name]!, sizes[5 + 2 * i]!)
    }
    offset = writeKey(buffer, offset, Field.outcome)
    writeUint(buffer, offset, end.outcome)
  }
}

/** One REQ_END event, ready to be written. */
export function reqEndFrame(end: Omit<ReqEndEvent, 'type'>): Frame {
  return new ReqEndFrame(end)
}

/** One framed REQ_END event. */
export function encodeReqEnd(end: Omit<ReqEndEvent, 'type'>): Buffer {
  return frameBytes(reqEndFrame(end))
}
