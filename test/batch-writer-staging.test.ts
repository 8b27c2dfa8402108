// The batch writer writes frames into staging buffers (one gzip member each) it reuses once zlib is done with them:
// whatever the mix of frame sizes and pauses, the gunzipped batch is exactly the frames in order.
import t from 'tap'
import { gunzipSync } from 'node:zlib'
import { BatchWriter, frameBytes, reqDataFrame, reqEndFrame, type SealedBatch } from '../src/index.js'

t.test('frames of every size, across many reused staging buffers and pauses, come out byte-exact and in order', async (t) => {
  const sealed: SealedBatch[] = []
  const writer = new BatchWriter({ serverToken: 'Kz8mNc2Q', batchSeconds: 3600, maxBatchBytes: 1024 * 1024, onSealed: (batch) => sealed.push(batch) })
  const expected: Buffer[] = []
  let seed = 11
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  for (let reqId = 1; reqId <= 3000; reqId++) {
    // Mostly small bodies, some near and over the 64 KiB staging size.
    const size = random() < 0.9 ? Math.floor(random() * 2000) + 1 : Math.floor(random() * 90_000) + 1
    const body = Buffer.alloc(size)
    for (let i = 0; i < size; i += 97) body[i] = (reqId + i) & 0xff
    const data = reqDataFrame(reqId, 1_764_000_000_000 + reqId, body, reqId % 2 ? 'base64' : 'bin')
    const end = reqEndFrame({ reqId, serverTime: 1_764_000_000_001, ip: '10.0.0.1', contentType: 'text/plain', path: `/r/${reqId}`, method: 'POST', headers: {}, outcome: 0 })
    expected.push(frameBytes(data), frameBytes(end))
    writer.append(data)
    writer.append(end)
    // Let zlib catch up (and staging buffers come back) now and then.
    if (reqId % 200 === 0) await new Promise((resolve) => setTimeout(resolve, reqId % 400 === 0 ? 25 : 0))
  }
  await writer.seal()
  t.ok(sealed.length > 3, `${sealed.length} batches (sealed by size)`)
  const raw = Buffer.concat(sealed.map((batch) => gunzipSync(batch.body)))
  const want = Buffer.concat(expected)
  t.equal(raw.byteLength, want.byteLength, 'same length')
  t.ok(raw.equals(want), 'byte-exact, in order')
  t.equal(sealed.reduce((n, batch) => n + batch.events, 0), 6000)
})
