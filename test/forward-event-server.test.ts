// Forwarding to this project's own EventServer through its Segment endpoint
// (POST /v1/batch with a write key): the receiving store ends with exactly the
// stored events, each once — the messageId is the receiving key, so sending
// everything a second time (a forwarder that lost its checkpoint) adds nothing.
import t from 'tap'
import { join } from 'node:path'
import { encodeKey } from '../src/formats/keyjson.js'
import { Forwarder } from '../src/forward/forwarder.js'
import { WriteKeys } from '../src/ingest/write-keys.js'
import { eventDedupId } from '../src/model/event-json.js'
import type { EventRecord } from '../src/model/event-record.js'
import { EventServer } from '../src/servers/event-server.js'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { openTestStore } from './helpers/duckdb-events.js'
import { sampleEvents } from './helpers/export-samples.js'
import { tempDir } from './helpers/temp.js'

t.test('segment destination → our EventServer: exactly the stored events, deduplicated by key', async (t) => {
  const source = await openTestStore(t)
  const events = sampleEvents(30)
  await source.write({ events })

  const receiving = new DuckDbEventStore({ path: join(tempDir(t), 'events.duckdb'), threads: 1 })
  await receiving.open()
  const server = new EventServer({ store: receiving })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  const writeKey = (await new WriteKeys(receiving).create({ name: 'forwarded', bucket: 'copy' })).key

  const forward = (name: string) => new Forwarder({ name, store: source, kind: 'segment', url: `${url}/v1/batch`, writeKey, batchSize: 8, settleMs: 0, requestsPerSecond: 1000 })
  const first = forward('own')
  t.equal(await first.drain(), 30)
  t.same(first.stats, { read: 30, delivered: 30, deadLettered: 0, requests: 4, retries: 0 })
  // Everything again, as a forwarder without its checkpoint would.
  const again = forward('own-again')
  t.equal(await again.drain(), 30)
  t.equal(again.stats.delivered, 30, 'the EventServer took the repeats (2xx) ...')
  t.same(await receiving.buckets(), [{ bucket: 'copy', count: 30 }], '... and kept each event once')

  const received = new Map<string, EventRecord>()
  for await (const event of receiving.read({ bucket: 'copy' })) received.set(Buffer.from(event.key).toString('hex'), event)
  for (const event of events) {
    const copy = received.get(Buffer.from(encodeKey(eventDedupId(event))).toString('hex'))
    if (!copy) {
      t.fail(`missing ${eventDedupId(event)}`)
      continue
    }
    t.equal(copy.value, event.value, `${eventDedupId(event)}: the exact value text`)
    t.equal(copy.type, String(event.type))
    t.equal(copy.clientTime, event.clientTime, 'the client time, not corrected twice')
    t.equal(copy.userId, event.userId || null)
    t.equal(copy.anonymousId, event.anonymousId || (event.userId ? null : eventDedupId(event)))
    t.equal(copy.source, 'segment')
  }
})
