#!/usr/bin/env node
// CPU cost of tail ingest, for a machine too loaded for wall-clock figures: the same batches as
// event-server-bench.mjs (100 events per post-events request), measured as CPU time of the process
// (JS thread and DuckDB's threads) and of the JS thread alone (/proc/self/task/<pid>/stat).
//   npm run build && node bench/tail-cpu.mjs [--batches 20] [--requests 100] [--per-request 100] [--rounds 2] [--cluster-after N] [--only decode|tail] [--write-events N]
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { BatchTailer, DirectorySource, RequestDecoderRegistry, encodeJsonEvents, encodeReqData, encodeReqEnd, formatObjectKey, openEventStore, readBatchBody, RequestAssembler } from '../dist/index.js'
import { requestEvents } from '../dist/ingest/request-events.js'

const { values: args } = parseArgs({
  options: {
    batches: { type: 'string', default: '20' },
    requests: { type: 'string', default: '100' },
    'per-request': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '2' },
    'cluster-after': { type: 'string' },
    only: { type: 'string' },
    'write-events': { type: 'string' },
  },
})
const n = (name) => Number(args[name])
const dir = mkdtempSync(join(tmpdir(), 'tail-cpu-'))
const T0 = Date.UTC(2026, 10, 25, 12)
const batchDir = join(dir, 'batches')
let serial = 0
for (let b = 1; b <= n('batches'); b++) {
  const parts = []
  for (let r = 0; r < n('requests'); r++) {
    const events = Array.from({ length: n('per-request') }, (_, i) => ({ key: ['user', serial++], type: 'click', value: { page: `/p/${i}`, ms: 1.5 }, clientTime: T0 + i }))
    const reqId = b * 1_000_000 + r
    parts.push(encodeReqData(reqId, T0, Buffer.from(encodeJsonEvents(events))))
    parts.push(encodeReqEnd({ reqId, serverTime: T0 + b, ip: '10.0.0.1', contentType: 'application/json', path: '/api/post-events?bucket=tail', method: 'POST', headers: {}, outcome: 0 }))
  }
  const key = formatObjectKey({ serverToken: 'BenchTok', batchNumber: b, startTime: T0 + b * 1000, randomToken: 'RandomTk', gzipped: true })
  mkdirSync(dirname(join(batchDir, key)), { recursive: true })
  writeFileSync(join(batchDir, key), gzipSync(Buffer.concat(parts), { level: 3 }))
}
const ticks = 100 // USER_HZ
function mainThreadCpu() {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / ticks
}
async function measure(label, fn) {
  const cpu0 = process.cpuUsage()
  const main0 = mainThreadCpu()
  const wall0 = performance.now()
  const events = await fn()
  const cpu = process.cpuUsage(cpu0)
  const processSeconds = (cpu.user + cpu.system) / 1e6
  const mainSeconds = mainThreadCpu() - main0
  const wall = (performance.now() - wall0) / 1000
  console.log(`${label.padEnd(28)} ${events} events: ${Math.round(events / processSeconds).toLocaleString('en-US').padStart(9)} ev per process-CPU-s (${(processSeconds * 1e6 / events).toFixed(2)} µs/ev), JS thread ${(mainSeconds * 1e6 / events).toFixed(2)} µs/ev, wall ${Math.round(events / wall).toLocaleString('en-US')} ev/s`)
}
for (let round = 0; round < n('rounds'); round++) {
  if (args.only !== 'tail') await measure('decode only', async () => {
    const source = new DirectorySource(batchDir)
    const registry = new RequestDecoderRegistry()
    const assembler = new RequestAssembler()
    let events = 0
    for await (const key of source.listKeys({})) {
      for (const { event } of readBatchBody(await source.read(key))) {
        const done = assembler.push('BenchTok', event)
        if (done) {
          const decoded = requestEvents(registry, done)
          if (decoded.kind === 'events') events += decoded.events.length
        }
      }
    }
    return events
  })
  if (args.only !== 'decode') await measure('tail into duckdb', async () => {
    const store = await openEventStore({ db: join(dir, `events-${round}.duckdb`), ...(args['cluster-after'] ? { duckdb: { clusterAfterRows: Number(args['cluster-after']) } } : {}) })
    const tailer = new BatchTailer({ store, source: new DirectorySource(batchDir), stream: `bench-${round}`, ...(args['write-events'] ? { writeEvents: Number(args['write-events']) } : {}) })
    await tailer.poll()
    await store.whenClustered?.()
    await store.close()
    return tailer.report.events
  })
}
rmSync(dir, { recursive: true, force: true })
