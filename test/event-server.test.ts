// The EventServer's HTTP API over a real DuckDB store: posts answered 2xx
// only once committed, reads by key range / prefix / time / type, pages
// with a cursor, bad input refused with a 4xx and nothing stored, 503 when
// the store cannot commit, and routes added by other features.
import t from 'tap'
import { join } from 'node:path'
import { request } from 'undici'
import { encodeEventbufV2Events } from '../src/formats/eventbuf-v2.js'
import { EventServer, type EventServerRoutes } from '../src/servers/event-server.js'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { openEventStore } from '../src/store/open-store.js'
import { tempDir } from './helpers/temp.js'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: any
}

async function call(url: string, init: { method?: string; body?: string | Uint8Array; contentType?: string } = {}): Promise<Answer> {
  const res = await request(url, {
    method: (init.method ?? (init.body !== undefined ? 'POST' : 'GET')) as 'GET',
    ...(init.body !== undefined ? { body: init.body } : {}),
    headers: init.contentType ? { 'content-type': init.contentType } : {},
  })
  const text = await res.body.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.statusCode, headers: res.headers, text, json }
}

async function startServer(t: { teardown(fn: () => unknown): void }, options: Partial<ConstructorParameters<typeof EventServer>[0]> = {}) {
  const dir = tempDir(t)
  const path = join(dir, 'events.duckdb')
  const server = new EventServer({ store: await openEventStore({ db: path }), ...options })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  return { server, url, path }
}

const post = (url: string, bucket: string, body: string | Uint8Array, contentType = 'application/json') =>
  call(`${url}/api/post-events?bucket=${encodeURIComponent(bucket)}`, { body, contentType })

t.test('posted JSON and eventbuf-v2 come back in key order, values as the exact text sent', async (t) => {
  let clock = 1_800_000_000_000
  const { url } = await startServer(t, { now: () => clock++ })
  // Exact value text: 1.0, a big integer and member order must survive.
  const jsonBody = '{"events":[{"key":"b","type":"click","value":{"z":1.0,"a":12345678901234567890},"clientTime":5},{"key":["u",2],"type":7,"value":{},"clientTime":6}]}'
  const first = await post(url, 'shop', jsonBody)
  t.equal(first.status, 200, first.text)
  t.same(first.json, { stored: 2, duplicates: 0 })
  const eventbuf = encodeEventbufV2Events([{ key: 'a', type: 'view', value: { n: 1 }, clientTime: 9 }])
  const second = await post(url, 'shop', eventbuf, 'application/eventbuf-v2')
  t.equal(second.status, 200, second.text)
  // The same key again is a duplicate: the first write stands.
  const again = await post(url, 'shop', '{"key":"b","type":"other","value":{},"clientTime":1}')
  t.same(again.json, { stored: 0, duplicates: 1 })

  const read = await call(`${url}/events.json?bucket=shop`)
  t.equal(read.status, 200)
  t.match(read.headers['content-type'], /^application\/json/)
  t.equal(
    read.text,
    '{"events":[' +
      '{"key":"a","type":"view","value":{"n":1},"clientTime":9,"serverTime":1800000000001},' +
      '{"key":"b","type":"click","value":{"z":1.0,"a":12345678901234567890},"clientTime":5,"serverTime":1800000000000},' +
      '{"key":["u",2],"type":7,"value":{},"clientTime":6,"serverTime":1800000000000}' +
      ']}\n',
    'strings before lists (keyjson order), exact value text, DevServer field names',
  )
  const buckets = await call(`${url}/buckets.json`)
  t.same(buckets.json, { buckets: [{ bucket: 'shop', count: 3 }] })
})

t.test('range reads: from/to, prefix, server and client time, type', async (t) => {
  let clock = 1_000
  const { url } = await startServer(t, { now: () => (clock += 1000) })
  const events = [
    { key: ['user-17'], type: 'a', value: {}, clientTime: 10 },
    { key: ['user-17', 1], type: 'b', value: {}, clientTime: 20 },
    { key: ['user-17', 2], type: 'a', value: {}, clientTime: 30 },
    { key: ['user-170', 1], type: 'a', value: {}, clientTime: 40 },
    { key: 'x', type: 1, value: {}, clientTime: 50 },
    { key: 5, type: 'a', value: {}, clientTime: 60 },
  ]
  // One request per event: server times 2000, 3000, ...
  for (const event of events) t.equal((await post(url, 'b', JSON.stringify(event))).status, 200)
  const keys = async (query: string) => {
    const answer = await call(`${url}/events.json?bucket=b&${query}`)
    t.equal(answer.status, 200, answer.text)
    return (answer.json.events as Array<{ key: unknown }>).map((event) => event.key)
  }
  t.same(await keys(''), ['x', ['user-17'], ['user-17', 1], ['user-17', 2], ['user-170', 1], 5], 'keyjson order: strings, lists, then integers')
  t.same(await keys(`prefix=${encodeURIComponent('["user-17"]')}`), [['user-17'], ['user-17', 1], ['user-17', 2]], 'a prefix is its elements, not a string prefix')
  t.same(await keys(`from=${encodeURIComponent('"x"')}&to=${encodeURIComponent('["user-17",2]')}`), ['x', ['user-17'], ['user-17', 1]], 'from inclusive, to exclusive')
  t.same(await keys(`prefix=${encodeURIComponent('["user-17"]')}&from=${encodeURIComponent('["user-17",1]')}`), [['user-17', 1], ['user-17', 2]], 'prefix and from intersect')
  t.same(await keys('serverTimeFrom=3000&serverTimeTo=5000'), [['user-17', 1], ['user-17', 2]], 'server time [from, to)')
  t.same(await keys('clientTimeFrom=40'), ['x', ['user-170', 1], 5], 'client time from')
  t.same(await keys('type=b&type=1'), ['x', ['user-17', 1]], 'type repeats; an integer type by its digits')
})

t.test('pages: limit and the cursor walk every event exactly once', async (t) => {
  const { url } = await startServer(t)
  const sent = Array.from({ length: 53 }, (_, i) => ({ key: ['k', i], type: 'p', value: { i }, clientTime: i }))
  t.equal((await post(url, 'pages', JSON.stringify({ events: sent }))).status, 200)
  const seen: number[] = []
  let cursor: string | undefined
  let pages = 0
  do {
    const answer = await call(`${url}/events.json?bucket=pages&limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    t.equal(answer.status, 200, answer.text)
    pages++
    for (const event of answer.json.events) seen.push(event.value.i)
    cursor = answer.json.nextCursor
    if (cursor !== undefined) t.equal(answer.json.events.length, 10, 'a page with a next cursor is full')
  } while (cursor !== undefined && pages < 20)
  t.equal(pages, 6)
  t.same(seen, sent.map((event) => event.value.i))
  // A limit that ends exactly at the last event gives no cursor.
  const exact = await call(`${url}/events.json?bucket=pages&limit=53`)
  t.equal(exact.json.events.length, 53)
  t.equal(exact.json.nextCursor, undefined)
  const bad = await call(`${url}/events.json?bucket=pages&cursor=nonsense`)
  t.equal(bad.status, 400)
  t.match(bad.json.reason, /cursor/)
})

t.test('concurrent posts are committed together, and each answer counts its own events', async (t) => {
  const { url } = await startServer(t)
  const event = (key: string) => ({ key, type: 't', value: { key }, clientTime: 1 })
  t.same((await post(url, 'c', JSON.stringify({ events: [event('old-1'), event('old-2')] }))).json, { stored: 2, duplicates: 0 })
  // 30 posts at once: each has 2 keys of its own, one key shared by all, and every third an already stored key.
  const bodies = Array.from({ length: 30 }, (_, i) => ({ events: [event(`own-${i}-a`), event('shared'), event(`own-${i}-b`), ...(i % 3 === 0 ? [event('old-1')] : [])] }))
  const answers = await Promise.all(bodies.map((body) => post(url, 'c', JSON.stringify(body))))
  let stored = 0
  let sharedStored = 0
  answers.forEach((answer, i) => {
    t.equal(answer.status, 200)
    const own = 2
    const { stored: s, duplicates: d } = answer.json as { stored: number; duplicates: number }
    t.equal(s + d, bodies[i]!.events.length, `post ${i}: every event counted once`)
    t.ok(s === own || s === own + 1, `post ${i}: its own keys are new, the old key is not (${s})`)
    if (s === own + 1) sharedStored++
    stored += s
  })
  t.equal(sharedStored, 1, 'exactly one post stored the shared key')
  t.equal(stored, 61)
  t.same((await call(`${url}/buckets.json`)).json, { buckets: [{ bucket: 'c', count: 63 }] })
})

t.test('bad input gets a 4xx with a message, and nothing is stored', async (t) => {
  const { url, server } = await startServer(t, { bodyLimit: 64 * 1024, maxEvents: 5 })
  const deep = '{"key":"d","type":"t","value":' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) + ',"clientTime":1}'
  const cases: Array<[string, Promise<Answer>, number, RegExp]> = [
    ['malformed JSON', post(url, 'b', '{"key":'), 400, /JSON/i],
    ['an invalid event', post(url, 'b', '{"events":[{"key":"ok","type":"t","value":{},"clientTime":1},{"key":"bad","type":"t","value":[],"clientTime":1}]}'), 400, /value/],
    ['bad eventbuf-v2', post(url, 'b', Buffer.from([0x05, 1, 2, 3, 4, 5]), 'application/eventbuf-v2'), 400, /length 5 is below the minimum/],
    ['too deep', post(url, 'b', deep), 400, /deep|depth|nest/i],
    ['too large', post(url, 'b', '{"key":"x","type":"t","value":{"s":"' + 'x'.repeat(70 * 1024) + '"},"clientTime":1}'), 413, /limit/],
    ['too many events', post(url, 'b', JSON.stringify({ events: Array.from({ length: 6 }, (_, i) => ({ key: i, type: 't', value: {}, clientTime: 1 })) })), 413, /limit is 5/],
    ['no bucket', call(`${url}/api/post-events`, { body: '{}', contentType: 'application/json' }), 400, /bucket/],
    ['a bucket too long', post(url, 'b'.repeat(300), '{"key":"x","type":"t","value":{},"clientTime":1}'), 400, /bucket/],
    ['an unsupported content type', post(url, 'b', 'key=x', 'text/plain'), 415, /text\/plain/],
    ['a bad key in a read', call(`${url}/events.json?bucket=b&from=notjson`), 400, /from/],
    ['a prefix that is not a list', call(`${url}/events.json?bucket=b&prefix=%22a%22`), 400, /prefix/],
    ['an unknown read parameter', call(`${url}/events.json?bucket=b&form=1`), 400, /form/],
    ['a bad limit', call(`${url}/events.json?bucket=b&limit=0`), 400, /limit/],
  ]
  for (const [name, answer, status, reason] of cases) {
    const { status: got, json } = await answer
    t.equal(got, status, name)
    t.type(json?.error, 'string', `${name}: a JSON error code`)
    t.match(json?.reason, reason, `${name}: the reason says what was wrong`)
  }
  t.same((await call(`${url}/buckets.json`)).json, { buckets: [] }, 'nothing stored')
  t.equal((await server.store.buckets()).length, 0)
})

t.test('503 with Retry-After when the store cannot commit', async (t) => {
  const { url, server } = await startServer(t)
  t.equal((await post(url, 'b', '{"key":1,"type":"t","value":{},"clientTime":1}')).status, 200)
  // The store goes away under the server (as a disk or database failure would).
  await server.store.close()
  const answer = await post(url, 'b', '{"key":2,"type":"t","value":{},"clientTime":1}')
  t.equal(answer.status, 503, answer.text)
  t.equal(answer.headers['retry-after'], '1')
  t.match(answer.json, { error: /^LS_/ })
  t.equal(server.ready, false, 'not ready while the store does not commit')
  const metrics = await server.metrics.render()
  t.match(metrics, /events_store_commit_failures_total\{origin="direct"\} 1/)
  t.match(metrics, /events_stored_total\{origin="direct"\} 1/)
})

t.test('other features add routes as plugins; they share the store and the error answers', async (t) => {
  const extra: EventServerRoutes = {
    name: 'count',
    prefix: '/api/extra',
    async plugin(app, context) {
      app.get('/count', async () => ({ buckets: (await context.store.buckets()).length }))
      app.get('/fail', async () => {
        throw new (await import('../src/errors.js')).BadRequestError(422, 'extra says no')
      })
    },
  }
  const { url } = await startServer(t, { routes: [extra] })
  t.equal((await post(url, 'one', '{"key":1,"type":"t","value":{},"clientTime":1}')).status, 200)
  t.same((await call(`${url}/api/extra/count`)).json, { buckets: 1 })
  const fail = await call(`${url}/api/extra/fail`)
  t.equal(fail.status, 422)
  t.same(fail.json, { error: 'LS_BAD_REQUEST', reason: 'extra says no' })
  t.throws(() => new EventServer({ store: new DuckDbEventStore({ path: join(tempDir(t), 'x.duckdb') }), routes: [{ ...extra, name: 'events-api' }] }), { code: 'LS_INVALID_OPTION' })
  const missing = await call(`${url}/nope`)
  t.equal(missing.status, 404)
  t.match(missing.json.reason, /no route GET \/nope/)
})
