// The JSON scanner that keeps event values as exact text, and the value rules built on it:
// agreement with JSON.parse on what is JSON, spans, depth without recursion, size, offsets.
import t from 'tap'
import {
  BadRequestError,
  decodeEventbufV2,
  EventValidationError,
  JsonTextError,
  MAX_VALUE_BYTES,
  MAX_VALUE_DEPTH,
  readJsonEvents,
  readJsonEventsBody,
  scanJson,
  seededRandom,
} from '../src/index.js'
import { eventbufV2Event } from './helpers/eventbuf-v2-fields.js'

function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}
const accepts = (text: string): boolean => thrownBy(() => scanJson(text, { maxDepth: 1000 })) === undefined
const parses = (text: string): boolean => thrownBy(() => JSON.parse(text)) === undefined

t.test('accepts exactly what JSON.parse accepts (hand-picked)', async (t) => {
  const texts = [
    '{}', '[]', ' {"a" : [1, -0, 0.5, 1e3, 1E+3, 1e-3, -12.5e10, true, false, null, "x"]} ', '"\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t"', '0', '-0',
    '', ' ', '{', '}', '[1,]', '{"a":1,}', '{,}', '[,1]', '{"a"}', '{"a":}', '{a:1}', "{'a':1}", '01', '1.', '.5', '-', '+1', '1e', '1e+',
    '"\\x"', '"\\u12"', '"\\u12G4"', '"a\nb"', '"\t"', 'tru', 'nul', 'falsey', '[1 2]', '{"a":1 "b":2}', '[]]', '{}}', '"unterminated', 'NaN', 'Infinity',
    '[1]x', '\u00a0{}', '{"a":1}\n',
  ]
  for (const text of texts) t.equal(accepts(text), parses(text), JSON.stringify(text))
})

t.test('property: agrees with JSON.parse on random token soup', async (t) => {
  const random = seededRandom(10)
  const tokens = ['{', '}', '[', ']', ',', ':', '"a"', '"b"', '1', '-2.5e3', 'true', 'null', ' ', '"\\u0041"', '0', '"']
  let valid = 0
  for (let n = 0; n < 20000; n++) {
    let text = ''
    const length = 1 + Math.floor(random() * 12)
    for (let i = 0; i < length; i++) text += tokens[Math.floor(random() * tokens.length)]
    const [a, b] = [accepts(text), parses(text)]
    if (a !== b) {
      t.fail(`${JSON.stringify(text)}: scanner ${a}, JSON.parse ${b}`)
      return
    }
    if (a) valid++
  }
  t.ok(valid > 500, `${valid} of 20000 were valid JSON`)
})

t.test('spans and heights', async (t) => {
  const text = ' {"events": [ {"value": {"b": 1.0, "a": [[]]}}, 7 ] } '
  const root = scanJson(text, { maxDepth: 10, keepLevels: 3 })
  t.equal(text.slice(root.start, root.end), text.trim())
  t.equal(root.height, 6)
  const events = root.members![0]!.node
  t.equal(events.elements!.length, 2)
  const value = events.elements![0]!.members![0]!.node
  t.equal(text.slice(value.start, value.end), '{"b": 1.0, "a": [[]]}')
  t.equal(value.height, 3)
  t.equal(value.members, undefined, 'level 3 is not kept')
  t.same(scanJson('"x"', { maxDepth: 0 }), { kind: 'string', start: 0, end: 3, height: 0 })
})

t.test('deep nesting costs no stack, and the limit names where it was crossed', async (t) => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000)
  t.equal(scanJson(deep, { maxDepth: 100_000 }).height, 100_000, '100,000 levels scanned without recursion')
  const err = thrownBy(() => scanJson('{"a":{"b":[[[1]]]}}', { maxDepth: 3, keepLevels: 2 }))
  t.ok(err instanceof JsonTextError)
  t.match(err, { tooDeep: true, offset: 11, path: ['a', 'b'] })
  t.match(thrownBy(() => scanJson('[1,', { maxDepth: 3 })), { tooDeep: false, offset: 3, reason: 'unexpected end of the text' })
})

t.test('malformed bodies: 400 with the byte offset; bodies must be UTF-8', async (t) => {
  const err = thrownBy(() => readJsonEventsBody(Buffer.from('{"key":"é",,}')))
  t.ok(err instanceof BadRequestError)
  t.match(err, { statusCode: 400, reason: /malformed JSON at byte 12: expected a member name/ }, 'é is two bytes: the offset counts bytes')
  t.match(thrownBy(() => readJsonEventsBody(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))), { statusCode: 400, reason: /not valid UTF-8/ })
  t.match(thrownBy(() => readJsonEventsBody(Buffer.alloc(0))), { statusCode: 400, reason: /empty text/ })
})

t.test('value depth: exactly MAX_VALUE_DEPTH passes, one more is value-depth, in both formats', async (t) => {
  const nested = (depth: number): string => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1)
  const body = (value: string): string => `{"key":1,"type":"t","value":${value},"clientTime":0}`
  t.equal(readJsonEvents(body(nested(MAX_VALUE_DEPTH)))[0]!.value, nested(MAX_VALUE_DEPTH))
  const err = thrownBy(() => readJsonEvents(body(nested(MAX_VALUE_DEPTH + 1))))
  t.ok(err instanceof EventValidationError)
  t.match(err, { rule: 'value-depth', index: 0, message: /value-depth/ })
  t.equal(decodeEventbufV2(eventbufV2Event({ value: nested(MAX_VALUE_DEPTH) }))[0]!.value, nested(MAX_VALUE_DEPTH))
  t.throws(() => decodeEventbufV2(eventbufV2Event({ value: nested(MAX_VALUE_DEPTH + 1) })), { code: 'LS_EVENT_DECODE', reason: /rule value-depth/ })
  t.throws(() => decodeEventbufV2(eventbufV2Event({ value: '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}' })), { code: 'LS_EVENT_DECODE', reason: /rule value-depth/ })
})

t.test('value size: MAX_VALUE_BYTES of UTF-8 pass, one byte more is value-size', async (t) => {
  const value = (bytes: number): string => `{"s":"${'é'.repeat((bytes - 8) / 2)}"}` // 8 bytes of {"s":""}, é is 2 bytes
  t.equal(Buffer.byteLength(value(MAX_VALUE_BYTES)), MAX_VALUE_BYTES)
  const body = (v: string): string => `{"key":1,"type":"t","value":${v},"clientTime":0}`
  t.equal(readJsonEvents(body(value(MAX_VALUE_BYTES)))[0]!.value.length, MAX_VALUE_BYTES / 2 + 4)
  t.throws(() => readJsonEvents(body(value(MAX_VALUE_BYTES + 2))), { code: 'LS_EVENT_INVALID', rule: 'value-size' })
})

t.test('eventbuf-v2 values are the exact text in the bin', async (t) => {
  const text = '{"b": 1.0, "a": 12345678901234567890, "b": "again"}'
  t.equal(decodeEventbufV2(eventbufV2Event({ value: ` ${text}\n` }))[0]!.value, text, 'member order, repeats, 1.0 and big integers kept; surrounding whitespace is not part of the value')
})
