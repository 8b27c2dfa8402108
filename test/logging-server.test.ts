// The standalone LoggingServer over real sockets: what clients see, and what
// the bytes written to the batch directory decode to.
import t, { type Test } from 'tap'
import { connect } from 'node:net'
import { Readable } from 'node:stream'
import { gunzipSync } from 'node:zlib'
import { request } from 'undici'
import { LoggingServer, parseObjectKey, type LoggingServerOptions } from '../src/index.js'
import { readLoggedRequests } from './helpers/batches.js'
import { sendHalf } from './helpers/half-sent.js'
import { tempDir } from './helpers/temp.js'

async function startServer(t: Test, options: LoggingServerOptions = {}) {
  const directory = tempDir(t)
  const server = new LoggingServer({ directory, batchSeconds: 60, ...options })
  const address = await server.listen(0, '127.0.0.1')
  const base = `http://127.0.0.1:${address.port}`
  t.teardown(() => server.close().catch(() => {}))
  return { server, directory, base, port: address.port }
}

/** Sends raw bytes on a fresh socket and resolves with everything the server answered. */
function rawExchange(port: number, chunks: Array<string | Buffer>, { end = true } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    socket.on('data', (data) => (answer += data.toString('latin1')))
    socket.on('error', reject)
    socket.on('close', () => resolve(answer))
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk)
      if (end) socket.end()
      else setTimeout(() => socket.destroy(), 50)
    })
  })
}

t.test('requests of every shape come back byte-exact', async (t) => {
  const { server, directory, base } = await startServer(t)
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  const big = Buffer.alloc(1024 * 1024)
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251
  const unicodePath = '/caf%C3%A9/%E2%9C%93?q=%F0%9F%98%80&x=a%20b'

  const sends = [
    { path: '/binary', method: 'POST', contentType: 'application/octet-stream', body: binary },
    { path: '/empty', method: 'POST', contentType: 'text/plain', body: Buffer.alloc(0) },
    { path: '/one-mib', method: 'PUT', contentType: 'application/octet-stream', body: big },
    { path: unicodePath, method: 'POST', contentType: 'application/json; charset=utf-8', body: Buffer.from('{"name":"café ✓"}') },
    { path: '/search?q=a&b=c', method: 'GET', contentType: '', body: Buffer.alloc(0) },
  ]
  for (const send of sends) {
    const res = await request(base + send.path, {
      method: send.method as 'POST',
      headers: { ...(send.contentType ? { 'content-type': send.contentType } : {}), 'user-agent': 'shape-test/1' },
      body: send.method === 'GET' ? undefined : send.body,
    })
    t.equal(res.statusCode, 200, `${send.path} answered 200`)
    t.equal(await res.body.text(), 'OK\n')
  }
  // Chunked transfer: the body arrives as a stream of pieces.
  const pieces = ['first,', 'second,', 'third'].map((piece) => Buffer.from(piece))
  const chunked = await request(base + '/chunked', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: Readable.from(pieces) })
  t.equal(chunked.statusCode, 200)
  await chunked.body.dump()
  // Many concurrent requests.
  const concurrent = Array.from({ length: 100 }, (_, i) => Buffer.from(`body number ${i} `.repeat(i + 1)))
  const answers = await Promise.all(
    concurrent.map(async (body, i) => {
      const res = await request(`${base}/concurrent/${i}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body })
      await res.body.dump()
      return res.statusCode
    }),
  )
  t.same(new Set(answers), new Set([200]))
  await server.close()

  const { requests, incomplete, batches } = await readLoggedRequests(directory)
  t.same(incomplete, [], 'every request ended')
  t.equal(requests.length, sends.length + 1 + concurrent.length, 'one logged request per request sent')
  t.ok(batches.every((batch) => parseObjectKey(batch.key)?.serverToken === server.serverToken))
  const byPath = new Map(requests.map((r) => [r.path, r]))
  for (const send of sends) {
    const logged = byPath.get(send.path)
    t.ok(logged, `${send.path} logged under its exact target`)
    t.ok(logged!.body.equals(send.body), `${send.path}: body byte-exact (${send.body.length} bytes)`)
    t.equal(logged!.method, send.method)
    t.equal(logged!.contentType, send.contentType)
    t.equal(logged!.ip, '127.0.0.1')
    t.equal(logged!.headers['user-agent'], 'shape-test/1')
    t.equal(logged!.outcomeName, 'complete')
  }
  t.equal(byPath.get('/chunked')!.body.toString(), 'first,second,third')
  for (let i = 0; i < concurrent.length; i++) t.ok(byPath.get(`/concurrent/${i}`)?.body.equals(concurrent[i]!), `concurrent ${i}`)
  const ids = requests.map((r) => r.reqId)
  t.equal(new Set(ids).size, ids.length, 'reqIds are unique')
})

t.test('bodies over maxBodyBytes get 413 and an END marked too-large', async (t) => {
  const { server, directory, base, port } = await startServer(t, { maxBodyBytes: 1000 })
  const declared = await request(base + '/declared', { method: 'POST', body: Buffer.alloc(5000, 1) }).catch((err: Error) => err)
  if (!(declared instanceof Error)) {
    t.equal(declared.statusCode, 413)
    t.match(await declared.body.text(), /larger than 1000 bytes/)
  }
  // Chunked, so the server only finds out while reading.
  const answer = await rawExchange(port, [
    'POST /streamed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
    '258\r\n' + 'a'.repeat(600) + '\r\n',
    '258\r\n' + 'b'.repeat(600) + '\r\n',
    '0\r\n\r\n',
  ])
  t.match(answer, /^HTTP\/1\.1 413 /)
  const ok = await request(base + '/fits', { method: 'POST', body: Buffer.alloc(1000, 2) })
  t.equal(ok.statusCode, 200, 'exactly maxBodyBytes is fine')
  await ok.body.dump()
  await server.close()
  const { requests } = await readLoggedRequests(directory)
  const byPath = new Map(requests.map((r) => [r.path, r]))
  t.equal(byPath.get('/declared')?.outcomeName, 'too-large')
  t.equal(byPath.get('/declared')?.body.length, 0, 'nothing of a declared-too-large body is read')
  t.equal(byPath.get('/streamed')?.outcomeName, 'too-large')
  t.ok(byPath.get('/streamed')!.body.length <= 1000, 'only the part within the limit was logged')
  t.equal(byPath.get('/fits')?.outcomeName, 'complete')
})

t.test('a request the client aborts is logged with what arrived, marked aborted', async (t) => {
  const { server, directory, port } = await startServer(t)
  await rawExchange(port, ['POST /gone HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n', '0123456789'], { end: false })
  // Let the server see the close.
  await new Promise((resolve) => setTimeout(resolve, 100))
  await server.close()
  const { requests } = await readLoggedRequests(directory)
  t.equal(requests.length, 1)
  t.equal(requests[0]!.outcomeName, 'aborted')
  t.equal(requests[0]!.body.toString(), '0123456789')
})

t.test('pixel, CORS and the configured status', async (t) => {
  const { server, directory, base } = await startServer(t, { responseStatus: 202 })
  const pixel = await request(base + '/i?e=open&u=42')
  t.equal(pixel.statusCode, 200)
  t.equal(pixel.headers['content-type'], 'image/gif')
  t.match(String(pixel.headers['cache-control']), /no-cache/)
  const gif = Buffer.from(await pixel.body.arrayBuffer())
  t.equal(gif.length, 43)
  t.equal(gif.subarray(0, 6).toString(), 'GIF89a')

  const preflight = await request(base + '/api/post-events', {
    method: 'OPTIONS',
    headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-token' },
  })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], 'https://shop.example')
  t.match(String(preflight.headers['access-control-allow-methods']), /POST/)
  t.equal(preflight.headers['access-control-allow-headers'], 'content-type, x-token')
  await preflight.body.dump()

  const post = await request(base + '/collect', { method: 'POST', headers: { origin: 'https://shop.example' }, body: 'x' })
  t.equal(post.statusCode, 202, 'configured status')
  t.equal(post.headers['access-control-allow-origin'], 'https://shop.example')
  await post.body.dump()
  await server.close()
  const { requests } = await readLoggedRequests(directory)
  t.same(requests.map((r) => `${r.method} ${r.path}`).sort(), ['GET /i?e=open&u=42', 'OPTIONS /api/post-events', 'POST /collect'], 'pixel and preflight are logged too')
})

t.test('remote IP: socket by default, X-Forwarded-For when trusted, truncated or dropped', async (t) => {
  const cases: Array<[LoggingServerOptions, string]> = [
    [{}, '127.0.0.1'],
    [{ trustProxy: true }, '203.0.113.9'],
    [{ trustProxy: 1 }, '198.51.100.4'],
    [{ ipMode: 'truncate' }, '127.0.0.0'],
    [{ trustProxy: true, ipMode: 'truncate' }, '203.0.113.0'],
    [{ ipMode: 'drop' }, ''],
  ]
  for (const [options, expected] of cases) {
    const { server, directory, base } = await startServer(t, options)
    const res = await request(base + '/ip', { headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.4' } })
    await res.body.dump()
    await server.close()
    const { requests } = await readLoggedRequests(directory)
    t.equal(requests[0]?.ip, expected, JSON.stringify(options))
  }
})

t.test('batches: sealed by time, numbered from 1, empty ones never written', async (t) => {
  const { server, directory, base } = await startServer(t, { batchSeconds: 0.2 })
  for (let round = 0; round < 3; round++) {
    const res = await request(`${base}/round/${round}`, { method: 'POST', body: `round ${round}` })
    await res.body.dump()
    await new Promise((resolve) => setTimeout(resolve, 400))
  }
  // Idle: no batch is sealed without events.
  await new Promise((resolve) => setTimeout(resolve, 500))
  await server.close()
  const { batches, requests } = await readLoggedRequests(directory)
  const numbers = batches.map((batch) => parseObjectKey(batch.key)!.batchNumber).sort((a, b) => a - b)
  t.same(numbers, [1, 2, 3], 'three batches, numbered 1, 2, 3')
  t.equal(requests.length, 3)
  for (const batch of batches) t.match(batch.key, /^v1\/\d{4}-\d{2}-\d{2}\/\d{2}-\d{2}-\d{2}-\d{3}-Z-[1-9A-HJ-NP-Za-km-z]{8}-[1-9A-HJ-NP-Za-km-z]{8}-[1-9]\d*-v1\.gz$/)
})

t.test('a request split across batches by the size limit is rejoined', async (t) => {
  const { server, directory, base } = await startServer(t, { maxBatchBytes: 4096 })
  const pieces = Array.from({ length: 8 }, (_, i) => Buffer.alloc(3000, 65 + i))
  const res = await request(base + '/split', { method: 'POST', body: Readable.from(pieces) })
  await res.body.dump()
  await server.close()
  const { batches, requests } = await readLoggedRequests(directory)
  t.ok(batches.length > 1, `the body spans ${batches.length} batches`)
  t.equal(requests.length, 1)
  t.ok(requests[0]!.body.equals(Buffer.concat(pieces)))
})

t.test('close() lets an in-flight request finish and logs it', async (t) => {
  const { server, directory, port } = await startServer(t)
  const slow = await sendHalf(port, 'POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n', '01234', '56789')
  await new Promise((resolve) => setTimeout(resolve, 50))
  const closed = server.close()
  await new Promise((resolve) => setTimeout(resolve, 50))
  slow.finish()
  await closed
  slow.destroy()
  const answer = slow.answer()
  t.match(answer, /^HTTP\/1\.1 200 /, 'the in-flight request was answered')
  const { requests } = await readLoggedRequests(directory)
  t.equal(requests[0]?.body.toString(), '0123456789')
  t.equal(requests[0]?.outcomeName, 'complete')
})

t.test('options are validated at construction', async (t) => {
  t.throws(() => new LoggingServer({ batchSeconds: 0 }), { code: 'LS_INVALID_OPTION', message: /batchSeconds/ })
  t.throws(() => new LoggingServer({ ipMode: 'some' as 'full' }), { code: 'LS_INVALID_OPTION', message: /ipMode/ })
  t.throws(() => new LoggingServer({ directory: 'a', s3: { bucket: 'b' } }), { code: 'LS_INVALID_OPTION' })
  t.throws(() => new LoggingServer({ pixelPath: 'i' }), { code: 'LS_INVALID_OPTION', message: /pixelPath/ })
  t.throws(() => new LoggingServer({ keyPrefix: 'a/../b' }), { code: 'LS_INVALID_OPTION', message: /prefix/ })
})

t.test('backpressure: bodies read only as fast as zlib takes them, byte-exact, across batch seals', async (t) => {
  // A 1-byte compression backlog makes every chunk pause its request until zlib catches up;
  // 64 KiB batches make batches seal while requests are paused.
  const { server, directory, base } = await startServer(t, { compressionBacklogBytes: 1, maxBatchBytes: 64 * 1024, maxBodyBytes: 4 * 1024 * 1024 })
  const bodies = Array.from({ length: 4 }, (_, n) => {
    const body = Buffer.alloc(2 * 1024 * 1024)
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761 + n) >>> 0, i)
    return body
  })
  const statuses = await Promise.all(
    bodies.map(async (body, n) => {
      const pieces = Array.from({ length: 32 }, (_, i) => body.subarray(i * 65536, (i + 1) * 65536))
      const res = await request(`${base}/big/${n}`, { method: 'POST', body: Readable.from(pieces) })
      await res.body.dump()
      return res.statusCode
    }),
  )
  t.same(statuses, [200, 200, 200, 200], 'every request answered')
  await server.close()
  const { requests, batches } = await readLoggedRequests(directory)
  t.ok(batches.length > 10, `${batches.length} batches sealed while bodies were arriving`)
  for (const [n, body] of bodies.entries()) t.ok(requests.find((r) => r.path === `/big/${n}`)?.body.equals(body), `body ${n} byte-exact`)
})

t.test('bodyEncoding bin: bodies stored as msgpack bin, byte-exact through the reader, with ack=spool', async (t) => {
  const spoolDirectory = tempDir(t)
  const { server, directory, base } = await startServer(t, { bodyEncoding: 'bin', ack: 'spool', spoolDirectory })
  const marker = Buffer.from('MARKER-raw-bytes-\u00ff-end')
  // Sizes around the 64 KiB staging buffer, one larger than it, and many small ones in between.
  const bodies = [Buffer.concat([marker, Buffer.alloc(10, 1)]), Buffer.alloc(65_000, 2), Buffer.alloc(70_000, 3), ...Array.from({ length: 50 }, (_, i) => Buffer.from(`small ${i}`))]
  for (const [i, body] of bodies.entries()) {
    const res = await request(`${base}/bin/${i}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body })
    t.equal(res.statusCode, 200)
    await res.body.dump()
  }
  await server.close()
  const { requests, incomplete, batches } = await readLoggedRequests(directory)
  t.same(incomplete, [])
  const byPath = new Map(requests.map((r) => [r.path, r]))
  for (const [i, body] of bodies.entries()) t.ok(byPath.get(`/bin/${i}`)?.body.equals(body), `body ${i} byte-exact (${body.length} bytes)`)
  const raw = Buffer.concat(batches.map((batch) => gunzipSync(batch.body)))
  t.ok(raw.includes(marker), 'the body bytes are in the batch as they are')
  t.notOk(raw.includes(Buffer.from(marker.toString('base64').slice(0, 16))), 'not as base64')
})

t.test('bodyEncoding is validated', async (t) => {
  t.throws(() => new LoggingServer({ directory: tempDir(t), bodyEncoding: 'hex' as 'bin' }), { code: 'LS_INVALID_OPTION' })
})
