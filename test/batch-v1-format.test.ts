// Golden vectors of formats/batch-v1.md in both directions, plus random round trips.
import t, { type Test } from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { gunzipSync, gzipSync } from 'node:zlib'
import { decode } from '@msgpack/msgpack'
import { BatchDecodeError, BatchWriter, decodeBatchV1, encodeReqData, encodeReqEnd, reqDataFrame, reqEndFrame, type BodyEncoding, type HttpEvent, type ReqEndEvent, type SealedBatch } from '../src/index.js'
import { readBatchBody, readBatchBodyStream } from '../src/reader/batch-body.js'

const VECTORS = new URL('../formats/vectors/batch-v1/', import.meta.url)

interface Vector {
  description: string
  direction: 'both' | 'read' | 'reject'
  hex: string
  events?: Array<Record<string, unknown>>
  error?: { offset: number; reason: string }
  /** `both` vectors: the writer's body encoding (formats/batch-v1.md §3.1); base64 when absent. */
  bodyEncoding?: BodyEncoding
  /**
   * The same events as a stored (gzip) body of several members (formats/batch-v1.md §1), as the
   * BatchWriter cuts them with staging buffers of `stagingBytes` at `level`; `memberBytes` are the
   * members' compressed sizes, in order.
   */
  gzip?: { stagingBytes: number; level: number; memberBytes: number[]; hex: string }
}

const vectors = readdirSync(VECTORS)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, ...(JSON.parse(readFileSync(new URL(name, VECTORS), 'utf8')) as Vector) }))

const bytesOf = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex')

/** Events as the vectors write them: data as base64. */
function plain(event: HttpEvent): Record<string, unknown> {
  return event.type === 1 ? { ...event, data: Buffer.from(event.data).toString('base64') } : { ...event }
}

function encode(event: Record<string, unknown>, bodyEncoding: BodyEncoding = 'base64'): Buffer {
  if (event['type'] === 1) return encodeReqData(event['reqId'] as number, event['serverTime'] as number, Buffer.from(event['data'] as string, 'base64'), bodyEncoding)
  const { type: _type, ...end } = event
  return encodeReqEnd(end as unknown as Omit<ReqEndEvent, 'type'>)
}

t.ok(vectors.filter((v) => v.direction === 'both').length >= 3, 'writer vectors present')
t.ok(vectors.filter((v) => v.direction === 'read').length >= 3, 'reader vectors present')
t.ok(vectors.filter((v) => v.direction === 'reject').length >= 6, 'reject vectors present')

for (const vector of vectors) {
  t.test(`${vector.name}: ${vector.description}`, async (t) => {
    const bytes = bytesOf(vector.hex)
    if (vector.direction === 'reject') {
      let error: unknown
      try {
        for (const _ of decodeBatchV1(bytes)) {
          // drain
        }
      } catch (err) {
        error = err
      }
      t.type(error, BatchDecodeError)
      t.equal((error as BatchDecodeError).offset, vector.error!.offset, 'offset')
      t.match((error as BatchDecodeError).reason, vector.error!.reason, 'reason')
      t.equal((error as BatchDecodeError).code, 'LS_BATCH_DECODE')
      return
    }
    const decoded = [...decodeBatchV1(bytes)].map(({ event }) => plain(event))
    t.same(decoded, vector.events, 'reader decodes the vector to its events')
    t.same([...decodeBatchV1(bytes, { fastPath: false })].map(({ event }) => plain(event)), vector.events, 'the general path agrees')
    if (vector.direction === 'both') {
      const written = Buffer.concat(vector.events!.map((event) => encode(event, vector.bodyEncoding)))
      t.equal(written.toString('hex'), bytes.toString('hex'), 'writer produces exactly the vector bytes')
      // Each frame's event is what a general msgpack decoder reads, with string keys.
      let offset = 0
      for (const event of vector.events!) {
        const frame = encode(event, vector.bodyEncoding)
        const length = decode(frame.subarray(0, frame[0]! <= 0x7f ? 1 : frame[0] === 0xcc ? 2 : 3)) as number
        const map = decode(frame.subarray(frame.byteLength - length)) as Record<string, unknown>
        t.equal(map['1'], event['type'])
        t.equal(map['2'], event['reqId'])
        offset += frame.byteLength
      }
      t.equal(offset, bytes.byteLength)
    }
    if (vector.gzip) await checkMembers(t, vector, bytes)
  })
}

/** A multi-member vector: each member alone, both readers, and the writer's member cuts. */
async function checkMembers(t: Test, vector: Vector, raw: Buffer): Promise<void> {
  const { stagingBytes, level, memberBytes, hex } = vector.gzip!
  const body = bytesOf(hex)
  t.equal(memberBytes.reduce((a, b) => a + b, 0), body.byteLength, 'the members make up the body')
  const memberRaws: Buffer[] = []
  let at = 0
  for (const size of memberBytes) {
    memberRaws.push(gunzipSync(body.subarray(at, at + size)))
    at += size
  }
  t.ok(memberBytes.length >= 2, `${memberBytes.length} members, each a complete gzip member`)
  t.ok(Buffer.concat(memberRaws).equals(raw), 'the members inflate to the raw stream, in order')
  t.same([...readBatchBody(body)].map(({ event }) => plain(event)), vector.events, 'readBatchBody reads every member')
  const streamed: Array<Record<string, unknown>> = []
  for await (const { event } of readBatchBodyStream(body)) streamed.push(plain(event))
  t.same(streamed, vector.events, 'readBatchBodyStream reads every member')
  // The writer, with the vector's staging size, cuts the members exactly there. (Compared as members
  // of this zlib, not as the vector's bytes: gzip output may differ between zlib builds.)
  const sealed: SealedBatch[] = []
  const writer = new BatchWriter({ serverToken: 'Kz8mNc2Q', stagingBytes, gzipLevel: level, onSealed: (batch) => sealed.push(batch) })
  for (const event of vector.events!) {
    if (event['type'] === 1) writer.append(reqDataFrame(event['reqId'] as number, event['serverTime'] as number, Buffer.from(event['data'] as string, 'base64'), vector.bodyEncoding ?? 'base64'))
    else {
      const { type: _type, ...end } = event
      writer.append(reqEndFrame(end as unknown as Omit<ReqEndEvent, 'type'>))
    }
  }
  await writer.seal()
  const expected = Buffer.concat(memberRaws.map((member) => gzipSync(member, { level })))
  t.ok(sealed[0]?.body.equals(expected), 'the writer cuts the same members')
}

t.test('random round trips through gzip', async (t) => {
  let seed = 42
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  const events: HttpEvent[] = []
  for (let i = 0; i < 500; i++) {
    const reqId = 1 + Math.floor(random() * 2 ** 40)
    const serverTime = Math.floor(random() * 2 ** 45)
    if (random() < 0.6) {
      const data = Buffer.alloc(1 + Math.floor(random() * 70_000 * (random() < 0.1 ? 1 : 0.01)))
      for (let j = 0; j < data.length; j++) data[j] = Math.floor(random() * 256)
      events.push({ type: 1, reqId, serverTime, data })
    } else {
      events.push({
        type: 2,
        reqId,
        serverTime,
        ip: random() < 0.5 ? '10.1.2.3' : '',
        contentType: random() < 0.5 ? 'application/json; charset=utf-8' : '',
        path: `/p/${'é'.repeat(Math.floor(random() * 40))}?q=${i}`,
        method: ['GET', 'POST', 'PUT', ''][Math.floor(random() * 4)]!,
        headers: random() < 0.5 ? { 'user-agent': 'x'.repeat(Math.floor(random() * 300)) } : {},
        outcome: Math.floor(random() * 5) as ReqEndEvent['outcome'],
      })
    }
  }
  const raw = Buffer.concat(events.map((event) => (event.type === 1 ? encodeReqData(event.reqId, event.serverTime, event.data) : encodeReqEnd(event))))
  const back = [...readBatchBody(gzipSync(raw))].map(({ event }) => event)
  t.equal(back.length, events.length)
  t.same(back.map(plain), events.map(plain))
  t.same([...decodeBatchV1(raw, { fastPath: false })].map(({ event }) => plain(event)), events.map(plain), 'fast and general paths agree')
})

t.test('limits and truncated gzip', async (t) => {
  const frame = encodeReqData(1, 1, Buffer.alloc(1000, 7))
  t.throws(() => [...decodeBatchV1(frame, { maxEventBytes: 100 })], { code: 'LS_BATCH_DECODE', message: /over the 100-byte limit/ })
  const two = Buffer.concat([encodeReqData(1, 1, Buffer.alloc(50_000, 1)), encodeReqData(2, 2, Buffer.alloc(50_000, 2))])
  const gz = gzipSync(two, { level: 0 })
  const cut = gz.subarray(0, gz.byteLength - 200)
  const seen: number[] = []
  t.throws(() => {
    for (const { event } of readBatchBody(cut)) seen.push(event.reqId)
  }, { code: 'LS_BATCH_DECODE' })
  t.same(seen, [1], 'the event before the damage is kept')
  t.throws(() => [...readBatchBody(gzipSync(Buffer.alloc(10_000)), { maxRawBytes: 1000 })], { message: /larger than 1000 bytes uncompressed/ })
})
