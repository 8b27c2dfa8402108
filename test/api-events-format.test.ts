import t from 'tap'
import { readFileSync } from 'node:fs'
import { EventValidationError } from '../src/errors.js'
import { join } from 'node:path'
import { apiEventsRequestDecoder, decodeApiEvent, encodeApiEventBody, type ApiEventContext } from '../src/decoders/api-events.js'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { tempDir } from './helpers/temp.js'
import { decodeKey } from '../src/formats/keyjson.js'

interface Vectors {
  valid: { name: string; body: string; context: ApiEventContext; event: { bucket: string; keyHex: string; keyJson: unknown; type: string; value: string; clientTime: number; serverTime: number; userId: string | null } }[]
  invalid: { name: string; body?: string; bodyHex?: string; rule: string; field: string }[]
}
const vectors = JSON.parse(readFileSync(new URL('../formats/vectors/api-events/vectors.json', import.meta.url), 'utf8')) as Vectors

t.test('valid bodies decode to the expected EventRecord, and encode back', async (t) => {
  for (const vector of vectors.valid) {
    const record = decodeApiEvent(Buffer.from(vector.body, 'utf8'), vector.context)
    const expected = vector.event
    t.equal(Buffer.from(record.key).toString('hex'), expected.keyHex.replace(/ /g, ''), `${vector.name}: key bytes`)
    t.same(decodeKey(record.key), expected.keyJson, `${vector.name}: key`)
    t.same(
      { bucket: record.bucket, type: record.type, value: record.value, clientTime: record.clientTime, serverTime: record.serverTime, userId: record.userId, source: record.source },
      { bucket: expected.bucket, type: expected.type, value: expected.value, clientTime: expected.clientTime, serverTime: expected.serverTime, userId: expected.userId, source: 'api-events' },
      vector.name,
    )
    // The other direction: the body gen would send for this event decodes to the same record.
    const again = decodeApiEvent(Buffer.from(encodeApiEventBody(record.type as string, record.clientTime / 1000, record.value)), vector.context)
    t.same(again, record, `${vector.name}: encode then decode`)
    t.same(decodeApiEvent(Buffer.from(vector.body, 'utf8'), vector.context).key, record.key, `${vector.name}: the same request gives the same key`)
  }
})

t.test('invalid bodies are refused with the rule and the field', async (t) => {
  const context: ApiEventContext = { bucket: 'b', serverTime: 1, serverToken: 't', reqId: 0 }
  for (const vector of vectors.invalid) {
    const body = vector.bodyHex !== undefined ? Buffer.from(vector.bodyHex, 'hex') : Buffer.from(vector.body!, 'utf8')
    let caught: unknown
    try {
      decodeApiEvent(body, context)
    } catch (err) {
      caught = err
    }
    t.ok(caught instanceof EventValidationError, `${vector.name}: EventValidationError`)
    t.equal((caught as EventValidationError).rule, vector.rule, `${vector.name}: rule`)
    t.match((caught as EventValidationError).reason, new RegExp(`^${vector.field}: `), `${vector.name}: field first in the reason`)
  }
})

t.test('a body over the limit is refused before it is read', async (t) => {
  t.throws(() => decodeApiEvent(Buffer.from(encodeApiEventBody('x', 1, JSON.stringify({ pad: 'x'.repeat(100) }))), { bucket: 'b', serverTime: 1, serverToken: 't', reqId: 0 }, 64), { code: 'LS_BAD_REQUEST', statusCode: 413 })
})

t.test('a logged POST /api/events read twice is stored once', async (t) => {
  const store = new DuckDbEventStore({ path: join(tempDir(t), 'events.duckdb'), threads: 1 })
  await store.open()
  t.teardown(() => store.close())
  const logged = { method: 'POST', headers: {}, contentType: 'application/json', path: '/api/events?bucket=shop', body: Buffer.from('{"event_type":"view","ts":1456693332,"params":{"user":"u1"}}'), time: 1456693400000, ip: '10.0.0.7', serverToken: 'logger-a', reqId: 41 }
  const url = new URL(logged.path, 'http://logged.invalid')
  const first = await store.write({ events: apiEventsRequestDecoder.decode(logged, url) })
  const again = await store.write({ events: apiEventsRequestDecoder.decode(logged, url) })
  t.same([first.stored, again.stored, again.duplicates], [1, 0, 1])
  const [event] = apiEventsRequestDecoder.decode(logged, url)
  t.same(decodeKey(event!.key), ['api-events', 'logger-a', 41, 0])
  t.equal(event!.bucket, 'shop')
  t.equal(event!.ip, '10.0.0.7')
  t.equal(event!.userId, 'u1')
  const other = apiEventsRequestDecoder.decode({ ...logged, reqId: 42 }, url)
  t.same((await store.write({ events: other })).stored, 1, 'another request is another event')
  t.throws(() => apiEventsRequestDecoder.decode({ ...logged, serverToken: '', reqId: 0 }, url), { code: 'LS_BAD_REQUEST' }, 'a live request has no key of its own')
})
