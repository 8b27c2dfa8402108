/**
 * Batch V1 writer side: each event is msgpack(length) + msgpack(event map),
 * string map keys "1".."10" in ascending order, body chunks as base64 text
 * (formats/batch-v1.md).
 *
 * The two event shapes are fixed, so they are written straight into one
 * exactly-sized buffer instead of going through a general msgpack encoder:
 * bench/ measured the general path at ~0.7x of plain node:http and this one
 * near parity. test/batch-v1-encode.test.ts checks, for random events, that
 * these bytes equal what @msgpack/msgpack encodes for the same maps.
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

function writeStr(buffer: Buffer, offset: number, text: string, byteLength: number): number {
  offset = writeStrHeader(buffer, offset, byteLength)
  return offset + buffer.write(text, offset, byteLength, 'utf8')
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

/** Allocates the frame: prefix for `eventSize`, then room for the event; returns the buffer and where the event starts. */
function allocateFrame(eventSize: number): [Buffer, number] {
  const prefixSize = uintSize(eventSize)
  const buffer = Buffer.allocUnsafe(prefixSize + eventSize)
  return [buffer, writeUint(buffer, 0, eventSize)]
}

/** One framed REQ_DATA event carrying one body chunk. */
export function encodeReqData(reqId: number, serverTime: number, chunk: Uint8Array): Buffer {
  const data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('base64')
  // base64 is ASCII: its byte length is its string length.
  const eventSize = 1 + 2 + 1 + 2 + uintSize(reqId) + 2 + uintSize(serverTime) + 2 + strHeaderSize(data.length) + data.length
  const [buffer, start] = allocateFrame(eventSize)
  let offset = start
  buffer[offset++] = 0x84
  offset = writeKey(buffer, offset, Field.eventType)
  buffer[offset++] = REQ_DATA_EVENT
  offset = writeKey(buffer, offset, Field.reqId)
  offset = writeUint(buffer, offset, reqId)
  offset = writeKey(buffer, offset, Field.serverTime)
  offset = writeUint(buffer, offset, serverTime)
  offset = writeKey(buffer, offset, Field.data)
  offset = writeStrHeader(buffer, offset, data.length)
  buffer.write(data, offset, data.length, 'latin1')
  return buffer
}

/** One framed REQ_END event. */
export function encodeReqEnd(end: Omit<ReqEndEvent, 'type'>): Buffer {
  const ipBytes = Buffer.byteLength(end.ip)
  const contentTypeBytes = Buffer.byteLength(end.contentType)
  const pathBytes = Buffer.byteLength(end.path)
  const methodBytes = Buffer.byteLength(end.method)
  const headerNames = Object.keys(end.headers)
  if (headerNames.length >= 0x10000) throw new RangeError('too many headers')
  let headersSize = headerNames.length < 16 ? 1 : 3
  const headerSizes: number[] = []
  for (const name of headerNames) {
    const nameBytes = Buffer.byteLength(name)
    const valueBytes = Buffer.byteLength(end.headers[name]!)
    headerSizes.push(nameBytes, valueBytes)
    headersSize += strHeaderSize(nameBytes) + nameBytes + strHeaderSize(valueBytes) + valueBytes
  }
  const eventSize =
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
  const [buffer, start] = allocateFrame(eventSize)
  let offset = start
  buffer[offset++] = 0x89
  offset = writeKey(buffer, offset, Field.eventType)
  buffer[offset++] = REQ_END_EVENT
  offset = writeKey(buffer, offset, Field.reqId)
  offset = writeUint(buffer, offset, end.reqId)
  offset = writeKey(buffer, offset, Field.serverTime)
  offset = writeUint(buffer, offset, end.serverTime)
  offset = writeKey(buffer, offset, Field.ip)
  offset = writeStr(buffer, offset, end.ip, ipBytes)
  offset = writeKey(buffer, offset, Field.contentType)
  offset = writeStr(buffer, offset, end.contentType, contentTypeBytes)
  offset = writeKey(buffer, offset, Field.path)
  offset = writeStr(buffer, offset, end.path, pathBytes)
  offset = writeKey(buffer, offset, Field.method)
  offset = writeStr(buffer, offset, end.method, methodBytes)
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
    offset = writeStr(buffer, offset, name, headerSizes[2 * i]!)
    offset = writeStr(buffer, offset, end.headers[name]!, headerSizes[2 * i + 1]!)
  }
  offset = writeKey(buffer, offset, Field.outcome)
  writeUint(buffer, offset, end.outcome)
  return buffer
}
