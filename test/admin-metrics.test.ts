// The admin port: health, readiness and Prometheus metrics that move with the traffic.
import t from 'tap'
import { request } from 'undici'
import { createAdminServer, LoggingServer, type Sink } from '../src/index.js'
import { readBatchDirectory, readLoggedRequests } from './helpers/batches.js'
import { tempDir } from './helpers/temp.js'
import { DirectorySink } from '../src/sinks/directory-sink.js'

/** A directory sink that can be switched off, as an unreachable store would be. */
class SwitchableSink implements Sink {
  readonly description = 'switchable'
  down = false
  constructor(private readonly inner: DirectorySink) {}
  async put(key: string, body: Uint8Array): Promise<void> {
    if (this.down) throw new Error('connect ECONNREFUSED')
    await this.inner.put(key, body)
  }
}

function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)))
  if (!line) throw new Error(`no metric ${name}${labels} in:\n${text}`)
  return Number(line.split(' ').pop())
}

t.test('healthz, readyz and metrics follow the server', async (t) => {
  const directory = tempDir(t)
  const sink = new SwitchableSink(new DirectorySink(directory))
  const logging = new LoggingServer({ sink, batchSeconds: 0.05, maxBodyBytes: 100, retryPolicy: { initialDelayMs: 10, maxDelayMs: 50 } })
  const { port } = await logging.listen(0, '127.0.0.1')
  const admin = createAdminServer(logging)
  const adminAddress = await admin.listen(0, '127.0.0.1')
  t.teardown(async () => {
    await admin.close()
    await logging.close().catch(() => {})
  })
  const adminUrl = `http://127.0.0.1:${adminAddress.port}`
  const get = async (path: string) => {
    const res = await request(adminUrl + path)
    return { status: res.statusCode, text: await res.body.text(), type: res.headers['content-type'] }
  }

  t.equal((await get('/healthz')).status, 200)
  t.equal((await get('/readyz')).status, 200)
  const before = await get('/metrics')
  t.match(String(before.type), /text\/plain/)
  t.equal(metricValue(before.text, 'logging_requests_total', '{outcome="complete"}'), 0)

  for (let i = 0; i < 5; i++) {
    const res = await request(`http://127.0.0.1:${port}/m/${i}`, { method: 'POST', body: 'twelve bytes' })
    await res.body.dump()
  }
  const tooLarge = await request(`http://127.0.0.1:${port}/big`, { method: 'POST', body: 'x'.repeat(500) })
  await tooLarge.body.dump()
  await logging.flush()
  const after = (await get('/metrics')).text
  t.equal(metricValue(after, 'logging_requests_total', '{outcome="complete"}'), 5)
  t.equal(metricValue(after, 'logging_requests_total', '{outcome="too-large"}'), 1)
  t.equal(metricValue(after, 'logging_rejected_total', '{status="413"}'), 1)
  t.equal(metricValue(after, 'logging_request_body_bytes_total'), 60)
  t.ok(metricValue(after, 'logging_batches_stored_total') >= 1)
  // Every compressed byte stored is counted: the sum of the batch files' sizes.
  const storedBytes = (await readBatchDirectory(directory)).reduce((sum, batch) => sum + batch.body.byteLength, 0)
  t.ok(storedBytes > 0)
  t.equal(metricValue(after, 'logging_batch_bytes_stored_total'), storedBytes, 'bytes stored = the bytes of the stored files')
  t.ok(metricValue(after, 'logging_batch_upload_seconds_count') >= 1)
  t.equal(metricValue(after, 'logging_backlog_bytes'), 0)

  sink.down = true
  const during = await request(`http://127.0.0.1:${port}/during`, { method: 'POST', body: 'x' })
  await during.body.dump()
  while (!logging.status().sinkFailing) await new Promise((resolve) => setTimeout(resolve, 20))
  const notReady = await get('/readyz')
  t.equal(notReady.status, 503, 'not ready while the sink fails')
  t.match(notReady.text, /sink is failing/)
  const failing = (await get('/metrics')).text
  t.ok(metricValue(failing, 'logging_batch_store_failures_total') >= 1)
  t.ok(metricValue(failing, 'logging_backlog_bytes') > 0)
  const age = metricValue(failing, 'logging_oldest_unsent_batch_age_seconds')
  t.ok(age > 0, `the oldest unsent batch has an age (${age} s)`)
  await new Promise((resolve) => setTimeout(resolve, 150))
  const older = metricValue((await get('/metrics')).text, 'logging_oldest_unsent_batch_age_seconds')
  t.ok(older >= age + 0.1, `and it grows while the sink is down (${age} s, then ${older} s)`)
  t.equal(metricValue(failing, 'logging_sink_failing'), 1)

  sink.down = false
  await logging.flush()
  t.equal((await get('/readyz')).status, 200, 'ready again once the sink works')
  t.equal((await get('/nope')).status, 404)
  await logging.close()
  const { requests } = await readLoggedRequests(directory)
  t.notOk(requests.some((r) => /healthz|readyz|metrics/.test(r.path)), 'admin requests are not logged as traffic')
  t.equal(requests.length, 7)
})
