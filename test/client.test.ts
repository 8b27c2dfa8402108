import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createClient, decodeEventbufV2, decodeKey, DevServer, SendFailedError } from '../src/index.js'

async function devServer(t: { teardown(fn: () => unknown): void }): Promise<{ server: DevServer; url: string }> {
  const server = new DevServer()
  const url = await server.listen(0)
  t.teardown(() => server.close())
  return { server, url }
}

/** A plain node:http server that answers with `answer` and records each request body. */
async function scriptedServer(t: { teardown(fn: () => unknown): void }, answer: (n: number, req: IncomingMessage, res: ServerResponse, body: Buffer) => void) {
  const bodies: { url: string; contentType: string | undefined; body: Buffer }[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      bodies.push({ url: req.url ?? '', contentType: req.headers['content-type'], body })
      answer(bodies.length, req, res, body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies }
}

const fast = { initialDelayMs: 1, maxDelayMs: 5 }

for (const format of ['json', 'eventbuf-v2'] as const) {
  t.test(`${format}: track fills key and clientTime, batches, flush sends to the DevServer`, async (t) => {
    const { server, url } = await devServer(t)
    const client = createClient({ url, bucket: 'app', format, maxBatchEvents: 3, flushIntervalMs: 0 })
    const before = Date.now()
    const tracked = [client.track({ type: 'click', value: { n: 1 } }), client.track({ type: 2 }), client.track({ key: 'mine', type: 'x', value: { n: 3 }, clientTime: 5 })]
    t.type(tracked[0]!.key, 'string', 'a key is made')
    t.not(tracked[0]!.key, tracked[1]!.key, 'keys are unique')
    t.ok(tracked[0]!.clientTime >= before, 'clientTime is now')
    t.same(tracked[1]!.value, {}, 'value defaults to {}')
    t.equal(tracked[2]!.key, 'mine', 'a given key stays')
    for (let i = 0; i < 4; i++) client.track({ type: 'bulk', value: { i } })
    await client.flush()
    t.equal(client.pending, 0)
    t.equal(server.store.events('app').length, 7, 'every event stored')
    t.equal(server.store.events('app').find((e) => decodeKey(e.key) === 'mine')?.clientTime, 5)
    t.same(await client.close(), { sent: 0, requests: 0, stored: undefined, duplicates: undefined }, 'nothing left on close')
    t.throws(() => client.track({ type: 'late' }), { code: 'LS_CLOSED' })
  })
}

t.test('flush reports counts and sends batches of maxBatchEvents', async (t) => {
  const { url, bodies } = await scriptedServer(t, (_n, _req, res, body) => {
    const count = (JSON.parse(body.toString()) as { events: unknown[] }).events.length
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ stored: count, duplicates: 0 }))
  })
  const client = createClient({ url: url + '/base/', bucket: 'b c', maxBatchEvents: 2, flushIntervalMs: 0 })
  // Five tracks with a batch of 2 start sends in the background; flush waits for all of them.
  for (let i = 0; i < 5; i++) client.track({ key: i, type: 't' })
  await client.flush()
  t.equal(bodies.length, 3, '2 + 2 + 1')
  t.same(bodies.map((b) => (JSON.parse(b.body.toString()) as { events: { key: number }[] }).events.map((e) => e.key)), [[0, 1], [2, 3], [4]], 'in order')
  t.equal(bodies[0]!.url, '/base/api/post-events?bucket=b+c', 'path and bucket')
  t.equal(bodies[0]!.contentType, 'application/json')
})

t.test('retries network errors and 5xx with backoff, then succeeds', async (t) => {
  const { url, bodies } = await scriptedServer(t, (n, _req, res) => {
    if (n === 1) return res.destroy()
    if (n === 2) return res.writeHead(503).end('busy')
    res.writeHead(204).end()
  })
  const client = createClient({ url, bucket: 'b', format: 'eventbuf-v2', flushIntervalMs: 0, retry: { maxRetries: 3, ...fast } })
  client.track({ key: 1, type: 't' })
  const result = await client.flush()
  t.equal(bodies.length, 3, 'two failures, then success')
  t.ok(bodies.every((b) => b.body.equals(bodies[0]!.body)), 'the same bytes each time')
  t.same(decodeEventbufV2(bodies[2]!.body).map((e) => e.key), [1])
  t.match(result, { sent: 1, requests: 1, stored: undefined }, 'a server that says nothing (like the LoggingServer) is fine')
})

t.test('gives up after the retries; events stay queued for the next flush', async (t) => {
  let healthy = false
  const { url, bodies } = await scriptedServer(t, (_n, _req, res) => res.writeHead(healthy ? 200 : 500).end())
  const client = createClient({ url, bucket: 'b', flushIntervalMs: 0, retry: { maxRetries: 2, ...fast } })
  client.track({ key: 1, type: 't' })
  await t.rejects(client.flush(), { code: 'LS_SEND_FAILED', status: 500, attempts: 3 })
  t.equal(bodies.length, 3)
  t.equal(client.pending, 1, 'kept')
  healthy = true
  t.match(await client.flush(), { sent: 1 })
  t.equal(client.pending, 0)
})

t.test('a 4xx is not retried and its batch is dropped', async (t) => {
  const { url, bodies } = await scriptedServer(t, (_n, _req, res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"LS_EVENT_INVALID"}'))
  const client = createClient({ url, bucket: 'b', flushIntervalMs: 0, retry: fast })
  client.track({ key: 1, type: 't' })
  const err = await client.flush().catch((e: unknown) => e)
  t.ok(err instanceof SendFailedError)
  t.match(err, { status: 400, attempts: 1, body: /LS_EVENT_INVALID/ })
  t.equal(bodies.length, 1)
  t.equal(client.pending, 0)
})

t.test('network errors against a closed port are retried, then reported', async (t) => {
  const { url } = await scriptedServer(t, (_n, _req, res) => res.end())
  const closedUrl = await (async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    await new Promise((resolve) => server.close(resolve))
    return `http://127.0.0.1:${port}`
  })()
  t.ok(url)
  const client = createClient({ url: closedUrl, bucket: 'b', flushIntervalMs: 0, retry: { maxRetries: 1, ...fast } })
  client.track({ type: 't' })
  await t.rejects(client.flush(), { code: 'LS_SEND_FAILED', attempts: 2, message: /network error/ })
})

t.test('the interval timer sends without flush()', async (t) => {
  const { server, url } = await devServer(t)
  const client = createClient({ url, bucket: 'timed', flushIntervalMs: 10 })
  const stored = new Promise<void>((resolve) => server.store.subscribe(() => resolve()))
  client.track({ type: 't' })
  await stored
  t.equal(server.store.events('timed').length, 1)
  await client.close()
})

t.test('options and events are validated', async (t) => {
  t.throws(() => createClient({ url: 'not a url', bucket: 'b' }), { code: 'LS_INVALID_OPTION', message: /url/ })
  t.throws(() => createClient({ url: 'ftp://x', bucket: 'b' }), { code: 'LS_INVALID_OPTION' })
  t.throws(() => createClient({ url: 'http://x', bucket: '' }), { code: 'LS_INVALID_OPTION', message: /bucket/ })
  t.throws(() => createClient({ url: 'http://x', bucket: 'b', format: 'xml' as 'json' }), { code: 'LS_INVALID_OPTION', message: /format/ })
  t.throws(() => createClient({ url: 'http://x', bucket: 'b', maxBatchEvents: 0 }), { code: 'LS_INVALID_OPTION' })
  const client = createClient({ url: 'http://x', bucket: 'b', flushIntervalMs: 0 })
  t.throws(() => client.track({ type: 'x', key: 1.5 }), { code: 'LS_EVENT_INVALID', rule: 'key-integer' })
  t.equal(client.pending, 0, 'an invalid event is not queued')
})
