import Fastify from 'fastify'
import t from 'tap'
import { request } from 'undici'
import { DevServer, devServerPlugin, encodeEventbufV2, encodeEventbufV2Events, type LogEvent } from '../src/index.js'
import { eventbufV2Event } from './helpers/eventbuf-v2-fields.js'

const NOW = 1_700_000_000_000
const ev = (key: LogEvent['key'], extra: Partial<LogEvent> = {}): LogEvent => ({ key, type: 'click', value: { k: key }, clientTime: 1_600_000_000_000, ...extra })

function newServer(t: { teardown(fn: () => unknown): void }, options: ConstructorParameters<typeof DevServer>[0] = {}): DevServer {
  const server = new DevServer({ now: () => NOW, ...options })
  t.teardown(() => server.close())
  return server
}

async function post(server: DevServer, bucket: string | undefined, contentType: string | undefined, payload: string | Uint8Array | object) {
  const body = typeof payload === 'string' || payload instanceof Uint8Array ? Buffer.from(payload) : JSON.stringify(payload)
  return server.app.inject({
    method: 'POST',
    url: bucket === undefined ? '/api/post-events' : `/api/post-events?bucket=${encodeURIComponent(bucket)}`,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    payload: body,
  })
}
async function eventsOf(server: DevServer, bucket: string): Promise<unknown[]> {
  const response = await server.app.inject({ url: `/events.json?bucket=${encodeURIComponent(bucket)}` })
  return (response.json() as { events: unknown[] }).events
}

t.test('JSON: one event, or {events: [...]}, returned sorted by key with serverTime', async (t) => {
  const server = newServer(t)
  let response = await post(server, 'b', 'application/json', ev('z'))
  t.equal(response.statusCode, 200)
  t.same(response.json(), { stored: 1, duplicates: 0 })
  response = await post(server, 'b', 'application/json; charset=utf-8', { events: [ev(10), ev(null), ev(true), ev(-3), ev(['a', 2]), ev({ k: 1 }), ev(['a']), ev('a'), ev(false)] })
  t.same(response.json(), { stored: 9, duplicates: 0 })
  t.match(response.headers['content-type'], /application\/json/)
  const events = await eventsOf(server, 'b')
  // keyjson order (formats/keyjson.md): null < false < true < strings < lists < objects < integers.
  t.same(events.map((e) => (e as LogEvent).key), [null, false, true, 'a', 'z', ['a'], ['a', 2], { k: 1 }, -3, 10], 'total order over keys')
  t.same(events[0], { ...ev(null), serverTime: NOW }, 'key, type, value, clientTime and serverTime')
})

t.test('eventbuf-v2 posts store the same events', async (t) => {
  const server = newServer(t)
  const events = [ev(2, { type: 7 }), ev('x', { value: { nested: { a: [1, 2] } } })]
  const response = await post(server, 'b', 'Application/EventBuf-V2', encodeEventbufV2Events(events))
  t.equal(response.statusCode, 200)
  t.same(response.json(), { stored: 2, duplicates: 0 })
  t.same(await eventsOf(server, 'b'), [events[1]!, events[0]!].map((e) => ({ ...e, serverTime: NOW })), 'in key order: strings before integers')
})

t.test('idempotent: the first write of a key stands; buckets are separate', async (t) => {
  const server = newServer(t)
  t.same((await post(server, 'b', 'application/json', { events: [ev(1), ev(2)] })).json(), { stored: 2, duplicates: 0 })
  const again = await post(server, 'b', 'application/json', { events: [ev(1, { value: { changed: true } }), ev(3), ev(3)] })
  t.same(again.json(), { stored: 1, duplicates: 2 }, 'a stored key and a key repeated in the request are duplicates')
  t.same((await eventsOf(server, 'b'))[0], { ...ev(1), serverTime: NOW }, 'the first value stands')
  t.same((await post(server, 'other', 'application/eventbuf-v2', encodeEventbufV2(ev(1)))).json(), { stored: 1, duplicates: 0 }, 'same key, other bucket')
  t.equal((await eventsOf(server, 'b')).length, 3)
  t.equal((await eventsOf(server, 'other')).length, 1)
  t.same(await eventsOf(server, 'nobody'), [], 'an unknown bucket is empty')
  t.same((await server.app.inject({ url: '/buckets.json' })).json(), { buckets: [{ bucket: 'b', count: 3 }, { bucket: 'other', count: 1 }] })
})

t.test('GET /reset deletes all events', async (t) => {
  const server = newServer(t)
  await post(server, 'a', 'application/json', ev(1))
  await post(server, 'b', 'application/json', ev(1))
  const response = await server.app.inject({ url: '/reset' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { deleted: 2 })
  t.same(await eventsOf(server, 'a'), [])
  t.equal(server.store.size, 0)
})

t.test('bad input: status, error body, nothing stored', async (t) => {
  const server = newServer(t, { bodyLimit: 2000, maxEvents: 5 })
  const good = ev('good')
  const cases: { name: string; send: () => ReturnType<typeof post>; status: number; body: Record<string, unknown> }[] = [
    { name: 'no bucket', send: () => post(server, undefined, 'application/json', good), status: 400, body: { error: 'LS_BAD_REQUEST', reason: /missing bucket/ } },
    { name: 'empty bucket', send: () => post(server, '', 'application/json', good), status: 400, body: { error: 'LS_BAD_REQUEST', reason: /missing bucket/ } },
    { name: 'bucket twice', send: () => server.app.inject({ method: 'POST', url: '/api/post-events?bucket=a&bucket=b', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(good) }), status: 400, body: { error: 'LS_BAD_REQUEST', reason: /once/ } },
    { name: 'invalid JSON event (third of three)', send: () => post(server, 'b', 'application/json', { events: [good, ev('g2'), ev(1.5)] }), status: 400, body: { error: 'LS_EVENT_INVALID', index: 2, rule: 'key-integer', reason: /not an integer/ } },
    { name: 'invalid single event', send: () => post(server, 'b', 'application/json', { ...good, type: 70000 }), status: 400, body: { error: 'LS_EVENT_INVALID', index: 0, rule: 'type-value' } },
    { name: 'bad eventbuf-v2 (second of two)', send: () => { const bytes = Buffer.from(encodeEventbufV2Events([good, ev('g2')])); bytes[bytes.length - 1] ^= 1; return post(server, 'b', 'application/eventbuf-v2', bytes) }, status: 400, body: { error: 'LS_EVENT_DECODE', index: 1, offset: encodeEventbufV2(good).length, reason: 'checksum mismatch' } },
    { name: 'truncated eventbuf-v2', send: () => post(server, 'b', 'application/eventbuf-v2', encodeEventbufV2(good).subarray(0, 10)), status: 400, body: { error: 'LS_EVENT_DECODE', index: 0, offset: 0, reason: /truncated/ } },
    { name: 'malformed JSON', send: () => post(server, 'b', 'application/json', '{"key": '), status: 400, body: { error: 'LS_BAD_REQUEST', reason: /malformed JSON/ } },
    { name: 'empty JSON body', send: () => post(server, 'b', 'application/json', ''), status: 400, body: { error: 'LS_BAD_REQUEST', reason: /malformed JSON/ } },
    { name: 'other content type', send: () => post(server, 'b', 'text/plain', JSON.stringify(good)), status: 415, body: { error: 'LS_BAD_REQUEST', reason: /text\/plain/ } },
    { name: 'no content type', send: () => post(server, 'b', undefined, JSON.stringify(good)), status: 415, body: { error: 'LS_BAD_REQUEST' } },
    { name: 'over the body limit (JSON)', send: () => post(server, 'b', 'application/json', { ...good, value: { s: 'x'.repeat(3000) } }), status: 413, body: { error: 'LS_BAD_REQUEST', reason: /body limit/ } },
    { name: 'over the body limit (eventbuf-v2)', send: () => post(server, 'b', 'application/eventbuf-v2', encodeEventbufV2({ ...good, value: { s: 'x'.repeat(3000) } })), status: 413, body: { error: 'LS_BAD_REQUEST' } },
    { name: 'too many JSON events', send: () => post(server, 'b', 'application/json', { events: [1, 2, 3, 4, 5, 6].map((k) => ev(k)) }), status: 413, body: { error: 'LS_BAD_REQUEST', reason: /limit is 5/ } },
    { name: 'too many eventbuf-v2 events', send: () => post(server, 'b', 'application/eventbuf-v2', encodeEventbufV2Events([1, 2, 3, 4, 5, 6].map((k) => ev(k)))), status: 413, body: { error: 'LS_BAD_REQUEST', reason: /more than 5/ } },
  ]
  for (const c of cases) {
    const response = await c.send()
    t.equal(response.statusCode, c.status, `${c.name}: status`)
    t.match(response.json(), c.body, `${c.name}: body`)
    t.equal(server.store.size, 0, `${c.name}: nothing stored`)
  }
  t.equal((await server.app.inject({ url: '/events.json' })).statusCode, 400, 'events.json without a bucket')
  t.equal((await server.app.inject({ url: '/nowhere' })).statusCode, 404)
})

t.test('CORS: preflight and simple answers', async (t) => {
  const server = newServer(t)
  const preflight = await server.app.inject({ method: 'OPTIONS', url: '/api/post-events?bucket=b', headers: { origin: 'http://app.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], 'http://app.test')
  t.match(preflight.headers['access-control-allow-methods'], /POST/)
  t.equal(preflight.headers['access-control-allow-headers'], 'content-type')
  const posted = await server.app.inject({ method: 'POST', url: '/api/post-events?bucket=b', headers: { origin: 'http://app.test', 'content-type': 'application/json' }, payload: JSON.stringify(ev(1)) })
  t.equal(posted.headers['access-control-allow-origin'], 'http://app.test')
  const rejected = await server.app.inject({ method: 'POST', url: '/api/post-events', headers: { origin: 'http://app.test' } })
  t.equal(rejected.headers['access-control-allow-origin'], 'http://app.test', 'errors carry CORS too')
})

t.test('as a plugin under a prefix, next to the host app\'s own JSON routes', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(devServerPlugin, { prefix: '/dev', now: () => NOW })
  app.post('/echo', async (req) => req.body)
  const stored = await app.inject({ method: 'POST', url: '/dev/api/post-events?bucket=b', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(ev(1)) })
  t.same(stored.json(), { stored: 1, duplicates: 0 })
  t.same((await app.inject({ url: '/dev/events.json?bucket=b' })).json(), { events: [{ ...ev(1), serverTime: NOW }] })
  t.same((await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } })).json(), { a: 1 }, 'host JSON parser untouched')
  const page = await app.inject({ url: '/dev/' })
  t.match(page.body, /data-base="\/dev"/, 'the page knows its prefix')
})

t.test('options are validated', async (t) => {
  t.throws(() => new DevServer({ bodyLimit: -1 }), { code: 'LS_INVALID_OPTION', message: /bodyLimit/ })
  t.throws(() => new DevServer({ maxEvents: 1.5 }), { code: 'LS_INVALID_OPTION', message: /maxEvents/ })
})
t.test('values come back as the exact text received (1.0, big integers, member order, whitespace)', async (t) => {
  const server = newServer(t)
  const jsonValue = '{"b": 1.0, "a": 12345678901234567890,\n "c": [ ], "b": "again"}'
  const response = await post(server, 'b', 'application/json', `{"key":"j","type":"t","value":${jsonValue},"clientTime":5}`)
  t.equal(response.statusCode, 200)
  const bufValue = '{"z":-0.0,"y":1e2}'
  t.equal((await post(server, 'b', 'application/eventbuf-v2', eventbufV2Event({ key: 'k', value: bufValue, clientTime: 6 }))).statusCode, 200)
  const answer = await server.app.inject({ url: '/events.json?bucket=b' })
  t.equal(answer.statusCode, 200)
  t.match(answer.headers['content-type'], /application\/json/)
  t.equal(answer.payload, `{"events":[{"key":"j","type":"t","value":${jsonValue},"clientTime":5,"serverTime":${NOW}},{"key":"k","type":"t","value":${bufValue},"clientTime":6,"serverTime":${NOW}}]}`)
})

t.test('a value nested too deep is a 400 naming value-depth, stores nothing, and /events.json keeps answering', async (t) => {
  const server = newServer(t)
  const deep = '{"key":1,"type":"t","value":{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '},"clientTime":0}'
  const response = await post(server, 'b', 'application/json', deep)
  t.equal(response.statusCode, 400)
  t.match(response.json(), { error: 'LS_EVENT_INVALID', index: 0, rule: 'value-depth' })
  const buf = await post(server, 'b', 'application/eventbuf-v2', eventbufV2Event({ value: '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}' }))
  t.equal(buf.statusCode, 400)
  t.match(buf.json(), { error: 'LS_EVENT_DECODE', index: 0, reason: /rule value-depth/ })
  t.equal(server.store.size, 0, 'nothing stored')
  const limit = '{"a":'.repeat(63) + '{}' + '}'.repeat(63)
  t.equal((await post(server, 'b', 'application/json', `{"key":2,"type":"t","value":${limit},"clientTime":0}`)).statusCode, 200, '64 levels is allowed')
  const answer = await server.app.inject({ url: '/events.json?bucket=b' })
  t.equal(answer.statusCode, 200)
  t.same((answer.json() as { events: LogEvent[] }).events.map((e) => e.key), [2])
})

t.test('a failing listener never turns a stored event into a 5xx', async (t) => {
  const server = newServer(t)
  server.store.subscribe(() => {
    throw new Error('listener broke')
  })
  const response = await post(server, 'b', 'application/json', ev('kept'))
  t.equal(response.statusCode, 200)
  t.same(response.json(), { stored: 1, duplicates: 0 })
  t.equal(server.store.listenerErrors, 1, 'the failure is counted')
  t.same((await eventsOf(server, 'b')).map((e) => (e as LogEvent).key), ['kept'])
  t.equal((await post(server, 'b', 'application/json', ev('kept'))).statusCode, 200, 'a retry is a duplicate, not another failure')
})

t.test('real socket: listen(port, cb), undici, and the live stream', async (t) => {
  const server = new DevServer()
  const url = await new Promise<string>((resolve, reject) => server.listen(0, (err, address) => (err ? reject(err) : resolve(address!))))
  let closed = false
  t.teardown(() => (closed ? undefined : server.close()))
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)

  const stream = await request(`${url}/events/stream?bucket=live`)
  t.equal(stream.statusCode, 200)
  t.match(stream.headers['content-type'], /text\/event-stream/)
  const messages: string[] = []
  let buffered = ''
  let wake: () => void = () => {}
  stream.body.setEncoding('utf8')
  stream.body.on('data', (chunk: string) => {
    buffered += chunk
    let end
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      messages.push(buffered.slice(0, end))
      buffered = buffered.slice(end + 2)
    }
    wake()
  })
  const nextMessage = async (event: string): Promise<unknown> => {
    for (;;) {
      const found = messages.findIndex((m) => m.startsWith(`event: ${event}\n`))
      // A message's data may span several data: lines (value texts can hold line breaks); joined with \n.
      if (found >= 0) return JSON.parse(messages.splice(0, found + 1).at(-1)!.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n'))
      await new Promise<void>((resolve) => (wake = resolve))
    }
  }
  t.same(await nextMessage('ready'), { buckets: [] })

  const other = await request(`${url}/api/post-events?bucket=elsewhere`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ev('x')) })
  await other.body.dump()
  const posted = await request(`${url}/api/post-events?bucket=live`, { method: 'POST', headers: { 'content-type': 'application/eventbuf-v2' }, body: encodeEventbufV2(ev('y')) })
  t.equal(posted.statusCode, 200)
  t.same(await posted.body.json(), { stored: 1, duplicates: 0 })
  const message = (await nextMessage('events')) as { bucket: string; events: LogEvent[] }
  t.equal(message.bucket, 'live', 'the stream only carries its bucket')
  t.same(message.events.map((e) => e.key), ['y'])

  // A value at the depth limit, sent with line breaks between its tokens, reaches the stream whole.
  const deepText = '{\n"a":'.repeat(63) + '{}' + '}'.repeat(63)
  const deepPost = await request(`${url}/api/post-events?bucket=live`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"key":"deep","type":"t","value":${deepText},"clientTime":0}` })
  t.equal(deepPost.statusCode, 200)
  await deepPost.body.dump()
  const deepMessage = (await nextMessage('events')) as { events: LogEvent[] }
  t.same(deepMessage.events[0]!.value, JSON.parse(deepText), 'a 64-deep multi-line value arrives on the stream')

  await (await request(`${url}/reset`)).body.dump()
  t.same(await nextMessage('reset'), {})

  const streamEnded = new Promise((resolve) => stream.body.on('end', resolve).on('error', resolve))
  await server.close()
  closed = true
  await streamEnded
  t.pass('close() ends live streams and returns')
})
