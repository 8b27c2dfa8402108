#!/usr/bin/env node
// Peak RSS and rate while tailing a large backlog of gzipped batches into the embedded store.
// The batches are written by a child process first (so the generator's memory is not counted), then
// one BatchTailer look works through all of them. RSS is sampled every 50 ms (VmRSS of this process:
// JS heap, DuckDB's buffer pool and ART index, zlib).
//   npm run build && node --expose-gc bench/tail-backlog.mjs [--raw-mb 1024] [--memory-limit 256MB] [--write-events 150000] [--cluster-after N] [--json out.json]
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'

const { values: args } = parseArgs({
  options: {
    'raw-mb': { type: 'string', default: '1024' },
    'memory-limit': { type: 'string' },
    'cluster-after': { type: 'string' },
    'write-events': { type: 'string' },
    generate: { type: 'string' },
    json: { type: 'string' },
  },
})
const T0 = Date.UTC(2026, 10, 25, 12)

if (args.generate) {
  // Child: write batches of ~16 MiB raw (a LoggingServer's size at saturation), 100 events per request,
  // values ~120 bytes that vary (so gzip sees text like real events), keys [user, n] in arrival order.
  const { gzipSync } = await import('node:zlib')
  const { mkdirSync } = await import('node:fs')
  const { dirname } = await import('node:path')
  const { encodeJsonEvents, encodeReqData, encodeReqEnd, formatObjectKey } = await import('../dist/index.js')
  const target = Number(args['raw-mb']) * 1024 * 1024
  let raw = 0
  let serial = 0
  for (let b = 1; raw < target; b++) {
    const parts = []
    let size = 0
    for (let r = 0; size < 16 * 1024 * 1024 && raw + size < target; r++) {
      const events = Array.from({ length: 100 }, (_, i) => {
        const n = serial++
        return { key: [`user-${n % 50_000}`, n], type: n % 7 === 0 ? 'purchase' : 'page_view', value: { page: `/products/${(n * 7919) % 10_007}`, ref: `https://search.example/?q=${n % 997}`, ms: (n % 1000) / 10, ok: n % 3 === 0 }, clientTime: T0 + n }
      })
      const reqId = b * 1_000_000 + r
      const data = encodeReqData(reqId, T0 + b * 1000, Buffer.from(encodeJsonEvents(events)))
      const end = encodeReqEnd({ reqId, serverTime: T0 + b * 1000, ip: '10.0.0.1', contentType: 'application/json', path: '/api/post-events?bucket=backlog', method: 'POST', headers: {}, outcome: 0 })
      parts.push(data, end)
      size += data.length + end.length
    }
    raw += size
    const key = formatObjectKey({ serverToken: 'BenchBak', batchNumber: b, startTime: T0 + b * 1000, randomToken: 'RandomTk', gzipped: true })
    mkdirSync(dirname(join(args.generate, key)), { recursive: true })
    writeFileSync(join(args.generate, key), gzipSync(Buffer.concat(parts), { level: 3 }))
  }
  process.exit(0)
}

const dir = mkdtempSync(join(tmpdir(), 'tail-backlog-'))
const batchDir = join(dir, 'batches')
execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--generate', batchDir, '--raw-mb', args['raw-mb']], { stdio: 'inherit' })
let gzBytes = 0
let files = 0
const walk = (d) => {
  for (const entry of readdirSync(d, { withFileTypes: true })) {
    if (entry.isDirectory()) walk(join(d, entry.name))
    else {
      gzBytes += statSync(join(d, entry.name)).size
      files++
    }
  }
}
walk(batchDir)

const { BatchTailer, DirectorySource, openEventStore } = await import('../dist/index.js')
global.gc?.()
const rssBefore = process.memoryUsage().rss
let peakRss = rssBefore
const samples = []
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50)
const duckdb = {
  ...(args['memory-limit'] ? { memoryLimit: args['memory-limit'] } : {}),
  ...(args['cluster-after'] ? { clusterAfterRows: Number(args['cluster-after']) } : {}),
}
const store = await openEventStore({ db: join(dir, 'events.duckdb'), duckdb })
const tailer = new BatchTailer({
  store,
  source: new DirectorySource(batchDir),
  stream: 'backlog',
  ...(args['write-events'] ? { writeEvents: Number(args['write-events']) } : {}),
  observer: {
    problem: (p) => console.error('tail problem', JSON.stringify(p).slice(0, 300)),
    batchTailed: () => {
      const m = process.memoryUsage()
      samples.push({ events: tailer.report.events, rssMB: Math.round(m.rss / 1e6), heapMB: Math.round(m.heapUsed / 1e6), externalMB: Math.round(m.external / 1e6) })
    },
  },
})
const cpu = process.cpuUsage()
const started = performance.now()
await tailer.poll()
const seconds = (performance.now() - started) / 1000
const used = process.cpuUsage(cpu)
const peakTail = peakRss
const clusterStarted = performance.now()
await store.whenClustered?.()
const clusterSeconds = (performance.now() - clusterStarted) / 1000
clearInterval(sampler)
// DuckDB's own account of its memory, by tag (buffer pool: base table, ART index, ...).
const duckdbMemory = store.kind === 'duckdb'
  ? Object.fromEntries((await store.sql.query("SELECT tag, memory_usage_bytes AS bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0")).map((r) => [r.tag, Math.round(r.bytes / 1e6)]))
  : undefined
await store.close()
const results = {
  node: process.version,
  rawMB: Number(args['raw-mb']),
  gzippedMB: +(gzBytes / 1e6).toFixed(1),
  batches: files,
  memoryLimit: args['memory-limit'] ?? 'DuckDB default (80% of RAM)',
  writeEvents: Number(args['write-events'] ?? 150_000),
  events: tailer.report.events,
  seconds: +seconds.toFixed(1),
  eventsPerSecond: Math.round(tailer.report.events / seconds),
  eventsPerCpuSecond: Math.round(tailer.report.events / ((used.user + used.system) / 1e6)),
  rssBeforeMB: Math.round(rssBefore / 1e6),
  peakRssWhileTailingMB: Math.round(peakTail / 1e6),
  clusterAfterSeconds: +clusterSeconds.toFixed(1),
  peakRssWithClusterMB: Math.round(peakRss / 1e6),
  duckdbMemoryMB: duckdbMemory,
  rssByEvents: samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 8)) === 0 || i === samples.length - 1),
}
rmSync(dir, { recursive: true, force: true })
if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2) + '\n')
console.log(JSON.stringify(results, null, 2))
