#!/usr/bin/env node
// Analytics benchmark (issue 12): the analytics endpoints over HTTP on a store of --events events
// spread over --days days (default 1,000,000 over 30), stored in arrival order (time order with a
// few seconds of jitter, as live traffic arrives).
//
//   node analytics-bench.mjs [--events 1000000] [--days 30] [--users 50000] [--runs 15] [--json out.json]
//                            [--clickhouse http://127.0.0.1:8123]   (a running server: ClickHouse instead of DuckDB)
//
// Measures p50/p90 of: GET /api/stats (all types, hour; and one type, minute), POST /api/events/query
// (one type, one day, limit 100), a 3-step funnel over 7 days, unique users per day over 30 days
// (exact and approximate, with the approximate error against the exact answer). Also what the
// alternative to store queries for the 48 h stats costs: in-process rolling counters (ns per event
// counted, memory at each granularity). Imports ../dist: run `npm run build` at the root first.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import { request } from 'undici'
import { DuckDbEventStore } from '../dist/store/duckdb/duckdb-store.js'
import { ClickHouseEventStore } from '../dist/store/clickhouse/clickhouse-store.js'
import { analyticsRoutes } from '../dist/servers/analytics-routes.js'

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '30' },
    users: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '15' },
    threads: { type: 'string', default: '2' },
    json: { type: 'string' },
    clickhouse: { type: 'string' },
  },
})
const EVENTS = Number(args.events)
const DAYS = Number(args.days)
const USERS = Number(args.users)
const RUNS = Number(args.runs)
const DAY = 86_400_000
const END = Date.UTC(2026, 10, 26)
const START = END - DAYS * DAY
const TYPES = ['page_view', 'click', 'signup', 'login', 'logout', 'add_to_cart', 'purchase', 'search', 'share', 'error']
// Page views dominate, as in real traffic.
const WEIGHTS = [30, 20, 2, 8, 4, 8, 3, 12, 3, 10]
const CUMULATIVE = WEIGHTS.map((_, i) => WEIGHTS.slice(0, i + 1).reduce((a, b) => a + b, 0) / WEIGHTS.reduce((a, b) => a + b, 0))

let seed = 42
function random() {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}
async function measure(label, runs, fn) {
  await fn(0) // warm up
  const times = []
  let last
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    last = await fn(i)
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  const result = { label, runs, p50: +percentile(times, 0.5).toFixed(2), p90: +percentile(times, 0.9).toFixed(2) }
  console.log(`${label.padEnd(52)} p50 ${result.p50.toFixed(1).padStart(7)} ms   p90 ${result.p90.toFixed(1).padStart(7)} ms`)
  return { result, last }
}

const dir = mkdtempSync(join(tmpdir(), 'analytics-bench-'))
const CLICKHOUSE = args.clickhouse !== undefined
const store = CLICKHOUSE
  ? new ClickHouseEventStore({ url: args.clickhouse, database: `analytics_bench_${process.pid}` })
  : new DuckDbEventStore({ path: join(dir, 'events.duckdb'), threads: Number(args.threads) })
await store.open()
const results = { events: EVENTS, days: DAYS, users: USERS, backend: store.kind, measured: [] }
try {
  // Load in one INSERT ... SELECT over range(): the rows store.write would make (string keys `bench-N`,
  // arrival order = time order with up to 5 s of jitter), without a minute of JS encoding first.
  const loadStarted = performance.now()
  const hash = CLICKHOUSE ? (x) => `cityHash64(${x})` : (x) => `hash(${x})`
  const r = (salt) => `((${hash(`i * ${salt} + 17`)} % 1000000) / 1000000.0)`
  const typeCase = 'CASE ' + TYPES.map((type, k) => `WHEN ${r(7)} < ${CUMULATIVE[k]} THEN '${type}'`).join(' ') + ` ELSE '${TYPES.at(-1)}' END`
  const user = CLICKHOUSE ? `concat('user-', toString(toInt64(floor(pow(${r(31)}, 2) * ${USERS}))))` : `'user-' || CAST(floor(pow(${r(31)}, 2) * ${USERS}) AS BIGINT)`
  const time = CLICKHOUSE ? `toInt64(${START} + i * ${(END - START) / EVENTS} + ${r(13)} * 5000)` : `CAST(${START} + i * ${(END - START) / EVENTS} + ${r(13)} * 5000 AS BIGINT)`
  if (CLICKHOUSE) {
    await store.sql.exec(`INSERT INTO events (bucket, key, type, type_is_code, value, client_time, server_time, original_client_time, user_id, anonymous_id, producer, ip, source, ingested_at)
      SELECT 'default', concat(unhex('34'), 'bench-', toString(i)), ${typeCase}, 0, concat('{"user":"', ${user}, '","page":"/p', toString(i % 20), '"}'),
      ${time}, ${time} + 50, NULL, ${user}, NULL, NULL, NULL, 'api-events', ${END} FROM (SELECT number AS i FROM system.numbers LIMIT ${EVENTS})`)
  } else {
    const key = `unhex('34' || hex('bench-' || i))`
    await store.sql.exec(`INSERT INTO events SELECT 'default', ${key}, ${typeCase}, false, '{"user":"' || ${user} || '","page":"/p' || (i % 20) || '"}',
      ${time}, ${time} + 50, NULL, ${user}, NULL, NULL, NULL, 'api-events', ${END} FROM range(${EVENTS}) t(i)`)
  }
  const [{ n }] = await store.sql.query('SELECT count(*) AS n FROM events')
  if (Number(n) !== EVENTS) throw new Error(`loaded ${n} events, wanted ${EVENTS}`)
  results.loadSeconds = +((performance.now() - loadStarted) / 1000).toFixed(1)
  console.log(`loaded ${EVENTS} events over ${DAYS} days in ${results.loadSeconds} s (${CLICKHOUSE ? 'ClickHouse' : `DuckDB, ${args.threads} threads`})`)

  const app = Fastify({ logger: false })
  await app.register(analyticsRoutes, { store, now: () => END - 1 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${app.server.address().port}`
  const get = async (path) => {
    const response = await request(url + path)
    const text = await response.body.text()
    if (response.statusCode !== 200) throw new Error(`${path}: ${response.statusCode} ${text}`)
    return JSON.parse(text)
  }
  const post = async (path, body) => {
    const response = await request(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const text = await response.body.text()
    if (response.statusCode !== 200) throw new Error(`${path}: ${response.statusCode} ${text}`)
    return JSON.parse(text)
  }

  const stats = await measure('GET /api/stats (all types, hour)', RUNS, () => get('/api/stats'))
  results.measured.push(stats.result)
  results.measured.push((await measure('GET /api/stats/purchase?granularity=minute', RUNS, () => get('/api/stats/purchase?granularity=minute'))).result)
  results.measured.push((await measure('GET /api/stats?granularity=second', Math.max(3, RUNS / 3), () => get('/api/stats?granularity=second'))).result)
  const query = await measure('POST /api/events/query (1 type, 1 day, limit 100)', RUNS * 2, (i) => {
    const day = Math.floor((START + ((i * 7) % DAYS) * DAY) / 1000)
    return post('/api/events/query', { eventType: 'purchase', startDate: day, endDate: day + 86_399, limit: 100, page: 1 })
  })
  results.measured.push(query.result)
  const funnel = await measure('3-step funnel over 7 days', RUNS, () =>
    post('/api/analysis/funnel', { steps: ['page_view', 'add_to_cart', 'purchase'], window: 3600, startDate: Math.floor((END - 7 * DAY) / 1000), endDate: Math.floor(END / 1000) }))
  results.measured.push(funnel.result)
  results.funnel = funnel.last.steps.map((s) => s.users)
  const exact = await measure(`unique users per day over ${DAYS} days (exact)`, RUNS, () => get('/api/analysis/uniques'))
  results.measured.push(exact.result)
  const approx = await measure(`unique users per day over ${DAYS} days (approximate)`, RUNS, () => get('/api/analysis/uniques?approximate=true'))
  results.measured.push(approx.result)
  // Whole days only: the first and last days of the range hold a few seconds of events.
  const errors = exact.last.days.map((d, i) => (d.users >= 1000 ? Math.abs(approx.last.days[i].users - d.users) / d.users : null)).filter((e) => e !== null)
  results.approximateError = {
    usersPerDayMean: Math.round(exact.last.days.reduce((a, d) => a + d.users, 0) / exact.last.days.length),
    meanRelativeError: +(errors.reduce((a, b) => a + b, 0) / errors.length).toFixed(4),
    maxRelativeError: +Math.max(...errors).toFixed(4),
    totalExact: exact.last.total,
    totalApprox: approx.last.total,
  }
  console.log(`approximate uniques: mean error ${(results.approximateError.meanRelativeError * 100).toFixed(2)} %, max ${(results.approximateError.maxRelativeError * 100).toFixed(2)} % (≈${results.approximateError.usersPerDayMean} users a day); range total ${approx.last.total} vs ${exact.last.total}`)
  results.measured.push((await measure(`flows over ${DAYS} days (top 20)`, Math.max(3, RUNS / 3), () => get('/api/analysis/flows'))).result)
  results.measured.push((await measure(`activity by weekday and hour over ${DAYS} days`, RUNS, () => get('/api/analysis/activity'))).result)
  await app.close()

  // The alternative for the 48 h stats: rolling counters in the process (the seed's Redis HINCRBY, in memory).
  const counters = { hour: new Map(), minute: new Map(), second: new Map() }
  const size = { hour: 3_600_000, minute: 60_000, second: 1000 }
  const N = 1_000_000
  const heapBefore = process.memoryUsage().heapUsed
  const started = performance.now()
  for (let i = 0; i < N; i++) {
    const t = END - 48 * 3_600_000 + Math.floor((i / N) * 48 * 3_600_000)
    const type = TYPES[i % TYPES.length]
    for (const g of ['hour', 'minute', 'second']) {
      const key = type + '@' + Math.floor(t / size[g])
      const map = counters[g]
      map.set(key, (map.get(key) ?? 0) + 1)
    }
  }
  const nsPerEvent = ((performance.now() - started) * 1e6) / N
  results.rollingCounters = {
    nsPerEventAllGranularities: +nsPerEvent.toFixed(0),
    entries: { hour: counters.hour.size, minute: counters.minute.size, second: counters.second.size },
    heapMiB: +((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20).toFixed(1),
  }
  console.log(`rolling counters: ${results.rollingCounters.nsPerEventAllGranularities} ns per event (3 granularities), ${JSON.stringify(results.rollingCounters.entries)} entries, ~${results.rollingCounters.heapMiB} MiB heap`)
} finally {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
}
if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2))
