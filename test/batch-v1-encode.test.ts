// The fast-path writer of batch V1 events against the general msgpack library:
// for random events of every size class, the bytes are exactly what
// @msgpack/msgpack encodes for the same maps, and its decoder reads them back.
import t from 'tap'
import { decode, Encoder } from '@msgpack/msgpack'
import { encodeReqData, encodeReqEnd, reqDataFrame, reqEndFrame, type ReqEndEvent } from '../src/index.js'

const library = new Encoder()

/** The reference: the general encoder on the equivalent maps, framed with a msgpack length. */
function reference(map: Record<string, unknown>): Buffer {
  const body = library.encode(map)
  return Buffer.concat([library.encode(body.byteLength), body])
}

let seed = 7
const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
const pick = <T>(values: T[]): T => values[Math.floor(random() * values.length)]!
// Integers straddling every msgpack width boundary.
const INTEGERS = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 1_764_000_000_000, Number.MAX_SAFE_INTEGER]
// String lengths straddling fixstr/str8/str16/str32.
const LENGTHS = [0, 1, 31, 32, 255, 256, 65535, 65536, 70000]
// Whole code points only: captured strings come from node's HTTP parser (latin1), so lone surrogates never occur.
const text = (length: number) => Array.from({ length }, () => pick(['a', 'é', '✓', '😀', '/', '%'])).join('')

t.test('REQ_DATA: byte-equal to the library for every width of reqId, time and data', async (t) => {
  let checked = 0
  for (const reqId of INTEGERS) {
    for (const serverTime of INTEGERS) {
      const size = pick([0, 1, 2, 3, 23, 24, 190, 191, 192, 49150, 49151, 49152, 70000])
      const chunk = Buffer.alloc(size)
      for (let i = 0; i < size; i++) chunk[i] = Math.floor(random() * 256)
      const fast = encodeReqData(reqId, serverTime, chunk)
      const expected = reference({ 1: 1, 2: reqId, 3: serverTime, 4: chunk.toString('base64') })
      if (!fast.equals(expected)) t.fail(`reqId ${reqId}, time ${serverTime}, ${size} bytes: ${fast.toString('hex', 0, 40)} != ${expected.toString('hex', 0, 40)}`)
      const prefix = fast[0]! < 0x80 ? 1 : fast[0] === 0xcc ? 2 : fast[0] === 0xcd ? 3 : 5
      const map = decode(fast.subarray(prefix)) as Record<string, unknown>
      if (map['2'] !== reqId || map['3'] !== serverTime || !Buffer.from(map['4'] as string, 'base64').equals(chunk)) t.fail('library decoder disagrees')
      checked++
    }
  }
  t.equal(checked, INTEGERS.length ** 2, `${checked} events byte-equal and decoded`)
})

t.test('REQ_END: byte-equal to the library for every string width, unicode and header count', async (t) => {
  let checked = 0
  for (let round = 0; round < 300; round++) {
    const headerCount = pick([0, 1, 3, 15, 16, 20])
    const headers: Record<string, string> = {}
    for (let i = 0; i < headerCount; i++) headers[`x-h${i}-${text(3)}`] = text(pick(LENGTHS.slice(0, 6)))
    const end: Omit<ReqEndEvent, 'type'> = {
      reqId: pick(INTEGERS),
      serverTime: pick(INTEGERS),
      ip: pick(['', '127.0.0.1', '2001:db8::1', text(pick(LENGTHS.slice(0, 5)))]),
      contentType: text(pick(LENGTHS.slice(0, 5))),
      path: text(pick(LENGTHS)),
      method: pick(['GET', 'POST', '', text(40)]),
      headers,
      outcome: pick([0, 1, 2, 3, 4]) as ReqEndEvent['outcome'],
    }
    const fast = encodeReqEnd(end)
    const expected = reference({ 1: 2, 2: end.reqId, 3: end.serverTime, 5: end.ip, 6: end.contentType, 7: end.path, 8: end.method, 9: end.headers, 10: end.outcome })
    if (!fast.equals(expected)) {
      t.fail(`round ${round}: bytes differ`)
      continue
    }
    checked++
  }
  t.equal(checked, 300, 'all 300 random REQ_END events byte-equal to the library')
})

t.test('REQ_DATA as msgpack bin: byte-equal to the library encoding the bytes as bin', async (t) => {
  let checked = 0
  for (const reqId of INTEGERS) {
    const size = pick([1, 2, 255, 256, 65535, 65536, 70000])
    const chunk = Buffer.alloc(size)
    for (let i = 0; i < size; i++) chunk[i] = Math.floor(random() * 256)
    const fast = encodeReqData(reqId, 1_764_000_000_000, chunk, 'bin')
    // The library writes a Uint8Array as bin.
    const expected = reference({ 1: 1, 2: reqId, 3: 1_764_000_000_000, 4: new Uint8Array(chunk) })
    if (!fast.equals(expected)) t.fail(`reqId ${reqId}, ${size} bytes: ${fast.toString('hex', 0, 40)} != ${expected.toString('hex', 0, 40)}`)
    else checked++
  }
  t.equal(checked, INTEGERS.length, `${checked} bin events byte-equal`)
})

t.test('frames written into a shared buffer at an offset are the bytes of the stand-alone encoders', async (t) => {
  const target = Buffer.alloc(4096, 0xee)
  const end = { reqId: 300, serverTime: 5, ip: '10.1.2.3', contentType: 'text/plain', path: '/p?q=é', method: 'POST', headers: { 'user-agent': 'x' }, outcome: 0 as const }
  const data = reqDataFrame(300, 5, Buffer.from('hello body'))
  const endFrame = reqEndFrame(end)
  data.writeInto(target, 7)
  endFrame.writeInto(target, 7 + data.byteLength)
  t.same(target.subarray(0, 7), Buffer.alloc(7, 0xee), 'nothing written before the offset')
  t.same(target.subarray(7, 7 + data.byteLength), encodeReqData(300, 5, Buffer.from('hello body')))
  t.same(target.subarray(7 + data.byteLength, 7 + data.byteLength + endFrame.byteLength), encodeReqEnd(end))
  t.equal(target[7 + data.byteLength + endFrame.byteLength], 0xee, 'nothing written past the frames')
})
