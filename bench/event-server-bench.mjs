#!/usr/bin/env node
// EventServer benchmark (embedded DuckDB, or ClickHouse with --clickhouse URL):
//   1. tail ingest: gzipped LoggingServer batches → BatchTailer → store (events/s), next to the bare
//      decode rate of the same batches (gunzip + batch V1 + rejoin + post-events decoder: the ceiling);
//   2. direct POST /api/post-events, 100 events per request, durable 2xx (events/s);
//   3. GET /events.json range reads of 1,000 events from a bucket of --bucket-events (p50/p99 ms),
//      and the peak RSS while the whole bucket streams through one GET.
//
//   node event-server-bench.mjs [--batches 20] [--requests 100] [--per-request 100]
//        [--post-seconds 5] [--post-connections 8] [--bucket-events 1000000] [--reads 200]
//        [--clickhouse URL [--server-pid PID]] [--memory-limit 256MB] [--sections tail,post,read] [--json out.json]
//
// Run `npm run build` at the root first. Figures from a shared 2-core machine move by ±20 %.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { request } from 'undici'
import {
  BatchTailer,
  DirectorySource,
  EventServer,
  RequestDecoderRegistry,
  encodeJsonEvents,
  encodeKey,
  encodeReqData,
  encodeReqEnd,
  formatObjectKey,
  openEventStore,
  readBatchBody,
  RequestAssembler,
} from '../dist/index.js'
import { requestEvents } from '../dist/ingest/request-events.js'

const { values: args } = parseArgs({
  options: {
    batches: { type: 'string', default: '20' },
    requests: { type: 'string', default: '100' },
    'per-request': { type: 'string', default: '100' },
    'post-seconds': { type: 'string', default: '5' },
    'post-connections': { type: 'string', default: '8' },
    'bucket-events': { type: 'string', default: '1000000' },
    reads: { type: 'string', default: '200' },
    clickhouse: { type: 'string' },
    sections: { type: 'string', default: 'tail,post,read' },
    'server-pid': { type: 'string' },
    'memory-limit': { type: 'string' },
    json: { type: 'string' },
  },
})
const n = (name) => Number(args[name])
const dir = mkdtempSync(join(tmpdir(), 'es-bench-'))
const storeOptions = () =>
  args.clickhouse
    ? { clickhouse: args.clickhouse }
    : { db: join(dir, `events-${Math.random().toString(36).slice(2)}.duckdb`), ...(args['memory-limit'] ? { duckdb: { memoryLimit: args['memory-limit'] } } : {}) }
const sections = new Set(args.sections.split(','))
/** CPU seconds used so far by another process (--server-pid: the ClickHouse server), from /proc; 0 without one. */
const serverCpu = () => {
  if (!args['server-pid']) return 0
  const fields = readFileSync(`/proc/${args['server-pid']}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}
/** CPU seconds of this process (JS thread, DuckDB's threads, and the load generator where there is one) since `from`. */
const cpuSince = (from) => {
  const used = process.cpuUsage(from)
  return (used.user + used.system) / 1e6
}
const T0 = Date.UTC(2026, 10, 25, 12)
const results = { store: args.clickhouse ? 'clickhouse' : 'duckdb', node: process.version }

let peakRss = 0
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20)
const resetPeak = () => (peakRss = process.memoryUsage().rss)

// ---- 1. tail ingest --------------------------------------------------------
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
if (sections.has('tail')) {
  // The ceiling: decode only.
  const source = new DirectorySource(batchDir)
  const registry = new RequestDecoderRegistry()
  let events = 0
  const cpu = process.cpuUsage()
  const started = performance.now()
  const assembler = new RequestAssembler()
  for await (const key of source.listKeys({})) {
    for (const { event } of readBatchBody(await source.read(key))) {
      const done = assembler.push('BenchTok', event)
      if (done) {
        const decoded = requestEvents(registry, done)
        if (decoded.kind === 'events') events += decoded.events.length
      }
    }
  }
  const seconds = (performance.now() - started) / 1000
  results.decodeEventsPerSecond = Math.round(events / seconds)
  results.decodeEventsPerCpuSecond = Math.round(events / cpuSince(cpu))
}
if (sections.has('tail')) {
  const store = await openEventStore(storeOptions())
  resetPeak()
  const tailer = new BatchTailer({ store, source: new DirectorySource(batchDir), stream: `bench-${Date.now()}` })
  const cpu = process.cpuUsage()
  const server0 = serverCpu()
  const started = performance.now()
  await tailer.poll()
  const seconds = (performance.now() - started) / 1000
  const cpuSeconds = cpuSince(cpu)
  const serverSeconds = serverCpu() - server0
  // The cluster() that follows the backlog (DuckDB), apart: it runs once the tailer has caught up.
  const clusterStarted = performance.now()
  await store.whenClustered?.()
  const clusterSeconds = (performance.now() - clusterStarted) / 1000
  results.tail = {
    events: tailer.report.events,
    seconds: +seconds.toFixed(2),
    eventsPerSecond: Math.round(tailer.report.events / seconds),
    eventsPerCpuSecond: Math.round(tailer.report.events / cpuSeconds),
    ...(args['server-pid'] ? { serverCpuSeconds: +serverSeconds.toFixed(2), eventsPerCpuSecondWithServer: Math.round(tailer.report.events / (cpuSeconds + serverSeconds)) } : {}),
    clusterAfterSeconds: +clusterSeconds.toFixed(2),
    peakRssMB: Math.round(peakRss / 1e6),
  }
  await store.close()
  console.error('tail', results.decodeEventsPerSecond, results.tail)
}

// ---- 2. direct posts ---------------------------------------------------------
if (sections.has('post')) {
  const server = new EventServer({ store: await openEventStore(storeOptions()) })
  const url = await server.listen(0, '127.0.0.1')
  let acknowledged = 0
  let failed = 0
  const until = performance.now() + n('post-seconds') * 1000
  let next = 0
  const cpu = process.cpuUsage()
  const server0 = serverCpu()
  const started = performance.now()
  await Promise.all(Array.from({ length: n('post-connections') }, async () => {
    while (performance.now() < until) {
      const base = next++ * 100
      const body = encodeJsonEvents(Array.from({ length: 100 }, (_, i) => ({ key: base + i, type: 'p', value: { i }, clientTime: T0 })))
      const res = await request(`${url}/api/post-events?bucket=post`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      await res.body.dump()
      if (res.statusCode === 200) acknowledged += 100
      else failed++
    }
  }))
  const seconds = (performance.now() - started) / 1000
  results.post = { connections: n('post-connections'), eventsPerSecond: Math.round(acknowledged / seconds), eventsPerCpuSecond: Math.round(acknowledged / cpuSince(cpu)), ...(args['server-pid'] ? { serverCpuSeconds: +(serverCpu() - server0).toFixed(2) } : {}), acknowledged, failedRequests: failed }
  await server.close()
  console.error('post', results.post)
}

// ---- 3. range reads on a big bucket ---------------------------------------------
if (sections.has('read')) {
  const store = await openEventStore(storeOptions())
  const total = n('bucket-events')
  const value = '{"page":"/p","ms":1.5}'
  for (let at = 0; at < total; at += 20_000) {
    const events = []
    for (let i = at; i < Math.min(total, at + 20_000); i++) {
      events.push({ bucket: 'big', key: encodeKey(i), type: 'v', value, clientTime: T0 + i, serverTime: T0 + i, originalClientTime: null, userId: null, anonymousId: null, producer: null, ip: null, source: 'bench' })
    }
    await store.write({ events, more: at + 20_000 < total })
  }
  // Reads are measured on the clustered table (the store clusters once the writes stop).
  await store.whenClustered?.()
  const server = new EventServer({ store })
  const url = await server.listen(0, '127.0.0.1')
  const latencies = []
  for (let r = 0; r < n('reads'); r++) {
    const from = Math.floor(Math.random() * (total - 1000))
    const started = performance.now()
    const res = await request(`${url}/events.json?bucket=big&from=${from}&limit=1000`)
    const body = await res.body.json()
    latencies.push(performance.now() - started)
    if (body.events.length !== 1000) throw new Error(`read ${body.events.length} events`)
  }
  latencies.sort((a, b) => a - b)
  const q = (p) => +latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2)
  global.gc?.()
  resetPeak()
  const rssBefore = process.memoryUsage().rss
  const started = performance.now()
  const res = await request(`${url}/events.json?bucket=big`)
  let bytes = 0
  for await (const chunk of res.body) bytes += chunk.length
  const streamSeconds = (performance.now() - started) / 1000
  results.read = { bucketEvents: total, reads: latencies.length, p50Ms: q(0.5), p99Ms: q(0.99), fullStream: { bytes, seconds: +streamSeconds.toFixed(2), rssBeforeMB: Math.round(rssBefore / 1e6), peakRssMB: Math.round(peakRss / 1e6) } }
  await server.close()
  console.error('read', results.read)
}

clearInterval(sampler)
rmSync(dir, { recursive: true, force: true })
const text = JSON.stringify(results, null, 2)
if (args.json) writeFileSync(args.json, text + '\n')
console.log(text)
