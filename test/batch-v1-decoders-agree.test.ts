// The fast and the general batch V1 decoders must give the same answer for every input:
// the same events, or the same error at the same offset. A fixed-seed fuzz over crafted
// and mutated events (invalid UTF-8, `__proto__` keys, odd widths, flipped bytes).
import t from 'tap'
import { encode } from '@msgpack/msgpack'
import { decodeBatchV1, encodeReqData, encodeReqEnd, LoggingServer } from '../src/index.js'

const FUZZ_INPUTS = 120_000

let seed = 0x5eed1234
/** xorshift32: the same inputs on every run and every machine. */
function random(): number {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) / 0x100000000
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
const int = (below: number) => Math.floor(random() * below)

/** A msgpack str holding exactly these bytes (valid UTF-8 or not). */
function rawStr(bytes: Uint8Array): Buffer {
  const n = bytes.byteLength
  const header = n < 32 ? [0xa0 | n] : n < 256 ? [0xd9, n] : [0xda, n >> 8, n & 0xff]
  return Buffer.concat([Buffer.from(header), bytes])
}

const UTF8_TRAPS = [
  [0xc3, 0xa9], // é
  [0xff],
  [0xc3], // truncated two-byte sequence
  [0xe2, 0x82], // truncated three-byte sequence
  [0xed, 0xa0, 0x80], // an encoded lone surrogate (U+D800)
  [0xf0, 0x9f, 0x98, 0x80], // 😀
  [0xf0, 0x9f, 0x98], // truncated four-byte sequence
  [0xc0, 0xaf], // overlong '/'
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xe2, 0x80, 0xa8], // U+2028
  [0x80],
]

function randomTextBytes(): Buffer {
  const parts: number[] = []
  const count = int(6)
  for (let i = 0; i < count; i++) {
    if (random() < 0.5) parts.push(0x61 + int(26))
    else parts.push(...pick(UTF8_TRAPS))
  }
  return Buffer.from(parts)
}

function uint(value: number): Buffer {
  return Buffer.from(encode(value))
}

/** A REQ_END map built key by key, with a chance of odd strings, odd keys and `__proto__` headers. */
function craftedEnd(): Buffer {
  const entries: Buffer[] = []
  const keyOf = (n: number) => (random() < 0.8 ? rawStr(Buffer.from(String(n))) : uint(n))
  entries.push(Buffer.concat([keyOf(1), uint(2)]))
  entries.push(Buffer.concat([keyOf(2), uint(int(2 ** 20))]))
  entries.push(Buffer.concat([keyOf(3), uint(int(2 ** 41))]))
  for (const field of [5, 6, 7, 8]) if (random() < 0.7) entries.push(Buffer.concat([keyOf(field), rawStr(randomTextBytes())]))
  if (random() < 0.6) {
    const names = [Buffer.from('user-agent'), Buffer.from('__proto__'), Buffer.from('constructor'), randomTextBytes()]
    const headers = int(3)
    const parts: Buffer[] = [Buffer.from([0x80 | headers])]
    for (let h = 0; h < headers; h++) parts.push(rawStr(pick(names)), rawStr(randomTextBytes()))
    entries.push(Buffer.concat([keyOf(9), ...parts]))
  }
  if (random() < 0.5) entries.push(Buffer.concat([keyOf(10), uint(int(6))]))
  if (random() < 0.1) entries.push(Buffer.concat([rawStr(Buffer.from('__proto__')), rawStr(Buffer.from('x'))]))
  if (random() < 0.1) entries.push(Buffer.concat([rawStr(randomTextBytes()), uint(1)]))
  return Buffer.concat([Buffer.from([0x80 | entries.length]), ...entries])
}

function craftedData(): Buffer {
  const body = randomTextBytes()
  const data = random() < 0.5 ? rawStr(Buffer.from(body.toString('base64').slice(0, random() < 0.8 ? undefined : -1))) : Buffer.from(encode(body))
  return Buffer.concat([Buffer.from([0x84]), rawStr(Buffer.from('1')), uint(1), rawStr(Buffer.from('2')), uint(int(1000)), rawStr(Buffer.from('3')), uint(int(2 ** 41)), rawStr(Buffer.from('4')), data])
}

function writerEvent(): Buffer {
  if (random() < 0.4) return encodeReqData(int(1000), int(2 ** 41), randomTextBytes()).subarray(0)
  return encodeReqEnd({
    reqId: int(1000),
    serverTime: int(2 ** 41),
    ip: '10.0.0.1',
    contentType: 'application/json',
    path: '/p?q=' + String.fromCharCode(...randomTextBytes()),
    method: 'POST',
    headers: { 'user-agent': 'agent' },
    outcome: 0,
  })
}

/** A framed event: one of the crafted shapes, sometimes with a few bytes flipped. */
function randomInput(): Buffer {
  const roll = random()
  if (roll < 0.2) return writerEventMutated()
  const event = roll < 0.7 ? craftedEnd() : craftedData()
  return Buffer.concat([uint(event.byteLength), event])
}

function writerEventMutated(): Buffer {
  const frame = Buffer.from(writerEvent())
  const flips = 1 + int(3)
  for (let i = 0; i < flips; i++) frame[int(frame.byteLength)] = int(256)
  return frame
}

/** JSON with everything outside printable ASCII escaped, so the TAP stream stays well-formed. */
const ascii = (value: unknown) => JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

function outcome(bytes: Buffer, fastPath: boolean): unknown {
  const events: unknown[] = []
  try {
    for (const { event, offset, size } of decodeBatchV1(bytes, { fastPath })) {
      // Own keys and their order, prototypes included: what a caller's JSON.stringify would see.
      const headers = 'headers' in event ? { headers: JSON.stringify(Object.entries(event.headers)), proto: Object.getPrototypeOf(event.headers) === Object.prototype } : {}
      events.push({ ...event, ...headers, offset, size, data: 'data' in event ? Buffer.from(event.data).toString('hex') : undefined })
    }
    return { events }
  } catch (err) {
    return { events, error: (err as Error).message }
  }
}

t.test(`fast and general decoders agree on ${FUZZ_INPUTS} fuzzed inputs (fixed seed)`, async (t) => {
  let disagreements = 0
  let decodedByBoth = 0
  const examples: string[] = []
  for (let i = 0; i < FUZZ_INPUTS; i++) {
    const input = randomInput()
    const fast = outcome(input, true)
    const general = outcome(input, false)
    if (JSON.stringify(fast) !== JSON.stringify(general)) {
      disagreements++
      if (examples.length < 5) examples.push(`${input.toString('hex')} fast: ${ascii(fast)} general: ${ascii(general)}`)
    } else if (!(fast as { error?: string }).error) decodedByBoth++
  }
  t.equal(disagreements, 0, `no input decodes differently${examples.length ? ':\n' + examples.join('\n') : ''}`)
  // The fuzz must exercise both the accepting and the rejecting side.
  t.ok(decodedByBoth > FUZZ_INPUTS / 10, `${decodedByBoth} inputs decoded by both`)
})

t.test('invalid UTF-8 in a string field becomes U+FFFD, one per maximal bad subsequence (formats/batch-v1.md §3.6)', async (t) => {
  const path = Buffer.from([0x2f, 0xff, 0x61, 0xe2, 0x82, 0x62, 0xed, 0xa0, 0x80])
  const map = Buffer.concat([Buffer.from([0x84]), rawStr(Buffer.from('1')), uint(2), rawStr(Buffer.from('2')), uint(1), rawStr(Buffer.from('3')), uint(5), rawStr(Buffer.from('7')), rawStr(path)])
  const frame = Buffer.concat([uint(map.byteLength), map])
  for (const fastPath of [true, false]) {
    const [decoded] = [...decodeBatchV1(frame, { fastPath })]
    t.equal((decoded!.event as { path: string }).path, '/\uFFFDa\uFFFDb\uFFFD\uFFFD\uFFFD', `fastPath ${fastPath}`)
  }
})

t.test('a __proto__ header is rejected by both paths, and the writer refuses to record one', async (t) => {
  const frame = Buffer.from('19 84 a1 31 02 a1 32 01 a1 33 00 a1 39 81 a9 5f 5f 70 72 6f 74 6f 5f 5f a1 78'.replace(/ /g, ''), 'hex')
  for (const fastPath of [true, false]) {
    t.throws(() => [...decodeBatchV1(frame, { fastPath })], { code: 'LS_BATCH_DECODE', message: /__proto__ is not allowed/ }, `fastPath ${fastPath}`)
  }
  t.throws(() => new LoggingServer({ headers: ['user-agent', '__proto__'], sink: { description: 'none', put: async () => {} } }), { code: 'LS_INVALID_OPTION' })
})
