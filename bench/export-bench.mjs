#!/usr/bin/env node
// Export and forwarding benchmark (embedded DuckDB store): how fast a day is
// written as Parquet / gzipped NDJSON / gzipped CSV, and how fast a forwarder
// drains the store to a local webhook that answers 200 at once.
//
//   node export-bench.mjs [--events 200000] [--buckets 4] [--batch 500]
//
// Figures depend on the machine and its load; they are not targets.
import { createServer } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DuckDbEventStore } from '../dist/store/duckdb/duckdb-store.js'
import { DirectoryTarget, encodeKey, exportDay, Forwarder } from '../dist/index.js'

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '200000' }, buckets: { type: 'string', default: '4' }, batch: { type: 'string', default: '500' } } })
const EVENTS = Number(args.events)
const BUCKETS = Number(args.buckets)
const DAY_START = Date.parse('2026-03-14T00:00:00Z')

const dir = mkdtempSync(join(tmpdir(), 'ls-export-bench-'))
try {
  const store = new DuckDbEventStore({ path: join(dir, 'events.duckdb'), threads: 1 })
  await store.open()
  for (let i = 0; i < EVENTS; i += 10_000) {
    const events = []
    for (let j = i; j < Math.min(EVENTS, i + 10_000); j++) {
      events.push({
        bucket: `b${j % BUCKETS}`, key: encodeKey(['e', j]), type: j % 3 ? 'click' : 'view',
        value: `{"n":${j},"path":"/products/${j % 977}","price":${(j % 5000) / 100}}`,
        clientTime: DAY_START + Math.floor((j / EVENTS) * 86_000_000), serverTime: DAY_START + Math.floor((j / EVENTS) * 86_000_000) + 5,
        originalClientTime: null, userId: j % 2 ? `u${j % 1000}` : null, anonymousId: null, producer: null, ip: '127.0.0.1', source: 'bench',
      })
    }
    await store.write({ events })
  }
  const results = {}
  for (const format of ['parquet', 'ndjson', 'csv']) {
    const started = process.hrtime.bigint()
    const report = await exportDay({ store, day: '2026-03-14', target: new DirectoryTarget(join(dir, format)), format })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    results[`export ${format}`] = `${report.rows} events in ${seconds.toFixed(2)} s = ${Math.round(report.rows / seconds)} events/s`
  }
  const server = createServer((req, res) => req.resume().on('end', () => res.end('{}')))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const forwarder = new Forwarder({ name: 'bench', store, kind: 'webhook', url: `http://127.0.0.1:${server.address().port}/`, batchSize: Number(args.batch), requestsPerSecond: 1e9, settleMs: 0 })
  await forwarder.deadLetters.open()
  const started = process.hrtime.bigint()
  const sent = await forwarder.drain()
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  results[`forward webhook, batches of ${args.batch}`] = `${sent} events in ${seconds.toFixed(2)} s = ${Math.round(sent / seconds)} events/s`
  server.close()
  await store.close()
  console.log(JSON.stringify({ events: EVENTS, buckets: BUCKETS, results }, null, 2))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
