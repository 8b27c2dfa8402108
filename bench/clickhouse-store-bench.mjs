#!/usr/bin/env node
// EventStore benchmark (ClickHouse): insert rate through write() and range-read latency, on a running
// server. The workload is the one of store-bench.mjs (DuckDB), so the figures compare side by side.
//
//   node clickhouse-store-bench.mjs --url http://127.0.0.1:8123 [--events 1000000] [--batch 10000] [--reads 200]
//        [--other-buckets 20] [--database bench_<time>] [--cluster NAME --nodes URL,URL] [--keep] [--json out.json]
//
// Start a throwaway server first (docs/clickhouse.md, "A server for development"). The database is
// created, and dropped at the end unless --keep. Keys are keyjson integers in increasing order, as
// time-ordered keys arrive; 10 % of the events go to `--other-buckets` other buckets, interleaved.
// Reads: 1,000 events by [from, to), by `from` + limit 1,000 (open-ended: the case 18.16 cannot stop
// early by itself), and 4,000 keys filtered by type, at random places in the bucket.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ClickHouseEventStore } from '../dist/store/clickhouse/clickhouse-store.js'

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.CLICKHOUSE_URL },
    database: { type: 'string', default: `bench_${Date.now()}` },
    cluster: { type: 'string' },
    nodes: { type: 'string' },
    events: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '10000' },
    reads: { type: 'string', default: '200' },
    'other-buckets': { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
})
if (!args.url) {
  console.error('usage: node clickhouse-store-bench.mjs --url http://127.0.0.1:8123 [options] (or CLICKHOUSE_URL)')
  process.exit(2)
}
const EVENTS = Number(args.events)
const BATCH = Number(args.batch)
const READS = Number(args.reads)
const OTHER_BUCKETS = Number(args['other-buckets'])

/** keyjson of a non-negative integer: 0xC0 + size - 1, then 7 bits a byte with the high bit set. */
function intKey(n) {
  const digits = []
  do {
    digits.unshift(0x80 | (n % 128))
    n = Math.floor(n / 128)
  } while (n > 0)
  return Uint8Array.of(0xc0 + digits.length - 1, ...digits)
}

function event(bucket, i, t0) {
  return {
    bucket,
    key: intKey(i),
    type: i % 4 === 0 ? 'signup' : 'page',
    value: `{"url":"https://example.com/p/${i % 977}","ref":"https://search.example/?q=${i % 31}","n":${i},"price":1.0,"tags":["a","b"]}`,
    clientTime: t0 + i,
    serverTime: t0 + i + 5,
    originalClientTime: null,
    userId: `user-${i % 5000}`,
    anonymousId: null,
    producer: null,
    ip: '127.0.0.1',
    source: 'post-events/json',
  }
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

const store = new ClickHouseEventStore({
  url: args.url,
  database: args.database,
  ...(args.cluster ? { cluster: args.cluster, clusterNodes: (args.nodes ?? args.url).split(',') } : {}),
})
await store.open()
const [{ version }] = await store.sql.query('SELECT version() AS version')
const t0 = Date.UTC(2026, 10, 26)
const results = {
  machine: 'shared 2-core box, loaded by other jobs',
  clickhouse: version,
  cluster: args.cluster ?? null,
  events: EVENTS,
  batch: BATCH,
}
console.log(`ClickHouse ${version}${args.cluster ? `, cluster ${args.cluster}` : ''}, database ${args.database}`)

// Insert: write() as the EventServer calls it (key lookup, insert, checkpoint).
let written = 0
let otherSeq = 0
const insertStart = process.hrtime.bigint()
const commitMs = []
while (written < EVENTS) {
  const events = []
  const n = Math.min(BATCH, EVENTS - written)
  for (let i = 0; i < n; i++) events.push(event('main', written + i, t0))
  for (let i = 0; i < Math.round((n * 0.1) / 0.9) && OTHER_BUCKETS > 0; i++, otherSeq++) events.push(event(`other-${otherSeq % OTHER_BUCKETS}`, otherSeq, t0))
  const start = process.hrtime.bigint()
  const result = await store.write({ events, checkpoints: [{ name: 'bench', position: String(written + n) }] })
  commitMs.push(Number(process.hrtime.bigint() - start) / 1e6)
  if (result.stored !== events.length) throw new Error(`stored ${result.stored} of ${events.length}`)
  written += n
}
const insertSeconds = Number(process.hrtime.bigint() - insertStart) / 1e9
const totalInserted = EVENTS + otherSeq
results.insert = {
  eventsPerSecond: Math.round(totalInserted / insertSeconds),
  seconds: +insertSeconds.toFixed(2),
  events: totalInserted,
  writeMsP50: +quantile([...commitMs].sort((a, b) => a - b), 0.5).toFixed(1),
}
console.log(`insert: ${totalInserted} events in ${insertSeconds.toFixed(1)} s = ${results.insert.eventsPerSecond} events/s (write() of ${BATCH}+10 %, p50 ${results.insert.writeMsP50} ms)`)

// A batch of duplicates: all found by the key lookup, nothing inserted.
{
  const events = Array.from({ length: BATCH }, (_, i) => event('main', (i * 7) % EVENTS, t0))
  const start = process.hrtime.bigint()
  const result = await store.write({ events })
  const s = Number(process.hrtime.bigint() - start) / 1e9
  results.duplicateBatch = { eventsPerSecond: Math.round(BATCH / s), duplicates: result.duplicates }
  console.log(`duplicate batch: ${BATCH} events, ${result.duplicates} duplicates, in ${(s * 1000).toFixed(0)} ms = ${results.duplicateBatch.eventsPerSecond} events/s`)
}

async function timeRead(query) {
  const start = process.hrtime.bigint()
  let n = 0
  for await (const _ of store.read(query)) n++
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, n }
}

async function readSeries(label, makeQuery, span = 1000, expected = 1000) {
  for (let i = 0; i < 10; i++) await timeRead(makeQuery(Math.floor(Math.random() * (EVENTS - span))))
  const times = []
  for (let i = 0; i < READS; i++) {
    const start = Math.floor(Math.random() * (EVENTS - span))
    const { ms, n } = await timeRead(makeQuery(start))
    if (n !== expected) throw new Error(`${label}: read ${n} events, expected ${expected}`)
    times.push(ms)
  }
  times.sort((a, b) => a - b)
  const figures = { p50: +quantile(times, 0.5).toFixed(2), p90: +quantile(times, 0.9).toFixed(2), p99: +quantile(times, 0.99).toFixed(2), max: +times[times.length - 1].toFixed(2) }
  console.log(`${label}: p50 ${figures.p50} ms, p90 ${figures.p90} ms, p99 ${figures.p99} ms, max ${figures.max} ms (${READS} reads)`)
  return figures
}

results.rangeFromTo = await readSeries('range [from, to) of 1,000', (s) => ({ bucket: 'main', from: intKey(s), to: intKey(s + 1000) }))
results.rangeFromLimit = await readSeries('range from + limit 1,000', (s) => ({ bucket: 'main', from: intKey(s), limit: 1000 }))
results.rangeFromToTyped = await readSeries('range [from, to) of 4,000, type signup', (s) => ({ bucket: 'main', from: intKey(s), to: intKey(s + 4000), types: ['signup'] }), 4000)

// A full streaming read: rate and memory.
{
  const start = process.hrtime.bigint()
  let n = 0
  let peakRss = 0
  for await (const _ of store.read({ bucket: 'main' })) {
    if (++n % 100_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss)
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9
  results.fullScan = { events: n, eventsPerSecond: Math.round(n / s), peakRssMB: Math.round(peakRss / 1e6) }
  console.log(`stream whole bucket: ${n} events in ${s.toFixed(1)} s = ${results.fullScan.eventsPerSecond} events/s, RSS ${results.fullScan.peakRssMB} MB`)
}

if (!args.keep) {
  for (const table of ['events', 'events_local', 'checkpoints', 'rejects']) await store.sql.exec(`DROP TABLE IF EXISTS ${table}`)
  await store.sql.exec(`DROP DATABASE IF EXISTS ${args.database}`)
}
await store.close()
if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2) + '\n')
