// Replay under hostile batches: a gzip bomb is read as a stream with a bound (the good prefix
// kept), crafted open requests are capped with a counted drop, and odd inputs (a FIFO, an empty
// batch file, a missing --dir) each end with a clear message and a documented exit code.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { createGzip } from 'node:zlib'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { main } from '../src/cli/main.js'
import { BatchReader, DirectorySource, encodeReqData, encodeReqEnd, formatObjectKey, readBatchBodyStream, type ReadProblem } from '../src/index.js'
import { captureIo } from './helpers/cli-io.js'
import { tempDir } from './helpers/temp.js'

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0)
const end = (reqId: number) => encodeReqEnd({ reqId, serverTime: T0, ip: '', contentType: 'text/plain', path: `/r/${reqId}`, method: 'POST', headers: {}, outcome: 0 })

/** gzip of `head` followed by `block` repeated up to `total` bytes, streamed so the test never holds the raw bytes. */
async function gzipRepeated(head: Buffer, block: Buffer, total: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 })
  const out: Buffer[] = []
  gzip.on('data', (chunk: Buffer) => out.push(chunk))
  const done = new Promise((resolve) => gzip.on('end', resolve))
  gzip.write(head)
  const unit = Buffer.concat(Array.from({ length: Math.max(1, Math.floor((1024 * 1024) / block.byteLength)) }, () => block))
  for (let left = total; left > 0; left -= unit.byteLength) {
    if (!gzip.write(unit)) await new Promise((resolve) => gzip.once('drain', resolve))
  }
  gzip.end()
  await done
  return Buffer.concat(out)
}

function writeBatchFile(dir: string, body: Buffer, batchNumber = 1): string {
  const key = formatObjectKey({ startTime: T0, serverToken: '4hTqA3xP', randomToken: 'RandomTk', batchNumber })
  const path = join(dir, ...key.split('/'))
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, body)
  return path
}

t.test('a gzip bomb after 1,000 good requests: the requests are kept, the rest stops at the cap, memory stays bounded', async (t) => {
  const good = Buffer.concat(Array.from({ length: 1000 }, (_, i) => [encodeReqData(i + 1, T0, Buffer.from(`body ${i + 1}`)), end(i + 1)]).flat())
  // 64 MiB of zeros after the good events, under an 8 MiB cap: inflating all at once fails at the cap
  // before a single event is read; a streamed read keeps everything before the damage.
  const bomb = await gzipRepeated(good, Buffer.alloc(1024), 64 * 1024 * 1024)
  const dir = tempDir(t)
  writeBatchFile(dir, bomb)
  const problems: ReadProblem[] = []
  const reader = new BatchReader({ source: new DirectorySource(dir), maxRawBytes: 8 * 1024 * 1024, onProblem: (problem) => problems.push(problem) })
  let requests = 0
  for await (const _ of reader.requests()) requests++
  t.equal(requests, 1000, 'the 1,000 requests before the damage are kept')
  t.equal(reader.report.damagedBatches, 1)
  t.ok(problems.some((problem) => problem.kind === 'damaged-batch'), 'the damage is reported')
})

t.test('the stream reader never inflates past the cap, and hands out every event within it', async (t) => {
  // 128 MiB of valid 1 KiB events under a 16 MiB cap.
  const frame = encodeReqData(1, T0, Buffer.alloc(1000, 0x61))
  const bomb = await gzipRepeated(Buffer.alloc(0), frame, 128 * 1024 * 1024)
  const before = process.memoryUsage().arrayBuffers
  let peak = before
  let events = 0
  let error: Error | undefined
  try {
    for await (const _ of readBatchBodyStream(bomb, { maxRawBytes: 16 * 1024 * 1024 })) {
      events++
      if (events % 1000 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers)
    }
  } catch (err) {
    error = err as Error
  }
  t.match(error, { code: 'LS_BATCH_DECODE', reason: /larger than 16777216 bytes/ })
  t.equal(events, Math.floor((16 * 1024 * 1024) / frame.byteLength), 'every whole event within the cap is handed out first')
  t.ok(peak - before < 64 * 1024 * 1024, `buffers grew by ${Math.round((peak - before) / 1024 / 1024)} MiB while reading (the cap is 16 MiB, the bomb 128 MiB)`)
})

t.test('crafted batches full of requests that never end: open requests are capped, the drop counted', async (t) => {
  const dir = tempDir(t)
  // 3 batches × 50,000 REQ_DATA without REQ_END.
  for (let batch = 0; batch < 3; batch++) {
    const frames = Array.from({ length: 50_000 }, (_, i) => encodeReqData(batch * 50_000 + i + 1, T0, Buffer.alloc(64, 0x61)))
    writeBatchFile(dir, Buffer.concat(frames), batch + 1)
  }
  const reader = new BatchReader({ source: new DirectorySource(dir), maxOpenRequests: 10_000 })
  let maxOpen = 0
  for await (const _ of reader.requests()) maxOpen = Math.max(maxOpen, reader.bufferedBytes)
  t.equal(reader.report.droppedOpen, 140_000, 'every request past the cap is dropped and counted')
  t.equal(reader.report.incomplete, 150_000, 'all of them are incomplete in the end')
  t.ok(reader.bufferedBytes === 0)
})

t.test('odd inputs: a FIFO, an empty batch file, a missing --dir', async (t) => {
  const dir = tempDir(t)
  const fifo = join(dir, 'v1/2026-11-25/12-00-00-000-Z-4hTqA3xP-RandomTk-1-v1.gz')
  mkdirSync(dirname(fifo), { recursive: true })
  execFileSync('mkfifo', [fifo])
  let io = captureIo()
  t.equal(await main(['replay', fifo], io), 3, 'a FIFO: skipped (exit 3), not a hang')
  t.match(io.err(), /not a regular file/)

  const emptyDir = tempDir(t)
  const empty = writeBatchFile(emptyDir, Buffer.alloc(0))
  io = captureIo()
  t.equal(await main(['replay', empty], io), 3, 'an empty batch file: skipped (exit 3)')
  t.match(io.err(), /empty batch/)

  io = captureIo()
  t.equal(await main(['replay', '--dir', join(dir, 'missing')], io), 1, '--dir that does not exist: exit 1')
  t.match(io.err(), /no such directory/)
})
