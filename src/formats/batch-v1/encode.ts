/**
 * Batch V1 writer side: each event is msgpack(length) + msgpack(event map),
 * string map keys "1".."10", body chunks as base64 text (formats/batch-v1.md).
 */
import { Encoder } from '@msgpack/msgpack'
import { Field, REQ_DATA_EVENT, REQ_END_EVENT, type ReqEndEvent } from './http-events.js'

// One encoder, reused: it keeps its buffer between calls.
const encoder = new Encoder()

function frame(event: Record<number, unknown>): Buffer {
  const body = encoder.encode(event)
  const prefix = encoder.encodeSharedRef(body.byteLength)
  const framed = Buffer.allocUnsafe(prefix.byteLength + body.byteLength)
  framed.set(prefix, 0)
  framed.set(body, prefix.byteLength)
  return framed
}

/** One framed REQ_DATA event carrying one body chunk. */
export function encodeReqData(reqId: number, serverTime: number, chunk: Uint8Array): Buffer {
  const data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('base64')
  return frame({
    [Field.eventType]: REQ_DATA_EVENT,
    [Field.reqId]: reqId,
    [Field.serverTime]: serverTime,
    [Field.data]: data,
  })
}

/** One framed REQ_END event. */
export function encodeReqEnd(end: Omit<ReqEndEvent, 'type'>): Buffer {
  // Integer-like property names keep ascending order, so the map's key order is fixed.
  return frame({
    [Field.eventType]: REQ_END_EVENT,
    [Field.reqId]: end.reqId,
    [Field.serverTime]: end.serverTime,
    [Field.ip]: end.ip,
    [Field.contentType]: end.contentType,
    [Field.path]: end.path,
    [Field.method]: end.method,
    [Field.headers]: end.headers,
    [Field.outcome]: end.outcome,
  })
}
