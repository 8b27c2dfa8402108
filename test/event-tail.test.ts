// Tailing: a real LoggingServer writes batches (a directory, or s3rver), an
// EventServer on a real DuckDB file tails them, and /events.json must hold
// exactly the events posted, stamped with the time the LoggingServer logged
// them. Hand-made batches cover what a live server rarely does on cue: a
// request split over two batches across a restart, damage, a missing batch.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { request } from 'undici'
import { LoggingServer, type LogEvent } from '../src/index.js'
import { BatchTailer } from '../src/ingest/batch-tailer.js'
import { DirectorySource } from '../src/reader/directory-source.js'
import { S3Source } from '../src/reader/s3-source.js'
import { EventServer } from '../src/servers/event-server.js'
import { openEventStore } from '../src/store/open-store.js'
import { readLoggedRequests } from './helpers/batches.js'
import { jsonBody, makeEvents, postEvents, rawEvents, writeBatch } from './helpers/replay.js'
import { startS3rver } from './helpers/s3rver.js'
import { tempDir } from './helpers/temp.js'

type Teardown = { teardown(fn: () => unknown): void }

interface ReadEvent extends LogEvent {
  serverTime: number
}

async function readEvents(url: string, bucket: string): Promise<ReadEvent[]> {
  const res = await request(`${url}/events.json?bucket=${encodeURIComponent(bucket)}`)
  const body = (await res.body.json()) as { events: ReadEvent[] }
  return body.events
}

const withoutServerTime = (events: ReadEvent[]): LogEvent[] => events.map(({ key, type, value, clientTime }) => ({ key, type, value, clientTime }))
const byKey = (events: LogEvent[]) => [...events].sort((a, b) => (String(a.key) < String(b.key) ? -1 : String(a.key) > String(b.key) ? 1 : 0))

async function tailingServer(t: Teardown, dbPath: string, tail: ConstructorParameters<typeof EventServer>[0]['tail']): Promise<{ server: EventServer; url: string }> {
  const server = new EventServer({ store: await openEventStore({ db: dbPath }), ...(tail ? { tail } : {}) })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  return { server, url }
}

/** Waits for two looks that begin after now: everything there now is handled. */
async function caughtUp(server: EventServer): Promise<void> {
  await server.tailer!.nextPoll()
  await server.tailer!.nextPoll()
}

t.test('directory: LoggingServer batches → tailed → /events.json holds exactly the posted events at their logged times', async (t) => {
  const dir = tempDir(t)
  // Small batches: most requests are split over two or more of them.
  const logger = new LoggingServer({ directory: dir, batchSeconds: 60, maxBatchBytes: 400 })
  const { port } = await logger.listen(0, '127.0.0.1')
  const base = `http://127.0.0.1:${port}`
  const json = makeEvents('json', 20)
  const eventbuf = makeEvents('eventbuf', 20)
  await postEvents(base, 'shop', json, 'json', 3)
  await postEvents(base, 'shop', eventbuf, 'eventbuf-v2', 4)
  await (await fetch(`${base}/i?e=pageview`)).arrayBuffer()
  await logger.close()
  const logged = await readLoggedRequests(dir)
  t.ok(logged.batches.length > 5, `${logged.batches.length} batches`)

  const { server, url } = await tailingServer(t, join(tempDir(t), 'events.duckdb'), { source: new DirectorySource(dir), intervalMs: 20 })
  await caughtUp(server)
  const events = await readEvents(url, 'shop')
  t.same(byKey(withoutServerTime(events)), byKey([...json, ...eventbuf]), 'exactly the events posted')
  // serverTime is the REQ_END time the LoggingServer logged for the request that carried the event.
  const endTimes = new Map<string, number>()
  for (const request of logged.requests) {
    if (!request.path.startsWith('/api/post-events')) continue
    const body = request.contentType === 'application/json' ? (JSON.parse(request.body.toString()) as { events: LogEvent[] }).events : undefined
    for (const event of body ?? []) endTimes.set(String(event.key), request.time)
  }
  for (const event of events) if (endTimes.has(String(event.key))) t.equal(event.serverTime, endTimes.get(String(event.key)), `serverTime of ${String(event.key)}`)
  t.match(server.tailer!.report, { damagedBatches: 0, unreadableBatches: 0, missingBatches: 0, incomplete: 0, rejects: 0, duplicates: 0, events: 40, withoutDecoder: 1 })
  const metrics = await server.metrics.render()
  t.match(metrics, new RegExp(`events_tail_batches_total\\{result="read"\\} ${logged.batches.length}\\b`))
  t.match(metrics, /events_stored_total\{origin="tail"\} 40\b/)
  t.match(metrics, /events_tail_lag_seconds 0\b/)
})

t.test('S3 (s3rver): batches of a running LoggingServer are picked up as they land', async (t) => {
  const s3 = await startS3rver()
  t.teardown(() => s3.close())
  const logger = new LoggingServer({ s3: s3.location, keyPrefix: 'prod', batchSeconds: 0.2 })
  const { port } = await logger.listen(0, '127.0.0.1')
  t.teardown(() => logger.close())
  const base = `http://127.0.0.1:${port}`
  const source = new S3Source({ ...s3.location, prefix: 'prod' })
  const { server, url } = await tailingServer(t, join(tempDir(t), 'events.duckdb'), { source, intervalMs: 50 })
  const first = makeEvents('first', 7)
  await postEvents(base, 'live', first, 'json', 2)
  while ((await readEvents(url, 'live')).length < first.length) await server.tailer!.nextPoll()
  t.same(byKey(withoutServerTime(await readEvents(url, 'live'))), byKey(first))
  // More traffic after the tailer caught up: a later look finds the new batches.
  const second = makeEvents('second', 5)
  await postEvents(base, 'live', second, 'eventbuf-v2', 2)
  while ((await readEvents(url, 'live')).length < first.length + second.length) await server.tailer!.nextPoll()
  await caughtUp(server)
  t.same(byKey(withoutServerTime(await readEvents(url, 'live'))), byKey([...first, ...second]), 'exactly once, nothing more')
  t.equal(server.tailer!.report.duplicates, 0)
})

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0)
const ev = (key: string, i = 0): LogEvent => ({ key, type: 'e', value: { i }, clientTime: 1_700_000_000_000 + i })

t.test('a request split over two batches is joined across a restart, exactly once', async (t) => {
  const dir = tempDir(t)
  const db = join(tempDir(t), 'events.duckdb')
  const split = jsonBody([ev('split-a', 1), ev('split-b', 2)])
  const half = Math.floor(split.length / 2)
  // Batch 1: request 1 complete, request 2's first half.
  writeBatch(dir, { serverToken: 'SrvTokA1', batchNumber: 1, startTime: T0 }, Buffer.concat([
    rawEvents([{ reqId: 1, time: T0, body: jsonBody([ev('whole', 0)]) }]),
    rawEvents([{ reqId: 2, time: T0 + 1, body: split.subarray(0, half), noEnd: true }]),
  ]))
  {
    const { server, url } = await tailingServer(t, db, { source: new DirectorySource(dir), intervalMs: 20 })
    await caughtUp(server)
    t.same((await readEvents(url, 'b')).map((e) => e.key), ['whole'], 'the open request waits')
    await server.close()
  }
  // Batch 2 lands while no EventServer runs: the rest of request 2, and request 3.
  writeBatch(dir, { serverToken: 'SrvTokA1', batchNumber: 2, startTime: T0 + 5000 }, Buffer.concat([
    rawEvents([{ reqId: 2, time: T0 + 5000, body: split.subarray(half) }]),
    rawEvents([{ reqId: 3, time: T0 + 5001, body: jsonBody([ev('third', 3)]) }]),
  ]))
  const { server, url } = await tailingServer(t, db, { source: new DirectorySource(dir), intervalMs: 20 })
  await caughtUp(server)
  const events = await readEvents(url, 'b')
  t.same(events.map((e) => [e.key, e.serverTime]), [['split-a', T0 + 5000], ['split-b', T0 + 5000], ['third', T0 + 5001], ['whole', T0]], 'joined, each once')
  t.match(server.tailer!.report, { events: 3, duplicates: 0, incomplete: 0 }, 'the restart re-read batch 1 without handing request 1 out again')
})

t.test('a batch waiting for a gap stays in sight of later looks more than a day after it started (lag, then ingest once the gap is given up)', async (t) => {
  const dir = tempDir(t)
  const token = 'SrvTokC1'
  writeBatch(dir, { serverToken: token, batchNumber: 1, startTime: T0 }, rawEvents([{ reqId: 1, time: T0, body: jsonBody([ev('first')]) }]))
  // Batch 2 never arrives; batch 3 waits for it.
  writeBatch(dir, { serverToken: token, batchNumber: 3, startTime: T0 + 200_000 }, rawEvents([
    { reqId: 9, time: T0 + 200_000, body: jsonBody([ev('maybe-partial')]) },
    { reqId: 10, time: T0 + 261_000, body: jsonBody([ev('third')]) },
  ]))
  let clock = T0 + 3 * 86_400_000 // three days later: past the one-day relist window of later looks
  const gapWaitMs = 5 * 86_400_000
  const { server, url } = await tailingServer(t, join(tempDir(t), 'events.duckdb'), { source: new DirectorySource(dir), intervalMs: 20, gapWaitMs, now: () => clock })
  await caughtUp(server)
  await caughtUp(server)
  const lag = /events_tail_lag_seconds (\d+)/.exec(await server.metrics.render())?.[1]
  t.ok(Number(lag) > 2 * 86_400, `the awaited batch still counts in the lag after several looks (${lag} s)`)
  t.same((await readEvents(url, 'b')).map((e) => e.key), ['first'])
  clock += gapWaitMs // the wait for batch 2 is over
  await caughtUp(server)
  t.same((await readEvents(url, 'b')).map((e) => e.key).sort(), ['first', 'third'], 'batch 3 is ingested once the gap is given up (its first request possibly partial)')
  t.match(server.tailer!.report, { missingBatches: 1, possiblyPartial: 1 })
})

t.test('damage, undecodable requests and missing batches are skipped, counted, and kept where a user can see them', async (t) => {
  const dir = tempDir(t)
  const token = 'SrvTokB1'
  writeBatch(dir, { serverToken: token, batchNumber: 1, startTime: T0 }, rawEvents([
    { reqId: 1, time: T0, body: jsonBody([ev('good-1')]) },
    { reqId: 2, time: T0, body: Buffer.from('{"key": not json') },
    { reqId: 3, time: T0, path: '/i?e=pixel', contentType: '', body: Buffer.alloc(0) },
  ]))
  // Batch 2: truncated gzip; the request before the cut is kept.
  const whole = gzipSync(rawEvents([{ reqId: 4, time: T0 + 100, body: jsonBody([ev('before-cut')]) }, { reqId: 5, time: T0 + 101, body: jsonBody([ev('after-cut')]) }]))
  const key2 = writeBatch(dir, { serverToken: token, batchNumber: 2, startTime: T0 + 100 }, Buffer.alloc(0), false)
  writeFileSync(join(dir, ...key2.split('/')), whole.subarray(0, whole.length - 30))
  // Batch 4 (batch 3 never arrives): request 6 may have started in batch 3, request 7 starts after the margin.
  writeBatch(dir, { serverToken: token, batchNumber: 4, startTime: T0 + 200_000 }, rawEvents([
    { reqId: 6, time: T0 + 200_000, body: jsonBody([ev('after-gap')]) },
    { reqId: 7, time: T0 + 261_000, body: jsonBody([ev('well-after-gap')]) },
  ]))

  const db = join(tempDir(t), 'events.duckdb')
  // A long wait for the missing batch first: the tailer stops before the gap and says how far behind it is.
  {
    const { server } = await tailingServer(t, db, { source: new DirectorySource(dir), intervalMs: 20, gapWaitMs: 3_600_000 })
    await caughtUp(server)
    t.match(server.tailer!.report, { batches: 2, damagedBatches: 1, missingBatches: 0, rejects: 1, withoutDecoder: 1 })
    t.match(await server.metrics.render(), /events_tail_lag_seconds [1-9]\d*/, 'lag while a batch is awaited')
    await server.close()
  }
  const problems: string[] = []
  const store = await openEventStore({ db })
  const server = new EventServer({ store, tail: { source: new DirectorySource(dir), intervalMs: 20, gapWaitMs: 0 }, logger: { info() {}, warn: (o: any) => problems.push(o.tail?.kind), error() {} } })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  await caughtUp(server)
  t.same((await readEvents(url, 'b')).map((e) => e.key).sort(), ['before-cut', 'good-1', 'well-after-gap'])
  t.match(server.tailer!.report, { damagedBatches: 0, missingBatches: 1, batches: 1, possiblyPartial: 1 }, 'after the restart: batch 4 after the gap, its first request possibly partial')
  t.ok(problems.includes('batch-gap'), 'the gap is logged')
  const rejects = await store.rejects()
  t.equal(rejects.length, 1, 'the undecodable request is kept')
  t.match(rejects[0], { origin: `tail:${token}/2`, method: 'POST', path: '/api/post-events?bucket=b', reason: /^LS_/ })
  t.equal(Buffer.from(rejects[0]!.body).toString(), '{"key": not json', 'with its body as received')
  const metrics = await server.metrics.render()
  t.match(metrics, /events_tail_problems_total\{kind="batch-gap"\} 1/)
  // And over HTTP.
  const listed = (await (await request(`${url}/rejects.json?limit=10`)).body.json()) as { rejects: Array<Record<string, unknown>> }
  t.equal(listed.rejects.length, 1)
  t.match(listed.rejects[0], { origin: `tail:${token}/2`, path: '/api/post-events?bucket=b', reason: /^LS_/, message: /JSON/ })
  t.equal(Buffer.from(String(listed.rejects[0]!.bodyBase64), 'base64').toString(), '{"key": not json')
})

t.test('--tail-since: only requests from that day on', async (t) => {
  const dir = tempDir(t)
  const dayBefore = T0 - 86_400_000
  writeBatch(dir, { serverToken: 'SrvOldAa', batchNumber: 7, startTime: dayBefore }, rawEvents([{ reqId: 1, time: dayBefore, body: jsonBody([ev('old')]) }]))
  writeBatch(dir, { serverToken: 'SrvNewAa', batchNumber: 1, startTime: T0 }, rawEvents([{ reqId: 1, time: T0, body: jsonBody([ev('new')]) }]))
  const since = Date.UTC(2026, 10, 25)
  const { server, url } = await tailingServer(t, join(tempDir(t), 'events.duckdb'), { source: new DirectorySource(dir), intervalMs: 20, since })
  await caughtUp(server)
  t.same((await readEvents(url, 'b')).map((e) => e.key), ['new'])
})

t.test('a backlog goes in few writes (batches committed together) and stores exactly what a write per batch stores, also after a failed write', async (t) => {
  const dir = tempDir(t)
  // Small batches: requests split over several of them.
  const logger = new LoggingServer({ directory: dir, batchSeconds: 60, maxBatchBytes: 400 })
  const { port } = await logger.listen(0, '127.0.0.1')
  const posted = makeEvents('grp', 30)
  await postEvents(`http://127.0.0.1:${port}`, 'grp', posted, 'json', 3)
  await logger.close()
  const batchCount = (await readLoggedRequests(dir)).batches.length
  t.ok(batchCount > 5, `${batchCount} batches`)

  const tailInto = async (options: { writeEvents?: number; failWrites?: number }) => {
    const store = await openEventStore({ db: join(tempDir(t), 'events.duckdb') })
    t.teardown(() => store.close())
    let failures = options.failWrites ?? 0
    const writes: Array<{ events: number; more: boolean }> = []
    // The store as the tailer sees it: the first writes fail as a database would (nothing stored).
    const failing = Object.create(store) as typeof store
    failing.write = async (batch) => {
      writes.push({ events: batch.events.length, more: batch.more === true })
      if (failures > 0) {
        failures--
        throw new Error('disk full')
      }
      return store.write(batch)
    }
    const tailer = new BatchTailer({ store: failing, source: new DirectorySource(dir), stream: 'grp', ...(options.writeEvents ? { writeEvents: options.writeEvents } : {}) })
    await tailer.poll()
    if (options.failWrites) await tailer.poll()
    const rows = await store.sql.query<{ key: string; value: string; server_time: number }>('SELECT hex(key) AS key, value, server_time FROM events ORDER BY key')
    return { rows, writes, report: tailer.report, checkpoints: await store.checkpoints('tail:grp/') }
  }
  const perBatch = await tailInto({ writeEvents: 1 })
  const grouped = await tailInto({})
  const afterFailure = await tailInto({ failWrites: 1 })

  t.equal(perBatch.rows.length, 30, 'every posted event stored')
  // writeEvents 1: a write as soon as batches bring an event (a batch of request starts only waits for the next).
  t.ok(perBatch.writes.length > 5 && perBatch.writes.length <= batchCount, `writeEvents 1: ${perBatch.writes.length} writes for ${batchCount} batches`)
  t.ok(perBatch.writes.slice(0, -1).every((w) => w.events >= 1), 'each write but the last holds events')
  t.ok(perBatch.writes.slice(0, -1).every((w) => w.more) && !perBatch.writes.at(-1)!.more, 'every write but the last says more follow')
  t.equal(grouped.writes.length, 1, 'the whole backlog in one write')
  t.equal(grouped.writes[0]!.more, false)
  t.same(grouped.rows, perBatch.rows, 'the same rows')
  t.same(grouped.checkpoints, perBatch.checkpoints, 'the same checkpoint')
  t.match(grouped.report, { batches: batchCount, events: 30, stored: 30, duplicates: 0 })

  t.same(afterFailure.writes.map((w) => w.events), [30, 30], 'the failed write, then the same batches again at the next look')
  t.same(afterFailure.rows, perBatch.rows, 'after the failed write: every event once')
  t.same(afterFailure.checkpoints, perBatch.checkpoints)
  t.match(afterFailure.report, { batches: batchCount, events: 30, stored: 30, duplicates: 0 })
})
