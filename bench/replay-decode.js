// Decode throughput of the replay reader: how fast stored batches turn back
// into requests and events. Prints figures; never fails on a slow machine.
//   npm run build && node bench/replay-decode.js [rawMiB=64]
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { gzipSync } from 'node:zlib'
import {
  BatchReader,
  DirectorySource,
  decodeBatchV1,
  encodeJsonEvents,
  encodeReqData,
  encodeReqEnd,
  formatObjectKey,
  readBatchBody,
} from '../dist/index.js'

const rawTarget = Number(process.argv[2] ?? 64) * 1024 * 1024
const batchBytes = 8 * 1024 * 1024
const t0 = Date.UTC(2026, 0, 1)

// Realistic traffic: JSON posts of 1-5 events, each request's body in one chunk.
function makeBatch(firstReqId) {
  const parts = []
  let bytes = 0
  let reqId = firstReqId
  while (bytes < batchBytes) {
    const n = 1 + (reqId % 5)
    const events = Array.from({ length: n }, (_, i) => ({ key: `${reqId}-${i}`, type: 'click', value: { page: `/p/${reqId % 97}`, user: `u${reqId % 1013}` }, clientTime: t0 + reqId }))
    const data = encodeReqData(reqId, t0 + reqId, Buffer.from(encodeJsonEvents(events)))
    const end = encodeReqEnd({ reqId, serverTime: t0 + reqId, ip: '203.0.113.7', contentType: 'application/json', path: '/api/post-events?bucket=bench', method: 'POST', headers: { 'user-agent': 'bench/1.0' }, outcome: 0 })
    parts.push(data, end)
    bytes += data.length + end.length
    reqId++
  }
  return { raw: Buffer.concat(parts), nextReqId: reqId }
}

const dir = mkdtempSync(join(tmpdir(), 'ls-bench-replay-'))
try {
  const batches = []
  let reqId = 1
  let rawBytes = 0
  for (let number = 1; rawBytes < rawTarget; number++) {
    const { raw, nextReqId } = makeBatch(reqId)
    reqId = nextReqId
    rawBytes += raw.length
    const gz = gzipSync(raw)
    const key = formatObjectKey({ serverToken: 'BenchSrv', randomToken: 'RandomTk', batchNumber: number, startTime: t0 + number * 10_000 })
    mkdirSync(dirname(join(dir, key)), { recursive: true })
    writeFileSync(join(dir, key), gz)
    batches.push({ raw, gz })
  }
  const mib = rawBytes / 1024 / 1024
  const gzMib = batches.reduce((sum, b) => sum + b.gz.length, 0) / 1024 / 1024
  console.log(`${batches.length} batches, ${mib.toFixed(1)} MiB raw, ${gzMib.toFixed(1)} MiB gzipped, ${reqId - 1} requests`)

  const measure = async (name, run) => {
    await run() // warm-up
    const start = process.hrtime.bigint()
    const count = await run()
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    console.log(`${name.padEnd(42)} ${(mib / seconds).toFixed(0).padStart(6)} MiB/s raw  ${(count / seconds / 1000).toFixed(0).padStart(6)} k items/s`)
  }

  await measure('decodeBatchV1 (raw → HTTP events)', async () => {
    let n = 0
    for (const { raw } of batches) for (const _ of decodeBatchV1(raw)) n++
    return n
  })
  await measure('readBatchBody (gunzip + decode)', async () => {
    let n = 0
    for (const { gz } of batches) for (const _ of readBatchBody(gz)) n++
    return n
  })
  await measure('BatchReader.requests() from a directory', async () => {
    let n = 0
    for await (const _ of new BatchReader({ source: new DirectorySource(dir) }).requests()) n++
    return n
  })
  await measure('BatchReader.events() from a directory', async () => {
    let n = 0
    for await (const _ of new BatchReader({ source: new DirectorySource(dir) }).events()) n++
    return n
  })
} finally {
  rmSync(dir, { recursive: true, force: true })
}
