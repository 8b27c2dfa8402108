// `logging-system replay` end to end: a LoggingServer logs real event posts
// (JSON and eventbuf-v2) into a directory or s3rver; replay --post sends them
// to a DevServer, which must then hold exactly the events sent.
import t from 'tap'
import { execFile } from 'node:child_process'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import { randomBytes } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { main } from '../src/cli/main.js'
import { REPLAY_EXIT } from '../src/cli/replay.js'
import { DevServer, LoggingServer, RequestSender, type LogEvent, type LoggedRequest, type SendResult } from '../src/index.js'
import { readLoggedRequests } from './helpers/batches.js'
import { captureIo } from './helpers/cli-io.js'
import { byKey, devServerEvents, jsonBody, makeEvents, postEvents, rawEvents, writeBatch } from './helpers/replay.js'
import { startS3rver, S3RVER_CREDENTIALS } from './helpers/s3rver.js'
import { tempDir } from './helpers/temp.js'

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0)

async function devServer(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const server = new DevServer()
  const url = await server.listen(0)
  t.teardown(() => server.close())
  return url
}

/** A LoggingServer into `options`, fed JSON and eventbuf-v2 posts, a pixel and a 413; closed when done. */
async function logTraffic(options: ConstructorParameters<typeof LoggingServer>[0]): Promise<LogEvent[]> {
  // Small batches: many requests are split across two of them.
  const server = new LoggingServer({ batchSeconds: 60, maxBatchBytes: 400, maxBodyBytes: 64 * 1024, ...options })
  const { port } = await server.listen(0, '127.0.0.1')
  const base = `http://127.0.0.1:${port}`
  const json = makeEvents('json', 20)
  const eventbuf = makeEvents('eventbuf', 20)
  await postEvents(base, 'shop', json, 'json', 3)
  await postEvents(base, 'shop', eventbuf, 'eventbuf-v2', 4)
  await (await fetch(`${base}/i?e=pageview`)).arrayBuffer()
  const tooLarge = await fetch(`${base}/api/post-events?bucket=shop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(70 * 1024, 0x20) }).catch(() => undefined)
  await tooLarge?.arrayBuffer().catch(() => undefined)
  await server.close()
  return [...json, ...eventbuf]
}

t.test('directory: replay --post puts exactly the events sent into a DevServer', async (t) => {
  const dir = tempDir(t)
  const sent = await logTraffic({ directory: dir })
  const url = await devServer(t)
  const io = captureIo()
  const code = await main(['replay', '--dir', dir, '--post', url, '--path-prefix', '/api/post-events', '--concurrency', '4'], io)
  t.equal(code, 0, io.err())
  t.same(await devServerEvents(url, 'shop'), byKey(sent), 'exactly the events sent')
  t.equal(io.out(), '', 'no NDJSON with --post unless asked')
  t.match(io.err(), /replay: \d+ batches, 12 requests, 0 events, 0 skipped \(0 batches, 0 requests\), 0 failed/)
  t.match(io.err(), /not complete \(never replayed\): too-large 1/)
  t.match(io.err(), /post: 12 sent, 0 rejected \(4xx\), 0 failed/)
  t.notMatch(io.err(), /\r|\x1b\[/, 'no progress bar when stderr is not a terminal')
})

t.test('S3 (s3rver): the bin replays a bucket + prefix into a DevServer', async (t) => {
  const s3 = await startS3rver()
  t.teardown(() => s3.close())
  const sent = await logTraffic({ s3: s3.location, keyPrefix: 'prod/web' })
  t.ok((await s3.keys()).length > 2, 'several batches in the bucket')
  const url = await devServer(t)
  const env = { ...process.env, AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' }
  const args = [BIN, 'replay', '--s3-bucket', s3.bucket, '--s3-prefix', 'prod/web', '--s3-endpoint', s3.endpoint, '--post', url, '--path-prefix', '/api/post-events']
  const { stderr } = await promisify(execFile)(process.execPath, args, { env })
  t.same(await devServerEvents(url, 'shop'), byKey(sent), 'exactly the events sent')
  t.match(stderr, /12 requests, 0 events, 0 skipped \(0 batches, 0 requests\), 0 failed/)
  // The same with a time range around now, and with explicit keys.
  const now = Math.floor(Date.now() / 1000)
  const ranged = await promisify(execFile)(process.execPath, [...args, '--from', String(now - 600), '--to', String(now + 600)], { env })
  t.match(ranged.stderr, /12 requests/)
  const keys = await s3.keys('prod/')

  const explicit = await promisify(execFile)(process.execPath, [BIN, 'replay', '--s3-bucket', s3.bucket, '--s3-endpoint', s3.endpoint, '--output', 'requests', ...keys], { env })
  t.equal(explicit.stdout.trim().split('\n').length, 13, 'explicit keys: 12 posts and the pixel (not the 413)')
})

t.test('a corrupt and a truncated batch are named and skipped; the rest is replayed; exit 3', async (t) => {
  const dir = tempDir(t)
  const sent = await logTraffic({ directory: dir })
  const kept = makeEvents('kept', 2)
  const corrupt = writeBatch(dir, { serverToken: 'BadSrv11', batchNumber: 1, startTime: T0 }, Buffer.concat([rawEvents([{ reqId: 1, time: T0, body: jsonBody(kept), path: '/api/post-events?bucket=shop' }]), Buffer.from([0xc1])]))
  const full = gzipSync(rawEvents([{ reqId: 1, time: T0, body: randomBytes(20_000) }]))
  const truncated = writeBatch(dir, { serverToken: 'CutSrv11', batchNumber: 1, startTime: T0 }, full.subarray(0, full.length >> 1), false)
  const url = await devServer(t)
  const io = captureIo()
  const code = await main(['replay', '--dir', dir, '--post', url, '--path-prefix', '/api/post-events'], io)
  t.equal(code, 3, 'exit 3: something skipped')
  t.same(await devServerEvents(url, 'shop'), byKey([...sent, ...kept]), 'every good request, and the one before the damage')
  t.match(io.err(), new RegExp(`damaged batch ${corrupt} at byte \\d+: length prefix is not a msgpack unsigned integer`))
  t.match(io.err(), new RegExp(`damaged batch ${truncated} at byte \\d+: (gzip stream is truncated|truncated)`))
  t.match(io.err(), /2 damaged/)
  t.match(io.err(), /15 batches, 13 requests, 0 events, 2 skipped \(2 batches, 0 requests\), 0 failed/)
})

t.test('--output requests and --output events: NDJSON, one JSON object per line', async (t) => {
  const dir = tempDir(t)
  const sent = await logTraffic({ directory: dir })
  const { requests } = await readLoggedRequests(dir)
  const complete = requests.filter((r: LoggedRequest) => r.outcomeName === 'complete')

  const io = captureIo()
  t.equal(await main(['replay', '--dir', dir], io), 0, io.err())
  const lines = io.out().split('\n')
  t.equal(lines.pop(), '', 'ends with a newline')
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  t.equal(parsed.length, complete.length)
  for (const request of complete) {
    const line = parsed.find((p) => p.reqId === request.reqId)
    t.same(line, {
      serverToken: request.serverToken,
      reqId: request.reqId,
      time: request.time,
      ip: request.ip,
      method: request.method,
      path: request.path,
      contentType: request.contentType,
      headers: request.headers,
      body: request.body.toString('base64'),
    })
  }

  const events = captureIo()
  t.equal(await main(['replay', '--dir', dir, '--output', 'events'], events), 0, events.err())
  const decoded = events.out().trim().split('\n').map((line) => JSON.parse(line) as LogEvent & { bucket: string; serverTime: number })
  t.same(byKey(decoded.map(({ key, type, value, clientTime }) => ({ key, type, value, clientTime }))), byKey(sent))
  t.ok(decoded.every((e) => e.bucket === 'shop' && typeof e.serverTime === 'number'))
  t.match(events.err(), /events: 40 from requests, 0 undecodable requests, 1 requests without a decoder/)
})

t.test('--output events prints values as the exact text logged, and a too-deep value is skipped as undecodable, not a crash', async (t) => {
  const dir = tempDir(t)
  const exact = '{"b": 1.0, "a": 12345678901234567890, "b": [ ]}'
  const deep = '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}'
  const body = (key: string, value: string): Buffer => Buffer.from(`{"key":${JSON.stringify(key)},"type":"t","value":${value},"clientTime":1}`)
  writeBatch(dir, { serverToken: 'DeepSrv1', batchNumber: 1, startTime: T0 }, rawEvents([
    { reqId: 1, time: T0, body: body('exact', exact) },
    { reqId: 2, time: T0 + 1, body: body('deep', deep) },
    { reqId: 3, time: T0 + 2, body: Buffer.from(`{"events":[{"key":["user-17",5],"type":"t","value":{},"clientTime":2}]}`) },
  ]))
  const io = captureIo()
  t.equal(await main(['replay', '--dir', dir, '--output', 'events'], io), REPLAY_EXIT.skipped, io.err())
  t.equal(
    io.out(),
    `{"bucket":"b","key":"exact","type":"t","value":${exact},"clientTime":1,"serverTime":${T0},"serverToken":"DeepSrv1","reqId":1}\n` +
      `{"bucket":"b","key":["user-17",5],"type":"t","value":{},"clientTime":2,"serverTime":${T0 + 2},"serverToken":"DeepSrv1","reqId":3}\n`,
  )
  t.match(io.err(), /skipped DeepSrv1:2 .*post-events\/json: .*rule value-depth/)
  t.notMatch(io.err(), /call stack/)
})

t.test('--post: 5xx and network errors are retried, 4xx is counted and not retried; exit 1', async (t) => {
  const dir = tempDir(t)
  writeBatch(dir, { serverToken: 'PostSrv1', batchNumber: 1, startTime: T0 }, rawEvents([
    { reqId: 1, time: T0, path: '/flaky?x=1', body: Buffer.from('flaky'), contentType: 'text/plain' },
    { reqId: 2, time: T0, path: '/refuse', body: Buffer.from('no') },
    { reqId: 3, time: T0, path: '/ok', body: Buffer.from('fine') },
  ]))
  const seen: Array<{ url: string; method: string; type: string | undefined; from: string | undefined; body: string }> = []
  let flaky = 0
  const target = createServer(async (req: IncomingMessage, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    seen.push({ url: req.url!, method: req.method!, type: req.headers['content-type'], from: req.headers['x-replayed-from'] as string | undefined, body })
    if (req.url === '/base/flaky?x=1' && flaky++ < 2) res.statusCode = 503
    if (req.url === '/base/refuse') res.statusCode = 400
    res.end()
  })
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  t.teardown(() => target.close())
  const io = captureIo()
  const code = await main(['replay', '--dir', dir, '--post', `http://127.0.0.1:${(target.address() as AddressInfo).port}/base/`], io)
  t.equal(code, 1, 'exit 1: something was not taken')
  t.equal(seen.filter((s) => s.url === '/base/flaky?x=1').length, 3, '503 twice, then taken')
  t.equal(seen.filter((s) => s.url === '/base/refuse').length, 1, '400 is not retried')
  t.same(seen.find((s) => s.url === '/base/flaky?x=1'), { url: '/base/flaky?x=1', method: 'POST', type: 'text/plain', from: 'PostSrv1:1', body: 'flaky' }, 'method, path with query, content type, body, X-Replayed-From')
  t.match(io.err(), /could not replay PostSrv1:2: POST \/refuse answered 400/)
  t.match(io.err(), /post: 2 sent, 1 rejected \(4xx\), 0 failed, 2 retries/)

  // A target that is down: network errors are retried up to maxAttempts, then counted as failed.
  await new Promise<void>((resolve) => target.close(() => resolve()))
  const results: SendResult[] = []
  const sender = new RequestSender({ target: `http://127.0.0.1:${(target.address() as AddressInfo | null)?.port ?? 1}`, maxAttempts: 3, retryPolicy: { initialDelayMs: 1, maxDelayMs: 5, multiplier: 2 }, onResult: (r) => results.push(r) })
  await sender.send({ serverToken: 'PostSrv1', reqId: 9, time: T0, ip: '', method: 'POST', path: '/x', contentType: '', headers: {}, outcome: 0, outcomeName: 'complete', body: Buffer.from('x') })
  await sender.close()
  t.equal(sender.stats.failed, 1)
  t.equal(results[0]?.attempts, 3)
  t.equal(results[0]?.error?.code, 'LS_REPLAY_SEND')
})

t.test('usage errors exit 2', async (t) => {
  for (const args of [[], ['--dir', 'a', '--s3-bucket', 'b'], ['--dir', 'a', 'file'], ['--dir', 'a', '--from', 'soon'], ['--dir', 'a', '--output', 'xml'], ['--dir', 'a', '--post', 'ftp://x'], ['--dir', 'a', '--from', '2026-01-02T00:00:00Z', '--to', '2026-01-01T00:00:00Z']]) {
    const io = captureIo()
    t.equal(await main(['replay', ...args], io), 2, `replay ${args.join(' ')}: ${io.err().split('\n')[0]}`)
  }
  const help = captureIo()
  t.equal(await main(['replay', '--help'], help), 0)
  t.match(help.out(), /--post <value>.*LOGGING_SYSTEM_REPLAY_POST/)
  t.match(help.out(), /--concurrency <integer>.*default: 16/)
})

t.test('examples/replay-to-events.js reads the events back with the programmatic API', async (t) => {
  const dir = tempDir(t)
  const sent = await logTraffic({ directory: dir })
  const { stdout } = await promisify(execFile)(process.execPath, [new URL('../examples/replay-to-events.js', import.meta.url).pathname], { env: { ...process.env, BATCH_DIR: dir } })
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
  const last = lines.pop() as { perBucket: Record<string, number>; report: { requests: number; events: number } }
  t.same(last.perBucket, { shop: sent.length })
  t.equal(last.report.events, sent.length)
  t.same(lines.map((line) => line.key).sort(), sent.map((e) => e.key).sort())
})

t.test('a progress line on stderr when it is a terminal', async (t) => {
  const dir = tempDir(t)
  await logTraffic({ directory: dir })
  const io = captureIo()
  ;(io.stderr as unknown as { isTTY: boolean }).isTTY = true
  t.equal(await main(['replay', '--dir', dir, '--output', 'none'], io), 0, io.err())
  t.match(io.err(), /\r\x1b\[Kbatch 1\/\d+ · \d+ requests · 0 events/)
  t.match(io.err(), /\r\x1b\[Kreplay: \d+ batches/, 'the bar is cleared before the summary')
})
