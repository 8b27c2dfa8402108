// close(): nothing accepted is lost, even when the sink is down past the deadline.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { LoggingServer, type Sink } from '../src/index.js'
import { readLoggedRequests } from './helpers/batches.js'
import { sendHalf } from './helpers/half-sent.js'
import { tempDir } from './helpers/temp.js'

/** A sink whose store is unreachable: every put fails, as a down S3 endpoint would. */
class UnreachableSink implements Sink {
  readonly description = 'unreachable'
  attempts = 0
  async put(): Promise<void> {
    this.attempts++
    throw new Error('connect ECONNREFUSED 127.0.0.1:1')
  }
}

t.test('batches the sink never took are written to the unsent directory and reported', async (t) => {
  const unsentDirectory = tempDir(t)
  const sink = new UnreachableSink()
  const server = new LoggingServer({ sink, unsentDirectory, closeTimeoutMs: 500, retryPolicy: { initialDelayMs: 20, maxDelayMs: 50, multiplier: 2 } })
  const { port } = await server.listen(0, '127.0.0.1')
  for (let i = 0; i < 5; i++) {
    const res = await request(`http://127.0.0.1:${port}/r/${i}`, { method: 'POST', body: `payload ${i}` })
    await res.body.dump()
  }
  await t.rejects(server.close(), { code: 'LS_UNSENT_BATCHES', message: /1 batch\(es\) not stored in unreachable.*1 saved under/ })
  t.ok(sink.attempts > 1, `retried ${sink.attempts} times before giving up`)
  const { requests } = await readLoggedRequests(unsentDirectory)
  t.same(requests.map((r) => r.body.toString()).sort(), [0, 1, 2, 3, 4].map((i) => `payload ${i}`))
})

t.test('batches recovered from the unsent directory stay there when the sink is still down at close', async (t) => {
  const unsentDirectory = tempDir(t)
  const first = new LoggingServer({ sink: new UnreachableSink(), unsentDirectory, closeTimeoutMs: 300, retryPolicy: { initialDelayMs: 20, maxDelayMs: 50 } })
  const { port } = await first.listen(0, '127.0.0.1')
  const res = await request(`http://127.0.0.1:${port}/kept`, { method: 'POST', body: 'kept across two failed shutdowns' })
  await res.body.dump()
  await t.rejects(first.close(), { code: 'LS_UNSENT_BATCHES' })

  const second = new LoggingServer({ sink: new UnreachableSink(), unsentDirectory, closeTimeoutMs: 300, retryPolicy: { initialDelayMs: 20, maxDelayMs: 50 } })
  await second.recovered
  await t.rejects(second.close(), { code: 'LS_UNSENT_BATCHES', message: new RegExp(`1 left in ${unsentDirectory.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) })
  const { requests } = await readLoggedRequests(unsentDirectory)
  t.same(requests.map((r) => r.body.toString()), ['kept across two failed shutdowns'], 'still there, once')
})

t.test('embedded: a request whose body is still arriving when close() starts is logged whole', async (t) => {
  const directory = tempDir(t)
  const logger = new LoggingServer({ directory })
  const app = createServer((req, res) => {
    logger.observe(req)
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => res.end(`app got ${Buffer.concat(chunks).length} bytes`))
  })
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve))
  t.teardown(() => app.close())
  const { port } = app.address() as AddressInfo
  const late = await sendHalf(port, 'POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n', '01234', '56789')
  await new Promise((resolve) => setTimeout(resolve, 50))
  const closed = logger.close()
  await new Promise((resolve) => setTimeout(resolve, 50))
  late.finish()
  await closed
  await late.closed
  const answer = late.answer()
  t.match(answer, /app got 10 bytes/)
  const { requests } = await readLoggedRequests(directory)
  t.equal(requests.length, 1)
  t.equal(requests[0]?.body.toString(), '0123456789')
  t.equal(requests[0]?.outcomeName, 'complete')
})
