// A batch body is one or more gzip members (formats/batch-v1.md §1): the writer compresses each
// staging buffer as a member of its own, several at once, and concatenates them in hand-off order;
// both readers read every member, count the size cap over all of them, and report a damaged member
// after the events of the members before it, at the offset where its bytes stop.
import t from 'tap'
import * as zlib from 'node:zlib'
import { gunzipSync, gzipSync, inflateRawSync } from 'node:zlib'
import { execFileSync } from 'node:child_process'
import { request } from 'undici'
import { BatchWriter, LoggingServer, encodeReqData, frameBytes, reqDataFrame, reqEndFrame, type SealedBatch } from '../src/index.js'
import type { BatchWriter as BatchWriterClass } from '../src/batch/batch-writer.js'
import { readBatchBody, readBatchBodyStream } from '../src/reader/batch-body.js'
import { readLoggedRequests } from './helpers/batches.js'
import { tempDir } from './helpers/temp.js'

/**
 * Splits a body as the writer makes it (no optional header fields) into its members: each member's
 * end is where its deflate data ends (inflateRaw counts what it read) plus the 8-byte trailer, and
 * each piece must gunzip on its own to what was inflated.
 */
function splitMembers(body: Buffer): Buffer[] {
  const members: Buffer[] = []
  let at = 0
  while (at < body.byteLength) {
    if (body.readUInt32BE(at) !== 0x1f8b0800) throw new Error(`no member header at ${at}`)
    const { buffer, engine } = inflateRawSync(body.subarray(at + 10), { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } }
    const end = at + 10 + engine.bytesWritten + 8
    const member = body.subarray(at, end)
    if (!gunzipSync(member).equals(buffer)) throw new Error(`member at ${at} does not gunzip alone`)
    members.push(member)
    at = end
  }
  return members
}

/** Frames of `count` requests with pseudo-random bodies of `size` bytes (not too compressible). */
function requestFrames(count: number, size: number, firstReqId = 1): Buffer[] {
  const frames: Buffer[] = []
  for (let reqId = firstReqId; reqId < firstReqId + count; reqId++) {
    const body = Buffer.alloc(size)
    for (let i = 0; i < size; i += 4) body.writeUInt32LE(((i + reqId) * 2654435761) >>> 0, i)
    frames.push(encodeReqData(reqId, 1_764_000_000_000 + reqId, body))
  }
  return frames
}

async function decodeBoth(body: Buffer, options: { maxRawBytes?: number } = {}) {
  const sync: number[] = []
  const stream: number[] = []
  let syncError: unknown
  let streamError: unknown
  try {
    for (const { event } of readBatchBody(body, options)) sync.push(event.reqId)
  } catch (err) {
    syncError = err
  }
  try {
    for await (const { event } of readBatchBodyStream(body, options)) stream.push(event.reqId)
  } catch (err) {
    streamError = err
  }
  return { sync, stream, syncError, streamError }
}

const reqIds = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

t.test('several members, boundaries between and inside frames, decode fully with both readers', async (t) => {
  const raw = Buffer.concat(requestFrames(40, 9000))
  // Cut at frame boundaries and mid-frame alike: a reader must not care where members end.
  const cuts = [0, 9017, 100_000, 200_003, 290_000, raw.byteLength]
  const body = Buffer.concat(cuts.slice(1).map((end, i) => gzipSync(raw.subarray(cuts[i], end))))
  t.equal(splitMembers(body).length, 5, 'five members')
  const { sync, stream, syncError, streamError } = await decodeBoth(body)
  t.equal(syncError, undefined)
  t.equal(streamError, undefined)
  t.same(sync, reqIds(1, 40), 'readBatchBody: every event of every member, in order')
  t.same(stream, reqIds(1, 40), 'readBatchBodyStream: the same')
})

t.test('the size cap counts the raw bytes of every member together', async (t) => {
  const [first, second] = requestFrames(2, 500)
  const body = Buffer.concat([gzipSync(first!), gzipSync(second!)])
  t.ok(first!.byteLength < 1000 && second!.byteLength < 1000 && first!.byteLength + second!.byteLength > 1000, 'each member alone is under the cap, both are over')
  const { sync, stream, syncError, streamError } = await decodeBoth(body, { maxRawBytes: 1000 })
  t.match(syncError, { code: 'LS_BATCH_DECODE', offset: 1000, message: /larger than 1000 bytes uncompressed/ })
  t.match(streamError, { code: 'LS_BATCH_DECODE', offset: 1000, message: /larger than 1000 bytes uncompressed/ })
  t.same(sync, [], 'the whole-buffer reader stops before decoding')
  t.same(stream, [1], 'the stream reader hands out the event within the cap first')
  const within = await decodeBoth(body, { maxRawBytes: first!.byteLength + second!.byteLength })
  t.same([within.sync, within.stream], [[1, 2], [1, 2]], 'at exactly the raw size both events come out')
})

t.test('a damaged second member: the first member’s events, then an error at the offset where its bytes stop', async (t) => {
  // A first member of ~360 KiB raw: more than one output chunk of the stream reader's gunzip.
  const firstFrames = requestFrames(30, 9000)
  const secondFrames = requestFrames(3, 9000, 31)
  const firstRaw = Buffer.concat(firstFrames)
  const first = gzipSync(firstRaw)
  const second = gzipSync(Buffer.concat(secondFrames))
  const damages: Array<[string, Buffer]> = [
    ['bad deflate block', Buffer.concat([first, second.subarray(0, 10), Buffer.from([0xff]), second.subarray(11)])],
    ['bad header', Buffer.concat([first, Buffer.from([0x1f, 0x00]), second.subarray(2)])],
    ['bad CRC', Buffer.concat([first, second.subarray(0, -8), Buffer.from(second.subarray(-8).map((b) => b ^ 0xff))])],
  ]
  for (const [name, body] of damages) {
    const { sync, stream, syncError, streamError } = await decodeBoth(body)
    t.same(sync, reqIds(1, 30), `${name}: readBatchBody keeps the first member's events`)
    t.match(syncError, { code: 'LS_BATCH_DECODE', offset: firstRaw.byteLength, reason: /gzip stream is damaged/ }, `${name}: whole-buffer error at the end of member 1`)
    if (name === 'bad CRC') {
      // The stream reader hands out events as their bytes inflate; a member's CRC is checked at its end.
      t.same(stream.slice(0, 30), reqIds(1, 30), `${name}: readBatchBodyStream keeps the first member's events`)
      t.match(streamError, { code: 'LS_BATCH_DECODE', reason: /incorrect data check/ }, `${name}: then the stream error`)
      t.ok((streamError as { offset: number }).offset >= firstRaw.byteLength, `${name}: at or after the end of member 1`)
    } else {
      t.same(stream, reqIds(1, 30), `${name}: readBatchBodyStream keeps them too`)
      t.match(streamError, { code: 'LS_BATCH_DECODE', offset: firstRaw.byteLength, reason: /gzip stream is damaged/ }, `${name}: stream error at the end of member 1`)
    }
  }
  // Truncated in the middle of the second member: what inflates of it comes out too.
  const cut = Buffer.concat([first, gzipSync(Buffer.concat(secondFrames), { level: 0 }).subarray(0, 20_000)])
  const { stream, streamError } = await decodeBoth(cut)
  t.same(stream, reqIds(1, 31), 'truncated: the first member and the whole event inflated from the second')
  t.match(streamError, { code: 'LS_BATCH_DECODE', reason: 'gzip stream is truncated' })
  t.ok((streamError as { offset: number }).offset > firstRaw.byteLength + secondFrames[0]!.byteLength, 'offset past what the second member gave')
})

t.test('a batch written under load is several members and decodes to exactly the frames written', async (t) => {
  const sealed: SealedBatch[] = []
  const writer = new BatchWriter({ serverToken: 'Kz8mNc2Q', batchSeconds: 3600, maxBatchBytes: 8 * 1024 * 1024, onSealed: (batch) => sealed.push(batch) })
  const expected: Buffer[] = []
  for (let reqId = 1; reqId <= 300; reqId++) {
    const body = Buffer.alloc(65536)
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE(((i + reqId) * 2654435761) >>> 0, i)
    const data = reqDataFrame(reqId, 1_764_000_000_000 + reqId, body, 'base64')
    const end = reqEndFrame({ reqId, serverTime: 1_764_000_000_001, ip: '10.0.0.1', contentType: 'application/json', path: `/r/${reqId}`, method: 'POST', headers: {}, outcome: 0 })
    expected.push(frameBytes(data), frameBytes(end))
    writer.append(data)
    writer.append(end)
    // Bursts of 30 requests (~2.6 MB raw) with no pause: many members in flight and queued at once.
    if (reqId % 30 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  await writer.seal()
  t.ok(sealed.length >= 3, `${sealed.length} batches`)
  const memberCounts = sealed.map((batch) => splitMembers(batch.body).length)
  t.ok(memberCounts.every((n) => n > 1), `members per batch: ${memberCounts.join(', ')}`)
  const raw = Buffer.concat(sealed.map((batch) => gunzipSync(batch.body)))
  t.ok(raw.equals(Buffer.concat(expected)), 'byte-exact, in order')
  const decoded: number[] = []
  for (const batch of sealed) for await (const { event } of readBatchBodyStream(batch.body)) if (event.type === 2) decoded.push(event.reqId)
  t.same(decoded, reqIds(1, 300), 'the stream reader reads every member of every batch')
})

t.test('through the server: many 64 KiB bodies at once come back byte-exact from multi-member batches', async (t) => {
  const directory = tempDir(t)
  const server = new LoggingServer({ directory, batchSeconds: 60, maxBatchBytes: 4 * 1024 * 1024 })
  const { port } = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close().catch(() => {}))
  const bodies = Array.from({ length: 160 }, (_, n) => {
    const body = Buffer.alloc(65536)
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE(((i + n) * 2654435761) >>> 0, i)
    return body
  })
  // 16 clients at a time.
  let next = 0
  const statuses: number[] = []
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < bodies.length) {
        const n = next++
        const res = await request(`http://127.0.0.1:${port}/load/${n}`, { method: 'POST', body: bodies[n] })
        statuses.push(res.statusCode)
        await res.body.dump()
      }
    }),
  )
  t.ok(statuses.length === bodies.length && statuses.every((status) => status === 200), 'every request answered 200')
  await server.close()
  const { requests, batches, incomplete } = await readLoggedRequests(directory)
  t.same(incomplete, [])
  t.ok(batches.length >= 2, `${batches.length} batches`)
  t.ok(batches.every((batch) => splitMembers(batch.body).length > 1), 'every batch is several members')
  const byPath = new Map(requests.map((r) => [r.path, r.body]))
  t.ok(bodies.every((body, n) => byPath.get(`/load/${n}`)?.equals(body)), 'every body byte-exact')
})

t.test('members that finish out of order are concatenated in hand-off order', async (t) => {
  // zlib whose first member finishes only after the three after it (members 2-4 first, then 1):
  // members are handed to engines in order, so the n-th Z_FINISH flush ends the n-th member.
  const finished: number[] = []
  let calls = 0
  let releaseFirst: (() => void) | undefined
  const laterDone = new Set<number>()
  const reorderingZlib = {
    ...zlib,
    createGzip: (options?: zlib.ZlibOptions) => {
      const engine = zlib.createGzip(options)
      const flush = engine.flush.bind(engine) as (kind: number, callback: () => void) => void
      engine.flush = ((kind: number, callback: () => void) => {
        const call = ++calls
        flush(kind, () => {
          const done = () => {
            finished.push(call)
            callback()
          }
          if (call === 1) {
            releaseFirst = done
            if (laterDone.size === 3) done()
            return
          }
          done()
          if (call > 4) return
          laterDone.add(call)
          if (laterDone.size === 3) releaseFirst?.()
        })
      }) as typeof engine.flush
      return engine
    },
  }
  const { BatchWriter: MockedWriter } = await t.mockImport<typeof import('../src/batch/batch-writer.js')>('../src/batch/batch-writer.js', { 'node:zlib': reorderingZlib })
  const sealed: SealedBatch[] = []
  const writer: BatchWriterClass = new MockedWriter({ serverToken: 'Kz8mNc2Q', stagingBytes: 4096, maxMembersInFlight: 8, onSealed: (batch) => sealed.push(batch) })
  const expected: Buffer[] = []
  for (let reqId = 1; reqId <= 40; reqId++) {
    const data = reqDataFrame(reqId, 1_764_000_000_000 + reqId, Buffer.alloc(700, reqId), 'base64')
    expected.push(frameBytes(data))
    writer.append(data)
  }
  await writer.seal()
  t.ok([2, 3, 4].every((call) => finished.indexOf(1) > finished.indexOf(call)), `the first member finished after members 2-4 (order ${finished.join(', ')})`)
  t.equal(sealed.length, 1)
  t.equal(splitMembers(sealed[0]!.body).length, calls, `${calls} members`)
  t.ok(gunzipSync(sealed[0]!.body).equals(Buffer.concat(expected)), 'the body is the frames in the order written')
  t.same([...readBatchBody(sealed[0]!.body)].map(({ event }) => event.reqId), reqIds(1, 40), 'decoded events in order')
})

t.test('a member zlib fails on: the batch is not sealed, its waiters get the error, the next batch compresses', async (t) => {
  // The second engine created fails on its first member.
  let created = 0
  const failingZlib = {
    ...zlib,
    createGzip: (options?: zlib.ZlibOptions) => {
      const engine = zlib.createGzip(options)
      if (++created === 2) {
        const write = engine.write.bind(engine) as (chunk: Buffer) => boolean
        engine.write = ((chunk: Buffer) => {
          process.nextTick(() => engine.destroy(Object.assign(new Error('zlib: out of memory'), { code: 'Z_MEM_ERROR' })))
          return write(chunk)
        }) as typeof engine.write
      }
      return engine
    },
  }
  const { BatchWriter: MockedWriter } = await t.mockImport<typeof import('../src/batch/batch-writer.js')>('../src/batch/batch-writer.js', { 'node:zlib': failingZlib })
  const sealed: SealedBatch[] = []
  const reported: Error[] = []
  const writer: BatchWriterClass = new MockedWriter({ serverToken: 'Kz8mNc2Q', stagingBytes: 4096, onSealed: (batch) => sealed.push(batch), onJournalError: (error) => reported.push(error) })
  for (let reqId = 1; reqId <= 20; reqId++) writer.append(reqDataFrame(reqId, 1, Buffer.alloc(700, reqId), 'base64'))
  const failed = writer.openBatch!
  await writer.seal()
  await t.rejects(failed.stored, { code: 'LS_SPOOL_UNAVAILABLE', message: /could not compress batch .*out of memory/ }, 'the batch’s waiters get the error')
  t.equal(sealed.length, 0, 'nothing handed on to store')
  t.match(reported, [{ code: 'LS_SPOOL_UNAVAILABLE' }], 'reported once')
  for (let reqId = 21; reqId <= 40; reqId++) writer.append(reqDataFrame(reqId, 1, Buffer.alloc(700, reqId), 'base64'))
  await writer.seal()
  t.equal(sealed.length, 1, 'the next batch is sealed')
  t.same([...readBatchBody(sealed[0]!.body)].map(({ event }) => event.reqId), reqIds(21, 40), 'with all its events (a new engine took the failed one’s place)')
})

t.test('other gzip readers read every member too: gzip -dc and Python’s gzip module', async (t) => {
  const sealed: SealedBatch[] = []
  const writer = new BatchWriter({ serverToken: 'Kz8mNc2Q', stagingBytes: 64 * 1024, onSealed: (batch) => sealed.push(batch) })
  for (let reqId = 1; reqId <= 40; reqId++) {
    const body = Buffer.alloc(9000)
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE(((i + reqId) * 2654435761) >>> 0, i)
    writer.append(reqDataFrame(reqId, 1_764_000_000_000 + reqId, body, 'bin'))
  }
  await writer.seal()
  const body = sealed[0]!.body
  const raw = gunzipSync(body)
  t.ok(splitMembers(body).length > 3, 'several members')
  t.ok(execFileSync('gzip', ['-dc'], { input: body, maxBuffer: 64 * 1024 * 1024 }).equals(raw), 'gzip -dc: all members')
  let python: Buffer | undefined
  try {
    python = execFileSync('python3', ['-c', 'import gzip, sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))'], { input: body, maxBuffer: 64 * 1024 * 1024 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (python) t.ok(python.equals(raw), 'Python gzip.decompress: all members')
  else t.comment('python3 is not installed: Python’s reader not checked')
})

t.test('a reader waiting on staged bytes alone gets them compressed (a member cut early) instead of waiting for the seal', async (t) => {
  const sealed: SealedBatch[] = []
  const writer = new BatchWriter({ serverToken: 'Kz8mNc2Q', batchSeconds: 3600, compressionBacklogBytes: 2048, onSealed: (batch) => sealed.push(batch) })
  writer.append(reqDataFrame(1, 1, Buffer.alloc(3000, 1), 'bin'))
  t.ok(writer.congested, 'congested: 3 KB staged, none compressing')
  await new Promise<void>((resolve) => writer.whenUncongested(resolve))
  t.notOk(writer.congested, 'resumed with the batch still open')
  t.equal(sealed.length, 0, 'not sealed')
  writer.append(reqDataFrame(2, 2, Buffer.alloc(100, 2), 'bin'))
  await writer.seal()
  t.equal(splitMembers(sealed[0]!.body).length, 2, 'the early cut made a member of its own')
  t.same([...readBatchBody(sealed[0]!.body)].map(({ event }) => event.reqId), [1, 2])
})
