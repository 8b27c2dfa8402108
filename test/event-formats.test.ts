import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import {
  compareKeys,
  decodeEventbufV2,
  decodeEventbufV2Stream,
  encodeEventbufV2,
  encodeEventbufV2Events,
  EventbufV2Decoder,
  EventDecodeError,
  EventValidationError,
  eventsFromJsonBody,
  keyIdentity,
  readJsonEvents,
  validateEvent,
  type ReceivedEvent,
  type EventKey,
  type LogEvent,
} from '../src/index.js'
import { sampleEvents, viaJson } from './helpers/event-samples.js'

const VECTORS = fileURLToPath(new URL('../formats/vectors/', import.meta.url))
interface EventbufVectors {
  valid: { file: string; description: string; canonical: boolean; events: LogEvent[] }[]
  invalid: { file: string; offset: number; index: number; reason: string }[]
}
const eventbuf = JSON.parse(readFileSync(VECTORS + 'eventbuf-v2/vectors.json', 'utf8')) as EventbufVectors
const jsonCases = JSON.parse(readFileSync(VECTORS + 'json-events/cases.json', 'utf8')) as {
  valid: { name: string; body: string; events: LogEvent[]; valueTexts?: string[] }[]
  invalid: { name: string; body: string; index: number; rule: string; textOnly?: boolean }[]
  keyOrder: { keys: EventKey[] }
}
function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}
const read = (file: string): Buffer => readFileSync(VECTORS + 'eventbuf-v2/' + file)

/** A received event with its value text parsed, to compare with an event as a client holds it. */
const parsed = (event: ReceivedEvent): LogEvent => ({ ...event, value: JSON.parse(event.value) as LogEvent['value'] })

t.test('JSON events: valid vectors parse to their events, as objects and as exact text', async (t) => {
  for (const c of jsonCases.valid) {
    t.same(eventsFromJsonBody(JSON.parse(c.body)), c.events, `${c.name} (parsed body)`)
    const received = readJsonEvents(c.body)
    t.same(received.map(parsed), c.events, `${c.name} (text reader)`)
    if (c.valueTexts) t.same(received.map((e) => e.value), c.valueTexts, `${c.name}: value texts exactly as sent`)
  }
})

t.test('JSON events: invalid vectors name the index and the rule', async (t) => {
  for (const c of jsonCases.invalid) {
    const readers: Array<[string, () => unknown]> = [['text reader', () => readJsonEvents(c.body)]]
    if (!c.textOnly) readers.push(['parsed body', () => eventsFromJsonBody(JSON.parse(c.body))])
    for (const [how, read] of readers) {
      const err = thrownBy(read)
      t.ok(err instanceof EventValidationError, `${c.name} (${how}): throws EventValidationError`)
      t.match(err, { code: 'LS_EVENT_INVALID', index: c.index, rule: c.rule }, `${c.name} (${how})`)
    }
  }
})

t.test('validateEvent rejects values JSON cannot carry', async (t) => {
  const base = { key: 1, type: 1, value: {}, clientTime: 0 }
  t.throws(() => validateEvent({ ...base, key: NaN }), { code: 'LS_EVENT_INVALID', rule: 'key-integer' })
  t.throws(() => validateEvent({ ...base, key: undefined }), { code: 'LS_EVENT_INVALID', rule: 'key-shape' })
  t.throws(() => validateEvent({ ...base, key: 1n }), { code: 'LS_EVENT_INVALID', rule: 'key-shape' })
  t.throws(() => validateEvent({ ...base, value: new Date() }), { code: 'LS_EVENT_INVALID', rule: 'value-object' })
  t.throws(() => validateEvent({ ...base, clientTime: Infinity }), { code: 'LS_EVENT_INVALID', rule: 'client-time' })
  t.throws(() => validateEvent(null, 7), { code: 'LS_EVENT_INVALID', rule: 'event-object', index: 7 })
})

t.test('key order is total and matches the vector', async (t) => {
  const keys = jsonCases.keyOrder.keys
  for (let i = 0; i < keys.length; i++) {
    for (let j = 0; j < keys.length; j++) {
      const expected = Math.sign(i - j)
      if (Math.sign(compareKeys(keys[i]!, keys[j]!)) !== expected) t.fail(`compareKeys(${JSON.stringify(keys[i])}, ${JSON.stringify(keys[j])}) should be ${expected}`)
    }
  }
  t.equal(compareKeys(-0, 0), 0, '-0 equals 0')
  t.equal(keyIdentity(-0), keyIdentity(0), 'and has the same identity')
  t.not(keyIdentity(1), keyIdentity('1'), '1 and "1" are different keys')
  // Sorting random keys agrees with sorting their UTF-8 bytes for strings.
  const strings = sampleEvents(3, 300).map((e) => e.key).filter((k): k is string => typeof k === 'string')
  const byBytes = [...strings].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  t.same([...strings].sort(compareKeys), byBytes, 'string order is UTF-8 byte order')
})

t.test('eventbuf-v2: valid vectors decode, canonical ones re-encode byte for byte', async (t) => {
  for (const v of eventbuf.valid) {
    const bytes = read(v.file)
    t.same(decodeEventbufV2(bytes).map(parsed), v.events, `decode ${v.file}`)
    if (v.canonical) t.ok(Buffer.from(encodeEventbufV2Events(v.events)).equals(bytes), `encode ${v.file}`)
  }
  t.equal(read('valid/minimal.bin').length, 19, 'the smallest event is 19 bytes')
})

t.test('eventbuf-v2: invalid vectors fail at their offset with their reason', async (t) => {
  for (const v of eventbuf.invalid) {
    const err = thrownBy(() => decodeEventbufV2(read(v.file)))
    t.ok(err instanceof EventDecodeError, `${v.file}: throws EventDecodeError`)
    t.match(err, { code: 'LS_EVENT_DECODE', offset: v.offset, index: v.index }, v.file)
    t.ok((err as EventDecodeError).reason.includes(v.reason), `${v.file}: reason says ${JSON.stringify(v.reason)}`)
  }
})

t.test('eventbuf-v2: random round trips, whole and in chunks', async (t) => {
  const events = sampleEvents(42, 500)
  const bytes = encodeEventbufV2Events(events)
  const expected = viaJson(events).map((e, i) => ({ ...e, key: events[i]!.key === -0 ? 0 : e.key }))
  t.same(decodeEventbufV2(bytes).map(parsed), expected, '500 events whole')
  for (const chunkSize of [1, 2, 3, 7, 64, 1000]) {
    const decoder = new EventbufV2Decoder()
    const out: LogEvent[] = []
    for (let at = 0; at < bytes.length; at += chunkSize) out.push(...decoder.push(bytes.subarray(at, at + chunkSize)).map(parsed))
    decoder.end()
    t.same(out, expected, `chunks of ${chunkSize}`)
  }
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < bytes.length; at += 100) yield bytes.subarray(at, at + 100)
  }
  const streamed: LogEvent[] = []
  for await (const event of decodeEventbufV2Stream(chunks())) streamed.push(parsed(event))
  t.same(streamed, expected, 'async stream')
})

t.test('eventbuf-v2: every single-byte corruption is caught', async (t) => {
  const [event] = sampleEvents(5, 1)
  const bytes = Buffer.from(encodeEventbufV2(event!))
  let caught = 0
  for (let at = 0; at < bytes.length; at++) {
    const copy = Buffer.from(bytes)
    copy[at] ^= 0x40
    try {
      decodeEventbufV2(copy)
    } catch (err) {
      if (err instanceof EventDecodeError && err.offset === 0) caught++
    }
  }
  t.equal(caught, bytes.length, `all ${bytes.length} corruptions`)
})

t.test('eventbuf-v2: the offset is in the whole stream, across chunks', async (t) => {
  const events = sampleEvents(9, 3)
  const parts = events.map((e) => Buffer.from(encodeEventbufV2(e)))
  parts[2]![parts[2]!.length - 1] ^= 1
  const all = Buffer.concat(parts)
  const decoder = new EventbufV2Decoder()
  t.equal(decoder.push(all.subarray(0, parts[0]!.length + 3)).length, 1)
  t.throws(() => decoder.push(all.subarray(parts[0]!.length + 3)), { code: 'LS_EVENT_DECODE', offset: parts[0]!.length + parts[1]!.length, index: 2, reason: 'checksum mismatch' })
  t.throws(() => decoder.push(Buffer.alloc(1)), { code: 'LS_EVENT_DECODE' }, 'stays failed')
})

t.test('eventbuf-v2: limits', async (t) => {
  const events = sampleEvents(11, 4)
  const bytes = encodeEventbufV2Events(events)
  t.throws(() => decodeEventbufV2(bytes, { maxEvents: 3 }), { code: 'LS_EVENT_DECODE', index: 3, reason: 'more than 3 events' })
  t.equal(decodeEventbufV2(bytes, { maxEvents: 4 }).length, 4)
  const big = encodeEventbufV2({ key: 1, type: 1, value: { s: 'x'.repeat(2000) }, clientTime: 0 })
  t.throws(() => decodeEventbufV2(big, { maxEventBytes: 1000 }), { code: 'LS_EVENT_DECODE', offset: 0, reason: /over the limit of 1000/ })
  t.same(decodeEventbufV2(new Uint8Array(0)), [], 'empty input is zero events')
})

t.test('the encoder refuses invalid events', async (t) => {
  t.throws(() => encodeEventbufV2Events([{ key: 1, type: 1, value: {}, clientTime: 0 }, { key: 1.5, type: 1, value: {}, clientTime: 0 }]), { code: 'LS_EVENT_INVALID', index: 1, rule: 'key-integer' })
})
