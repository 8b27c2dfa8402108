#!/usr/bin/env node
// EventStore benchmark (embedded DuckDB): bulk insert rate and range-read latency on a 1M-event bucket.
//
//   node store-bench.mjs [--events 1000000] [--batch 10000] [--reads 300] [--other-buckets 20] [--threads 1]
//                        [--cluster-after 0] [--json out.json]
//
// --cluster-after 0 (default) leaves clustering off while inserting, then reads before and after one cluster();
// --cluster-after 100000 (the store's default) measures the insert rate with clustering on its own.
//
// Keys are keyjson integers (formats/keyjson.md) in increasing order, as time-ordered keys arrive;
// `--other-buckets` spreads 10 % of the events over other buckets interleaved with the main one.
// Reads: 1,000 events by [from, to), and by `from` + limit 1,000, at random places in the bucket.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DuckDbEventStore } from '../dist/store/duckdb/duckdb-store.js'

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '10000' },
    reads: { type: 'string', default: '300' },
    'other-buckets': { type: 'string', default: '20' },
    threads: { type: 'string', default: '1' },
    'cluster-after': { type: 'string', default: '0' },
    json: { type: 'string' },
  },
})
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

const dir = mkdtempSync(join(tmpdir(), 'ls-store-bench-'))
const path = join(dir, 'events.duckdb')
const store = new DuckDbEventStore({ path, threads: Number(args.threads), clusterAfterRows: Number(args['cluster-after']) })
await store.open()
const t0 = Date.UTC(2026, 10, 26)
const results = { machine: 'shared 2-core box, loaded by other jobs', events: EVENTS, batch: BATCH, threads: Number(args.threads), clusterAfterRows: Number(args['cluster-after']) }

// Insert.
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
  const result = await store.write({ events })
  commitMs.push(Number(process.hrtime.bigint() - start) / 1e6)
  if (result.stored !== events.length) throw new Error(`stored ${result.stored} of ${events.length}`)
  written += n
}
await store.whenClustered()
const insertSeconds = Number(process.hrtime.bigint() - insertStart) / 1e9
const totalInserted = EVENTS + otherSeq
results.insert = {
  eventsPerSecond: Math.round(totalInserted / insertSeconds),
  seconds: +insertSeconds.toFixed(2),
  events: totalInserted,
  commitMsP50: +quantile([...commitMs].sort((a, b) => a - b), 0.5).toFixed(1),
  fileBytes: statSync(path).size,
}
console.log(`insert: ${totalInserted} events in ${insertSeconds.toFixed(1)} s = ${results.insert.eventsPerSecond} events/s (batches of ${BATCH}+10 %, commit p50 ${results.insert.commitMsP50} ms)`)

// A duplicate batch: the conflict path.
{
  const events = Array.from({ length: BATCH }, (_, i) => event('main', i * 7, t0))
  const start = process.hrtime.bigint()
  const result = await store.write({ events })
  const s = Number(process.hrtime.bigint() - start) / 1e9
  results.duplicateBatch = { eventsPerSecond: Math.round(BATCH / s), duplicates: result.duplicates }
  console.log(`duplicate batch: ${BATCH} events all duplicates in ${(s * 1000).toFixed(0)} ms = ${results.duplicateBatch.eventsPerSecond} events/s`)
}

async function timeRead(query) {
  const start = process.hrtime.bigint()
  let n = 0
  for await (const _ of store.read(query)) n++
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, n }
}

async function readSeries(label, makeQuery, span = 1000) {
  for (let i = 0; i < 10; i++) await timeRead(makeQuery(Math.floor(Math.random() * (EVENTS - span))))
  const times = []
  for (let i = 0; i < READS; i++) {
    const start = Math.floor(Math.random() * (EVENTS - span))
    const { ms, n } = await timeRead(makeQuery(start))
    if (n !== 1000) throw new Error(`${label}: read ${n} events, expected 1000`)
    times.push(ms)
  }
  times.sort((a, b) => a - b)
  const figures = { p50: +quantile(times, 0.5).toFixed(2), p90: +quantile(times, 0.9).toFixed(2), p99: +quantile(times, 0.99).toFixed(2), max: +times[times.length - 1].toFixed(2) }
  console.log(`${label}: p50 ${figures.p50} ms, p90 ${figures.p90} ms, p99 ${figures.p99} ms, max ${figures.max} ms (${READS} reads of 1,000 events)`)
  return figures
}

async function readAllSeries(stage) {
  console.log(`-- reads, ${stage}`)
  return {
    rangeFromTo: await readSeries('range [from, to) of 1,000', (s) => ({ bucket: 'main', from: intKey(s), to: intKey(s + 1000) })),
    rangeFromLimit: await readSeries('range from + limit 1,000', (s) => ({ bucket: 'main', from: intKey(s), limit: 1000 })),
    rangeFromToTyped: await readSeries('range [from, to) of 4,000, type signup', (s) => ({ bucket: 'main', from: intKey(s), to: intKey(s + 4000), types: ['signup'] }), 4000),
  }
}
results.readsAsWritten = await readAllSeries('rows in the order written (other buckets interleaved)')
{
  const { rows, ms } = await store.cluster()
  results.cluster = { rows, seconds: +(ms / 1000).toFixed(2) }
  console.log(`cluster(): ${rows} rows rewritten in (bucket, key) order in ${(ms / 1000).toFixed(1)} s`)
}
results.readsClustered = await readAllSeries('after cluster()')

// A full streaming read: rate and heap.
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

await store.close()
rmSync(dir, { recursive: true, force: true })
if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2) + '\n')
