// Regenerates the eventbuf-v2 golden vectors: `npm run build && node formats/vectors/eventbuf-v2/generate.mjs`.
// Canonical vectors come from the encoder; the others are built field by field here, so they
// exercise encodings our encoder never writes (wider ints, bin16, float64) and every kind of damage.
// The checked-in files are the contract: regenerate only when the spec changes on purpose.
import { createHash } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encode } from '@msgpack/msgpack'
import { encodeEventbufV2Events } from '../../../dist/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const T = 1317062859638 // the seed's example clientTime

const u16 = (n) => [n >> 8, n & 0xff]
const bin16 = (bytes) => Buffer.from([0xc5, ...u16(bytes.length), ...bytes])
const float64 = (n) => { const b = Buffer.alloc(9); b[0] = 0xcb; b.writeDoubleBE(n, 1); return b }
const json = (value) => Buffer.from(JSON.stringify(value))
/** Field bytes for a normal event; override any with raw bytes. */
function fields({ version = encode(2), key = encode(encode('k')), type = encode(encode('click')), value = encode(json({})), clientTime = encode(T), extra } = {}) {
  return Buffer.concat([version, key, type, value, clientTime, ...(extra ? [extra] : [])])
}
/** Adds the checksum and the length prefix (smallest, or `prefix(length)`). */
function seal(hashed, { prefix = (n) => encode(n), checksum } = {}) {
  const sum = checksum ?? Buffer.from([0xc4, 0x04, ...createHash('sha1').update(hashed).digest().subarray(0, 4)])
  return Buffer.concat([prefix(hashed.length + sum.length), hashed, sum])
}

const valid = [
  { name: 'minimal', description: 'smallest event: nil key, type 0, {} value, clientTime 0 (19 bytes)', events: [{ key: null, type: 0, value: {}, clientTime: 0 }] },
  { name: 'seed-example', description: 'string key and type, nested value, the seed\'s clientTime (uint 64)', events: [{ key: 'user-1:2011-09-26:1', type: 'page_view', value: { page: '/pricing', tags: ['a', 'b'], n: 1.5, nested: { ok: true, none: null } }, clientTime: T }] },
  { name: 'key-kinds', description: 'three events: keys false, -42, and a non-ASCII string; numeric types', events: [
    { key: false, type: 65535, value: { i: 0 }, clientTime: 1 },
    { key: -42, type: 1, value: { i: 1 }, clientTime: 4294967296 },
    { key: 'ключ 🔑', type: 'émoji ✓', value: { text: 'naïve — "quoted" \\ back' }, clientTime: 9007199254740991 },
  ] },
  { name: 'list-and-map-keys', description: 'keys one level deep: an array and a map (formats/keyjson.md)', events: [
    { key: ['user-17', 5, null, true], type: 'visit', value: {}, clientTime: T },
    { key: { b: 1, a: 'x' }, type: 'visit', value: {}, clientTime: T },
  ] },
  { name: 'large-value', description: 'a 70000-byte value (bin 32 wrapper, uint 32 length prefix)', events: [{ key: 7, type: 'blob', value: { data: 'x'.repeat(70000) }, clientTime: T }] },
].map((v) => ({ ...v, canonical: true, bytes: Buffer.from(encodeEventbufV2Events(v.events)) }))

valid.push(
  { name: 'wide-encodings', canonical: false, description: 'accepted, never written: uint 16 length prefix, bin 16 wrappers, key and clientTime as float 64, type as uint 16', events: [{ key: 12, type: 3, value: { a: 1 }, clientTime: T }],
    bytes: seal(fields({ key: bin16(float64(12)), type: bin16(Buffer.from([0xcd, 0, 3])), value: bin16(json({ a: 1 })), clientTime: float64(T) }), { prefix: (n) => Buffer.from([0xcd, ...u16(n)]) }) },
  { name: 'uint64-prefix', canonical: false, description: 'accepted: length prefix as uint 64, clientTime as uint 32', events: [{ key: 'k', type: 'click', value: {}, clientTime: 1000000 }],
    bytes: seal(fields({ clientTime: Buffer.from([0xce, 0x00, 0x0f, 0x42, 0x40]) }), { prefix: (n) => Buffer.from([0xcf, 0, 0, 0, 0, 0, 0, 0, n]) }) },
)

const good = seal(fields())
const flip = (buffer, at) => { const copy = Buffer.from(buffer); copy[at] ^= 0x01; return copy }
const invalid = [
  { name: 'checksum-mismatch', bytes: flip(good, good.length - 1), offset: 0, index: 0, reason: 'checksum mismatch' },
  { name: 'second-event-corrupt', description: 'a good event, then one with a flipped value byte', bytes: Buffer.concat([good, flip(good, 10)]), offset: good.length, index: 1, reason: 'checksum mismatch' },
  { name: 'bad-version', bytes: seal(fields({ version: encode(3) })), offset: 0, index: 0, reason: 'version byte is 0x03' },
  { name: 'truncated', bytes: good.subarray(0, good.length - 3), offset: 0, index: 0, reason: 'truncated event' },
  { name: 'truncated-second', bytes: Buffer.concat([good, good.subarray(0, 1)]), offset: good.length, index: 1, reason: 'truncated event' },
  { name: 'length-prefix-not-uint', bytes: Buffer.concat([Buffer.from([0xc0]), good.subarray(1)]), offset: 0, index: 0, reason: 'not a msgpack unsigned integer' },
  { name: 'length-below-minimum', bytes: Buffer.from([0x05, 2, 0, 0, 0, 0]), offset: 0, index: 0, reason: 'below the minimum' },
  { name: 'length-over-limit', bytes: Buffer.from([0xce, 0x7f, 0xff, 0xff, 0xff]), offset: 0, index: 0, reason: 'over the limit' },
  { name: 'length-too-long', description: 'prefix one byte too long: the checksum field is not where it must be', bytes: Buffer.concat([Buffer.from([good[0] + 1]), good.subarray(1), Buffer.from([0])]), offset: 0, index: 0, reason: 'checksum field' },
  { name: 'checksum-as-bin16', bytes: seal(fields(), { checksum: Buffer.from([0xc5, 0, 4, 1, 2, 3, 4]) }), offset: 0, index: 0, reason: 'checksum field' },
  { name: 'sixth-field', bytes: seal(fields({ extra: encode(1) })), offset: 0, index: 0, reason: 'expected 5 fields' },
  { name: 'key-not-bin', description: 'key written as a str instead of a bin holding msgpack', bytes: seal(fields({ key: encode('k') })), offset: 0, index: 0, reason: 'key field is a string' },
  { name: 'key-trailing-bytes', bytes: seal(fields({ key: encode(Buffer.from([0xc0, 0xc0])) })), offset: 0, index: 0, reason: 'not exactly one msgpack value' },
  { name: 'key-float', bytes: seal(fields({ key: encode(float64(1.5)) })), offset: 0, index: 0, reason: 'not an integer' },
  { name: 'key-unsafe-integer', bytes: seal(fields({ key: encode(Buffer.from([0xcf, 0, 0x20, 0, 0, 0, 0, 0, 0])) })), offset: 0, index: 0, reason: 'outside' },
  { name: 'key-nested-array', description: 'an array in an array: keys are one level deep', bytes: seal(fields({ key: encode(encode(['a', [1]])) })), offset: 0, index: 0, reason: 'key element 1 is a list' },
  { name: 'key-map-in-array', bytes: seal(fields({ key: encode(encode([{ a: 1 }])) })), offset: 0, index: 0, reason: 'key element 0 is an object' },
  { name: 'key-map-of-map', bytes: seal(fields({ key: encode(encode({ a: { b: 1 } })) })), offset: 0, index: 0, reason: 'key member "a" is an object' },
  { name: 'key-map-integer-name', description: 'map with an integer key: object member names are strings', bytes: seal(fields({ key: encode(Buffer.from([0x81, 0x01, 0x01])) })), offset: 0, index: 0, reason: 'object keys have string member names' },
  { name: 'key-map-name-invalid-utf8', bytes: seal(fields({ key: encode(Buffer.from([0x81, 0xa2, 0xc3, 0x28, 0x01])) })), offset: 0, index: 0, reason: 'map key is not valid UTF-8' },
  { name: 'key-array-invalid-utf8', bytes: seal(fields({ key: encode(Buffer.from([0x91, 0xa2, 0xc3, 0x28])) })), offset: 0, index: 0, reason: 'key element 0 string is not valid UTF-8' },
  { name: 'key-array-bin-element', bytes: seal(fields({ key: encode(Buffer.from([0x91, 0xc4, 0x01, 0x61])) })), offset: 0, index: 0, reason: 'key element 0 holds a byte string' },
  { name: 'key-nul', bytes: seal(fields({ key: encode(encode('a\u0000b')) })), offset: 0, index: 0, reason: '\\u0000' },
  { name: 'key-invalid-utf8', bytes: seal(fields({ key: encode(Buffer.from([0xa2, 0xc3, 0x28])) })), offset: 0, index: 0, reason: 'not valid UTF-8' },
  { name: 'type-out-of-range', bytes: seal(fields({ type: encode(encode(65536)) })), offset: 0, index: 0, reason: '0..65535' },
  { name: 'type-negative', bytes: seal(fields({ type: encode(encode(-1)) })), offset: 0, index: 0, reason: '0..65535' },
  { name: 'type-empty-string', bytes: seal(fields({ type: encode(encode('')) })), offset: 0, index: 0, reason: 'empty string' },
  { name: 'type-nil', bytes: seal(fields({ type: encode(encode(null)) })), offset: 0, index: 0, reason: 'type is null' },
  { name: 'value-array', bytes: seal(fields({ value: encode(json([1])) })), offset: 0, index: 0, reason: 'must be a JSON object' },
  { name: 'value-not-json', bytes: seal(fields({ value: encode(Buffer.from('{')) })), offset: 0, index: 0, reason: 'not UTF-8 JSON text' },
  { name: 'value-msgpack-map', description: 'value written as a msgpack map instead of a bin holding JSON', bytes: seal(fields({ value: encode({}) })), offset: 0, index: 0, reason: 'value field is a map' },
  { name: 'client-time-negative', bytes: seal(fields({ clientTime: encode(-1) })), offset: 0, index: 0, reason: 'clientTime is -1' },
  { name: 'client-time-fraction', bytes: seal(fields({ clientTime: float64(1.5) })), offset: 0, index: 0, reason: 'clientTime is 1.5' },
  { name: 'client-time-string', bytes: seal(fields({ clientTime: encode('now') })), offset: 0, index: 0, reason: 'clientTime is "now"' },
]

for (const dir of ['valid', 'invalid']) { rmSync(join(here, dir), { recursive: true, force: true }); mkdirSync(join(here, dir)) }
const index = { valid: [], invalid: [] }
for (const v of valid) {
  writeFileSync(join(here, 'valid', v.name + '.bin'), v.bytes)
  index.valid.push({ file: `valid/${v.name}.bin`, description: v.description, canonical: v.canonical, events: v.events })
}
for (const v of invalid) {
  writeFileSync(join(here, 'invalid', v.name + '.bin'), v.bytes)
  index.invalid.push({ file: `invalid/${v.name}.bin`, ...(v.description ? { description: v.description } : {}), offset: v.offset, index: v.index, reason: v.reason })
}
writeFileSync(join(here, 'vectors.json'), JSON.stringify(index, null, 2) + '\n')
console.log(`${valid.length} valid, ${invalid.length} invalid vectors`)
