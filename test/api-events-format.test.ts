import t from 'tap'
import { readFileSync } from 'node:fs'
import { EventValidationError } from '../src/errors.js'
import { decodeApiEvent, encodeApiEventBody, type ApiEventContext } from '../src/decoders/api-events.js'
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
