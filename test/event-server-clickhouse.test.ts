// The EventServer on ClickHouse (a real clickhouse-server child process, one
// server; the two-shard cluster is covered by the store's own tests): tailed
// LoggingServer batches and direct posts read back exactly, pages with a
// cursor, bad input stores nothing, and `logging-system events --clickhouse`.
import t from 'tap'
import { request } from 'undici'
import { LoggingServer, type LogEvent } from '../src/index.js'
import { DirectorySource } from '../src/reader/directory-source.js'
import { EventServer } from '../src/servers/event-server.js'
import { openEventStore } from '../src/store/open-store.js'
import { clickhouseMissing, clickhouseSkip, startClickHouse } from './helpers/clickhouse-server.js'
import { jsonBody, makeEvents, postEvents, rawEvents, writeBatch } from './helpers/replay.js'
import { writeTailBacklog } from './helpers/tail-backlog.js'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

const skip = clickhouseSkip()
const missing = clickhouseMissing()
if (missing !== undefined && !skip) t.fail(`clickhouse-server is required under CI: ${missing}`)

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname

async function json(url: string, init?: { body: string; contentType: string }): Promise<{ status: number; body: any }> {
  const res = await request(url, init ? { method: 'POST', body: init.body, headers: { 'content-type': init.contentType } } : {})
  const text = await res.body.text()
  return { status: res.statusCode, body: JSON.parse(text) }
}

const strip = (events: Array<LogEvent & { serverTime?: number }>): LogEvent[] => events.map(({ key, type, value, clientTime }) => ({ key, type, value, clientTime }))
const byKey = (events: LogEvent[]) => [...events].sort((a, b) => (String(a.key) < String(b.key) ? -1 : 1))

t.test('EventServer on ClickHouse: tail, posts, pages, bad input', { skip }, async (t) => {
  const clickhouse = await startClickHouse(t)
  const dir = tempDir(t)
  const logger = new LoggingServer({ directory: dir, batchSeconds: 60, maxBatchBytes: 400 })
  const { port } = await logger.listen(0, '127.0.0.1')
  const logged = [...makeEvents('json', 12), ...makeEvents('eventbuf', 12)]
  await postEvents(`http://127.0.0.1:${port}`, 'tailed', logged.slice(0, 12), 'json', 3)
  await postEvents(`http://127.0.0.1:${port}`, 'tailed', logged.slice(12), 'eventbuf-v2', 4)
  await logger.close()

  const server = new EventServer({ store: await openEventStore({ clickhouse: clickhouse.url }), tail: { source: new DirectorySource(dir), intervalMs: 50 } })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  await server.tailer!.nextPoll()
  await server.tailer!.nextPoll()
  t.same(byKey(strip((await json(`${url}/events.json?bucket=tailed`)).body.events)), byKey(logged), 'exactly the logged events')
  t.match(server.tailer!.report, { incomplete: 0, rejects: 0, events: 24 })

  // Direct posts: exact value text, list keys in keyjson order, a duplicate counted.
  const body = '{"events":[{"key":["u",2],"type":"b","value":{"x":1.0,"big":12345678901234567890},"clientTime":2},{"key":["u",1],"type":3,"value":{},"clientTime":1},{"key":"s","type":"a","value":{"z":[1,2]},"clientTime":3}]}'
  t.same((await json(`${url}/api/post-events?bucket=direct`, { body, contentType: 'application/json' })).body, { stored: 3, duplicates: 0 })
  t.same((await json(`${url}/api/post-events?bucket=direct`, { body: '{"key":"s","type":"a","value":{},"clientTime":9}', contentType: 'application/json' })).body, { stored: 0, duplicates: 1 })
  // Concurrent posts (group commits) each counting their own events, with a key already stored in every one.
  t.same((await json(`${url}/api/post-events?bucket=group`, { body: '{"key":"g0","type":"g","value":{},"clientTime":1}', contentType: 'application/json' })).body, { stored: 1, duplicates: 0 })
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => json(`${url}/api/post-events?bucket=group`, { body: JSON.stringify({ events: [{ key: `g${i + 1}`, type: 'g', value: {}, clientTime: 1 }, { key: 'g0', type: 'g', value: {}, clientTime: 1 }] }), contentType: 'application/json' })))
  t.same(answers.map((a) => a.body), Array.from({ length: 12 }, () => ({ stored: 1, duplicates: 1 })), 'each post: its own key stored, g0 a duplicate')
  const res = await request(`${url}/events.json?bucket=direct`)
  t.match(await res.body.text(), /^\{"events":\[\{"key":"s","type":"a","value":\{"z":\[1,2\]\},"clientTime":3,"serverTime":\d+\},\{"key":\["u",1\],"type":3,"value":\{\},"clientTime":1,"serverTime":\d+\},\{"key":\["u",2\],"type":"b","value":\{"x":1\.0,"big":12345678901234567890\},"clientTime":2,"serverTime":\d+\}\]\}\n$/)

  // Pages with a cursor.
  const keys: string[] = []
  let cursor: string | undefined
  do {
    const page = (await json(`${url}/events.json?bucket=tailed&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).body
    keys.push(...page.events.map((e: LogEvent) => String(e.key)))
    cursor = page.nextCursor
  } while (cursor)
  t.same(keys, byKey(logged).map((e) => String(e.key)), 'every event once, in key order')

  // Bad input: 4xx, nothing stored.
  const bad = await json(`${url}/api/post-events?bucket=bad`, { body: '{"events":[{"key":"a","type":"t","value":{},"clientTime":1},{"key":"b"}]}', contentType: 'application/json' })
  t.equal(bad.status, 400)
  t.same((await json(`${url}/buckets.json`)).body.buckets.map((b: { bucket: string }) => b.bucket), ['direct', 'group', 'tailed'])
})

t.test('logging-system events --clickhouse URL', { skip }, async (t) => {
  const clickhouse = await startClickHouse(t)
  const child = spawnNode(t, [BIN, 'events', '--port', '0', '--host', '127.0.0.1', '--clickhouse', clickhouse.url])
  const { url } = await child.waitForJson<{ url: string; store: string }>((line) => line.msg === 'EventServer listening')
  t.equal((await json(`${url}/api/post-events?bucket=cli`, { body: '{"key":1,"type":"t","value":{"a":1},"clientTime":5}', contentType: 'application/json' })).status, 200)
  await child.stop('SIGTERM')
  // The events are in ClickHouse, not in a process: a new EventServer finds them.
  const again = spawnNode(t, [BIN, 'events', '--port', '0', '--host', '127.0.0.1', '--clickhouse', clickhouse.url])
  const second = await again.waitForJson<{ url: string; store: string }>((line) => line.msg === 'EventServer listening')
  t.equal(second.store, 'clickhouse')
  t.same(strip((await json(`${second.url}/events.json?bucket=cli`)).body.events), [{ key: 1, type: 't', value: { a: 1 }, clientTime: 5 }])
  t.equal(await again.stop('SIGTERM'), 0)
})

t.test('ClickHouse: kill -9 mid-tail and after acknowledged posts, then restart: each event exactly once', { skip }, async (t) => {
  const clickhouse = await startClickHouse(t)
  const dir = tempDir(t)
  const expected = writeTailBacklog(dir, { serverToken: 'KiLLchAA', batches: 120, perBatch: 50, startTime: Date.UTC(2026, 10, 25, 12) })
  // Small writes (a few batches each), so the kill lands between commits of the backlog.
  const args = [BIN, 'events', '--port', '0', '--host', '127.0.0.1', '--clickhouse', clickhouse.url, '--tail-dir', dir, '--tail-interval-seconds', '0.05', '--tail-write-events', '200', '--admin-port', '0']
  const start = async () => {
    const child = spawnNode(t, args)
    const { url } = await child.waitForJson<{ url: string }>((line) => line.msg === 'EventServer listening')
    const { port } = await child.waitForJson<{ port: number }>((line) => line.msg === 'admin listening')
    return { child, url, admin: `http://127.0.0.1:${port}` }
  }
  const count = async (url: string, bucket: string) => ((await json(`${url}/buckets.json`)).body.buckets as Array<{ bucket: string; count: number }>).find((b) => b.bucket === bucket)?.count ?? 0
  const first = await start()
  // Direct posts alongside the tailing; only 200 answers count.
  const acknowledged: string[] = []
  for (let n = 0; n < 20; n++) {
    const events = Array.from({ length: 10 }, (_, i) => ({ key: `d-${n}-${i}`, type: 'd', value: {}, clientTime: 1 }))
    if ((await json(`${first.url}/api/post-events?bucket=direct`, { body: JSON.stringify({ events }), contentType: 'application/json' })).status === 200) acknowledged.push(...events.map((e) => e.key))
  }
  let atKill = 0
  while ((atKill = await count(first.url, 'b')) < 500) await new Promise((resolve) => setTimeout(resolve, 10))
  first.child.process.kill('SIGKILL')
  await first.child.exited
  t.ok(atKill < expected.length, `killed mid-tail (${atKill} of ${expected.length})`)

  const second = await start()
  while ((await count(second.url, 'b')) < expected.length) await new Promise((resolve) => setTimeout(resolve, 50))
  const keys = ((await json(`${second.url}/events.json?bucket=b`)).body.events as Array<{ key: string }>).map((e) => e.key)
  t.same([...keys].sort(), [...expected].sort(), 'each logged event exactly once')
  const direct = new Set(((await json(`${second.url}/events.json?bucket=direct`)).body.events as Array<{ key: string }>).map((e) => e.key))
  t.equal(acknowledged.filter((key) => !direct.has(key)).length, 0, `all ${acknowledged.length} acknowledged posts are there`)
  const metrics = await (await request(`${second.admin}/metrics`)).body.text()
  t.match(metrics, /^events_tail_requests_skipped_total\{reason="incomplete"\} 0$/m, 'the request split at the kill was joined')
  t.equal(await second.child.stop('SIGTERM'), 0)
})

t.test('ClickHouse goes away and comes back: posts get 503, tailing waits, then every event exactly once', { skip }, async (t) => {
  const clickhouse = await startClickHouse(t)
  const dir = tempDir(t)
  // Recent: later looks list the last day's folders, and batch 2 lands after the first look.
  const T = Date.now() - 60_000
  const ev = (key: string) => ({ key, type: 'e', value: { key }, clientTime: 1 })
  writeBatch(dir, { serverToken: 'DownUpAa', batchNumber: 1, startTime: T }, rawEvents([{ reqId: 1, time: T, body: jsonBody([ev('one')]) }, { reqId: 2, time: T, body: jsonBody([ev('split')]).subarray(0, 10), noEnd: true }]))
  const problems: string[] = []
  const server = new EventServer({
    store: await openEventStore({ clickhouse: clickhouse.url }),
    tail: { source: new DirectorySource(dir), intervalMs: 50 },
    logger: { info() {}, error() {}, warn: (o: any) => o.tail && problems.push(o.tail.kind) },
  })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  await server.tailer!.nextPoll()
  await server.tailer!.nextPoll()
  t.same(strip((await json(`${url}/events.json?bucket=b`)).body.events).map((e) => e.key), ['one'])

  await clickhouse.stop()
  writeBatch(dir, { serverToken: 'DownUpAa', batchNumber: 2, startTime: T + 1000 }, rawEvents([{ reqId: 2, time: T + 1000, body: jsonBody([ev('split')]).subarray(10) }, { reqId: 3, time: T + 1000, body: jsonBody([ev('two')]) }]))
  const down = await json(`${url}/api/post-events?bucket=b`, { body: JSON.stringify(ev('posted')), contentType: 'application/json' })
  t.equal(down.status, 503, 'a post while the store is down')
  t.equal(down.body.error, 'LS_STORE_UNAVAILABLE')
  while (!problems.includes('store-failed')) await server.tailer!.nextPoll()
  t.equal(server.ready, false)

  await clickhouse.restart()
  t.equal((await json(`${url}/api/post-events?bucket=b`, { body: JSON.stringify(ev('posted')), contentType: 'application/json' })).status, 200, 'the retried post')
  while (((await json(`${url}/buckets.json`)).body.buckets[0]?.count ?? 0) < 4) await server.tailer!.nextPoll()
  await server.tailer!.nextPoll()
  t.same(strip((await json(`${url}/events.json?bucket=b`)).body.events).map((e) => e.key), ['one', 'posted', 'split', 'two'], 'each once; the split request joined after the store came back')
  t.equal(server.ready, true)
})
