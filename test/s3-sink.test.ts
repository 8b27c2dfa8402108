// The S3 path end to end against a real S3-protocol server (s3rver on loopback).
import t from 'tap'
import { HeadObjectCommand } from '@aws-sdk/client-s3'
import { request } from 'undici'
import { createS3Client, LoggingServer, parseObjectKey, S3Sink, type UploadReport } from '../src/index.js'
import { decodeBatches } from './helpers/batches.js'
import { startS3rver } from './helpers/s3rver.js'

t.test('LoggingServer stores batches in S3 under the key grammar; an S3 client reads them back', async (t) => {
  const s3 = await startS3rver()
  t.teardown(() => s3.close())
  const server = new LoggingServer({ s3: s3.location, keyPrefix: 'prod/web', batchSeconds: 0.3 })
  const { port } = await server.listen(0, '127.0.0.1')
  const bodies = Array.from({ length: 20 }, (_, i) => Buffer.from(`event ${i} ` + '✓'.repeat(i)))
  for (const [i, body] of bodies.entries()) {
    const res = await request(`http://127.0.0.1:${port}/api/post-events?bucket=b&n=${i}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    await res.body.dump()
    if (i === 9) await new Promise((resolve) => setTimeout(resolve, 500))
  }
  await server.close()
  const keys = await s3.keys()
  t.ok(keys.length >= 2, `${keys.length} objects`)
  for (const key of keys) {
    const parts = parseObjectKey(key)
    t.ok(parts, `${key} matches the grammar`)
    t.equal(parts!.prefix, 'prod/web')
    t.equal(parts!.serverToken, server.serverToken)
    // formats/batch-v1.md §1: application/gzip and no Content-Encoding, so clients hand over the stored bytes.
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }))
    t.equal(head.ContentType, 'application/gzip', `${key}: Content-Type`)
    t.equal(head.ContentEncoding, undefined, `${key}: no Content-Encoding`)
    t.same([...(await s3.get(key)).subarray(0, 2)], [0x1f, 0x8b], `${key}: the body is the gzip stream itself`)
  }
  const batches = await Promise.all(keys.map(async (key) => ({ key, body: await s3.get(key) })))
  const { requests } = decodeBatches(batches)
  t.equal(requests.length, bodies.length)
  for (const [i, body] of bodies.entries()) {
    const logged = requests.find((r) => r.path.endsWith(`&n=${i}`))
    t.ok(logged?.body.equals(body), `request ${i} byte-exact from S3`)
  }
})

t.test('an S3 outage: the batch is retried, not dropped, and lands when S3 is back', async (t) => {
  const s3 = await startS3rver()
  t.teardown(() => s3.close())
  await s3.stop()
  // S3 is down from the start: skip the start-up check, which would (rightly) refuse to start.
  const server = new LoggingServer({ sink: new S3Sink(s3.location), checkSinkAtStart: false, batchSeconds: 0.1, retryPolicy: { initialDelayMs: 50, maxDelayMs: 200, multiplier: 2 } })
  const failures: number[] = []
  server.on('batchFailed', ({ attempt }) => failures.push(attempt))
  const stored = new Promise<UploadReport>((resolve) => server.once('batchStored', resolve))
  const { port } = await server.listen(0, '127.0.0.1')
  const res = await request(`http://127.0.0.1:${port}/during-outage`, { method: 'POST', body: 'keep me' })
  t.equal(res.statusCode, 200, 'capture does not wait for the sink')
  await res.body.dump()
  while (failures.length < 3) await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(server.backlogBytes > 0, 'the batch waits in the backlog')
  await s3.start()
  const report = await stored
  t.ok(report.attempts > 3, `stored after ${report.attempts} attempts`)
  t.equal(server.backlogBytes, 0)
  await server.close()
  const keys = await s3.keys()
  t.equal(keys.length, 1)
  const { requests } = decodeBatches([{ key: keys[0]!, body: await s3.get(keys[0]!) }])
  t.equal(requests[0]?.body.toString(), 'keep me')
})

t.test('AWS_ENDPOINT_URL_S3 points the sink at an S3-compatible store, path-style', async (t) => {
  const s3 = await startS3rver('env-bucket')
  t.teardown(() => s3.close())
  const location = { bucket: 'env-bucket', credentials: s3.location.credentials }
  const client = createS3Client(location, { AWS_ENDPOINT_URL_S3: s3.endpoint })
  t.equal(client.config.forcePathStyle, true, 'path-style with a custom endpoint')
  t.equal(await client.config.region(), 'us-east-1', 'a region is chosen for a custom endpoint')
  const sink = new S3Sink(location, client)
  await sink.put('v1/env/object.gz', Buffer.from('via env'))
  t.equal((await s3.get('v1/env/object.gz')).toString(), 'via env')
  await sink.close()
  t.throws(() => createS3Client({ bucket: 'b', endpoint: 'not a url' }, {}), { code: 'LS_INVALID_OPTION', message: /not a URL/ })
})
