// One eventbuf-v2 event built field by field with @msgpack/msgpack and SHA-1 (not with the
// project's encoder), so a test can send any value text byte for byte.
import { createHash } from 'node:crypto'
import { encode } from '@msgpack/msgpack'

export interface EventFields {
  /** The key as a msgpack-encodable value. Default 'k'. */
  key?: unknown
  type?: unknown
  /** The value's JSON text, sent as is. Default '{}'. */
  value?: string
  clientTime?: number
}

export function eventbufV2Event(fields: EventFields = {}): Buffer {
  const hashed = Buffer.concat([
    encode(2),
    encode(encode(fields.key ?? 'k')),
    encode(encode(fields.type ?? 't')),
    encode(Buffer.from(fields.value ?? '{}', 'utf8')),
    encode(fields.clientTime ?? 0),
  ])
  const checksum = Buffer.from([0xc4, 0x04, ...createHash('sha1').update(hashed).digest().subarray(0, 4)])
  return Buffer.concat([encode(hashed.length + checksum.length), hashed, checksum])
}
