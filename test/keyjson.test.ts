// keyjson and keyjson-base64 against the golden vectors (written by an independent Python
// encoder, formats/vectors/keyjson/generate.py) in both directions, and order properties.
import { readFileSync } from 'node:fs'
import t from 'tap'
import {
  compareEncodedKeys,
  decodeKey,
  decodeKeyBase64,
  encodeKey,
  encodeKeyBase64,
  encodeKeyFromJsonText,
  InvalidKeyError,
  KeyDecodeError,
  keyFromJsonText,
  keyjsonBase64Decode,
  keyjsonBase64Encode,
  keyPrefixRange,
  keyPrefixRangeFromJsonText,
  MAX_KEY_BYTES,
  type EventKey,
  type KeyScalar,
} from '../src/index.js'
import { seededRandom } from '../src/index.js'

interface Vectors {
  valid: { key: string; hex: string; base64: string; source: string }[]
  order: string[]
  invalid_keys: { key: string; rule: string }[]
  invalid_bytes: { hex: string; offset: number }[]
  invalid_base64: string[]
}
const vectors = JSON.parse(readFileSync(new URL('../formats/vectors/keyjson/vectors.json', import.meta.url), 'utf8')) as Vectors
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}

t.test('the original\'s vectors (issue 9) are in the file, byte for byte', async (t) => {
  const issue: [string, string][] = [
    ['null', '31'],
    ['"Montréal"', '34 4D 6F 6E 74 72 C3 A9 61 6C'],
    ['["x", 0]', '35 34 78 00 C0 80'],
    ['["x", 0, "Foo"]', '35 34 78 00 C0 80 00 34 46 6F 6F'],
    ['{"x": 0, "y": "Foo"}', '36 34 78 00 C0 80 00 34 79 00 34 46 6F 6F'],
    ['-16384', 'BD FE FF FF'],
    ['-129', 'BE FE FE'],
    ['-128', 'BE FE FF'],
    ['-127', 'BF 80'],
    ['-1', 'BF FE'],
    ['0', 'C0 80'],
    ['127', 'C0 FF'],
    ['128', 'C1 81 80'],
    ['16384', 'C2 81 80 80'],
    ['2097152', 'C3 81 80 80 80'],
  ]
  for (const [text, bytes] of issue) {
    const expected = bytes.replaceAll(' ', '').toLowerCase()
    t.equal(hex(encodeKey(JSON.parse(text) as EventKey)), expected, `encode ${text}`)
    t.same(decodeKey(Buffer.from(expected, 'hex')), JSON.parse(text), `decode ${text}`)
  }
  t.equal(vectors.valid.filter((v) => v.source.startsWith('issue 9')).length, issue.length)
})

t.test('valid vectors: encode, decode, base64 both ways', async (t) => {
  t.ok(vectors.valid.length >= 50)
  for (const v of vectors.valid) {
    const key = JSON.parse(v.key) as EventKey
    t.equal(hex(encodeKey(key)), v.hex, `encode ${v.key}`)
    t.same(decodeKey(Buffer.from(v.hex, 'hex')), key, `decode ${v.key}`)
    t.equal(encodeKeyBase64(key), v.base64, `base64 ${v.key}`)
    t.same(decodeKeyBase64(v.base64), key, `from base64 ${v.key}`)
    t.equal(hex(encodeKeyFromJsonText(v.key)), v.hex, `from JSON text ${v.key}`)
  }
})

t.test('the order vector is byte order, and base64 text order agrees', async (t) => {
  const encoded = vectors.order.map((text) => encodeKey(JSON.parse(text) as EventKey))
  for (let i = 1; i < encoded.length; i++) {
    t.ok(compareEncodedKeys(encoded[i - 1]!, encoded[i]!) < 0, `${vectors.order[i - 1]} < ${vectors.order[i]}`)
    const [a, b] = [keyjsonBase64Encode(encoded[i - 1]!), keyjsonBase64Encode(encoded[i]!)]
    t.ok(a < b, `base64 ${a} < ${b}`)
  }
  // Kinds: null < false < true < strings < lists < objects < integers (negatives first).
  const first = vectors.order.slice(0, 3)
  t.same(first, ['null', 'false', 'true'])
  t.ok(vectors.order.indexOf('"a"') < vectors.order.indexOf('[]'))
  t.ok(vectors.order.indexOf('{}') < vectors.order.indexOf('-1'))
  t.ok(vectors.order.indexOf('-1') < vectors.order.indexOf('0'))
})

t.test('invalid keys name their rule', async (t) => {
  for (const v of vectors.invalid_keys) {
    const err = thrownBy(() => encodeKeyFromJsonText(v.key))
    t.ok(err instanceof InvalidKeyError, `${v.key.slice(0, 30)} throws InvalidKeyError`)
    t.match(err, { code: 'LS_KEY_INVALID', rule: v.rule }, v.key.slice(0, 30))
  }
  // Values JSON cannot write, from JavaScript callers.
  t.throws(() => encodeKey(NaN), { code: 'LS_KEY_INVALID', rule: 'key-integer' })
  t.throws(() => encodeKey(undefined as unknown as EventKey), { code: 'LS_KEY_INVALID', rule: 'key-shape' })
  t.throws(() => encodeKey(1n as unknown as EventKey), { code: 'LS_KEY_INVALID', rule: 'key-shape' })
  t.throws(() => encodeKey(new Date() as unknown as EventKey), { code: 'LS_KEY_INVALID', rule: 'key-shape' })
  t.throws(() => encodeKey([[1]] as unknown as EventKey), { code: 'LS_KEY_INVALID', rule: 'key-shape' })
})

t.test('safe-integer limits and the size limit', async (t) => {
  t.equal(decodeKey(encodeKey(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER)
  t.equal(decodeKey(encodeKey(Number.MIN_SAFE_INTEGER)), Number.MIN_SAFE_INTEGER)
  t.equal(encodeKey(Number.MAX_SAFE_INTEGER)[0], 0xc7)
  t.equal(encodeKey(Number.MIN_SAFE_INTEGER)[0], 0xb8)
  t.throws(() => encodeKey(2 ** 53), { code: 'LS_KEY_INVALID', rule: 'key-integer' })
  t.same(hex(encodeKey(-0)), 'c080')
  const longest = 'x'.repeat(MAX_KEY_BYTES - 1)
  t.equal(encodeKey(longest).length, MAX_KEY_BYTES)
  t.throws(() => encodeKey(longest + 'x'), { code: 'LS_KEY_INVALID', rule: 'key-size' })
  t.throws(() => decodeKey(new Uint8Array(MAX_KEY_BYTES + 1).fill(0x61)), { code: 'LS_KEY_DECODE', offset: MAX_KEY_BYTES })
})

t.test('invalid bytes: KeyDecodeError with the offset of the damage', async (t) => {
  for (const v of vectors.invalid_bytes) {
    const err = thrownBy(() => decodeKey(Buffer.from(v.hex, 'hex')))
    t.ok(err instanceof KeyDecodeError, `${v.hex || '(empty)'} throws KeyDecodeError`)
    t.match(err, { code: 'LS_KEY_DECODE', offset: v.offset }, `${v.hex || '(empty)'}: ${(err as Error).message}`)
  }
})

t.test('invalid keyjson-base64 text is refused', async (t) => {
  for (const text of vectors.invalid_base64) t.throws(() => keyjsonBase64Decode(text), { code: 'LS_KEY_DECODE' }, JSON.stringify(text))
})

t.test('object members are sorted by encoded name; __proto__ is an ordinary name', async (t) => {
  t.equal(hex(encodeKey({ b: 1, a: 2 })), hex(encodeKey({ a: 2, b: 1 })))
  const key = JSON.parse('{"__proto__": 1, "a": null}') as EventKey
  const back = decodeKey(encodeKey(key)) as Record<string, KeyScalar>
  t.same(Object.keys(back), ['__proto__', 'a'])
  t.equal(back['__proto__'], 1)
})

t.test('keyPrefixRange holds exactly the lists that start with the prefix', async (t) => {
  const range = keyPrefixRange(['user-17'])
  const inside: EventKey[] = [['user-17'], ['user-17', 5], ['user-17', null], ['user-17', 'x', 'y'], ['user-17', -5]]
  const outside: EventKey[] = [['user-170'], ['user-1'], ['user-16', 9], 'user-17', ['user-18'], { 'user-17': 1 }, [], 17]
  const within = (key: EventKey): boolean => {
    const bytes = encodeKey(key)
    return compareEncodedKeys(range.from, bytes) <= 0 && compareEncodedKeys(bytes, range.to) < 0
  }
  for (const key of inside) t.ok(within(key), `${JSON.stringify(key)} inside`)
  for (const key of outside) t.notOk(within(key), `${JSON.stringify(key)} outside`)
  const all = keyPrefixRange([])
  t.same([...all.from], [0x35])
  t.same([...all.to], [0x36])
  t.same(keyPrefixRangeFromJsonText('["user-17"]'), range)
  t.throws(() => keyPrefixRangeFromJsonText('"user-17"'), { code: 'LS_KEY_INVALID', rule: 'key-shape' })
  t.throws(() => keyPrefixRangeFromJsonText('[[1]]'), { code: 'LS_KEY_INVALID', rule: 'key-shape' })
  t.throws(() => keyFromJsonText('{'), { code: 'LS_KEY_INVALID', rule: 'key-json' })
})

// ---- properties on seeded random keys ----------------------------------------

function randomScalar(random: () => number): KeyScalar {
  const pick = random()
  if (pick < 0.05) return null
  if (pick < 0.1) return random() < 0.5
  if (pick < 0.5) {
    const magnitude = Math.floor(random() * 54)
    const n = Math.floor(random() * 2 ** magnitude)
    return random() < 0.5 ? -n : n
  }
  const chars = ['a', 'b', 'é', '\u0001', '\u007f', '\u0080', '\uffff', '🔑', 'z', ' ']
  let text = ''
  const length = Math.floor(random() * 5)
  for (let i = 0; i < length; i++) text += chars[Math.floor(random() * chars.length)]
  return text
}
function randomKey(random: () => number): EventKey {
  const pick = random()
  if (pick < 0.6) return randomScalar(random)
  const length = Math.floor(random() * 4)
  if (pick < 0.85) return Array.from({ length }, () => randomScalar(random))
  const object: Record<string, KeyScalar> = {}
  for (let i = 0; i < length; i++) object[String(randomScalar(random))] = randomScalar(random)
  return object
}

// The order keyjson promises, written from its definition (not from the bytes).
function kind(key: EventKey): number {
  if (key === null) return 0
  if (key === false) return 1
  if (key === true) return 2
  if (typeof key === 'string') return 3
  if (Array.isArray(key)) return 4
  if (typeof key === 'object') return 5
  return 6
}
function codePoints(text: string): number[] {
  return [...text].map((c) => c.codePointAt(0)!)
}
function compareLists(a: number[] | KeyScalar[], b: number[] | KeyScalar[], element: (x: never, y: never) => number): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = element(a[i] as never, b[i] as never)
    if (c !== 0) return c
  }
  return a.length - b.length
}
function modelCompare(a: EventKey, b: EventKey): number {
  const [ka, kb] = [kind(a), kind(b)]
  if (ka !== kb) return ka - kb
  if (typeof a === 'number') return Math.sign(a - (b as number))
  if (typeof a === 'string') return compareLists(codePoints(a), codePoints(b as string), (x: number, y: number) => x - y)
  if (Array.isArray(a)) return compareLists(a, b as KeyScalar[], modelCompare)
  if (a !== null && typeof a === 'object') {
    const flat = (o: Record<string, KeyScalar>): KeyScalar[] =>
      Object.keys(o)
        .sort((x, y) => compareLists(codePoints(x), codePoints(y), (p: number, q: number) => p - q))
        .flatMap((name) => [name, o[name]!])
    return compareLists(flat(a), flat(b as Record<string, KeyScalar>), modelCompare)
  }
  return 0
}

t.test('property: byte order is key order; base64 text order is byte order; round trips', async (t) => {
  const random = seededRandom(9)
  let checked = 0
  for (let i = 0; i < 20000; i++) {
    const [a, b] = [randomKey(random), randomKey(random)]
    const [ea, eb] = [encodeKey(a), encodeKey(b)]
    const byteOrder = Math.sign(compareEncodedKeys(ea, eb))
    const model = Math.sign(modelCompare(a, b))
    const [ta, tb] = [keyjsonBase64Encode(ea), keyjsonBase64Encode(eb)]
    const textOrder = ta < tb ? -1 : ta > tb ? 1 : 0
    if (byteOrder !== model || textOrder !== byteOrder) {
      t.fail(`order of ${JSON.stringify(a)} and ${JSON.stringify(b)}: bytes ${byteOrder}, model ${model}, text ${textOrder}`)
      return
    }
    if (hex(encodeKey(decodeKey(ea))) !== hex(ea) || hex(keyjsonBase64Decode(ta)) !== hex(ea)) {
      t.fail(`round trip of ${JSON.stringify(a)}`)
      return
    }
    checked++
  }
  t.equal(checked, 20000)
})

t.test('property: base64 text order is byte order for arbitrary byte strings', async (t) => {
  const random = seededRandom(64)
  for (let i = 0; i < 20000; i++) {
    const bytes = (): Uint8Array => Uint8Array.from({ length: Math.floor(random() * 7) }, () => (random() < 0.3 ? [0, 255][Math.floor(random() * 2)]! : Math.floor(random() * 256)))
    const [a, b] = [bytes(), bytes()]
    const [ta, tb] = [keyjsonBase64Encode(a), keyjsonBase64Encode(b)]
    const textOrder = ta < tb ? -1 : ta > tb ? 1 : 0
    if (textOrder !== Math.sign(compareEncodedKeys(a, b)) || hex(keyjsonBase64Decode(ta)) !== hex(a)) {
      t.fail(`${hex(a)} vs ${hex(b)}: ${ta} vs ${tb}`)
      return
    }
  }
  t.pass('20000 pairs agree')
})
