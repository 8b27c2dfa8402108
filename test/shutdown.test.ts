// close(): nothing accepted is lost, even when the sink is down past the deadline.
import t from 'tap'
import { request } from 'undici'
import { LoggingServer, type Sink } from '../src/index.js'
import { readLoggedRequests } from './helpers/batches.js'
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
