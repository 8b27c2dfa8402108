/**
 * keyjson: the order-preserving key encoding of formats/keyjson.md. The bytes of
 * an encoded key compare (unsigned, byte by byte, shorter first on a tie) in the
 * order of the keys, so a store can index and range-read keys as plain bytes.
 * keyjson-base64 keeps that order in text. The key rules live here, once; the
 * event formats use them.
 */
import { InvalidKeyError, KeyDecodeError } from '../errors.js'

/** A key element: what a list or an object (one level deep) may hold. */
export type KeyScalar = null | boolean | number | string
/** A key: a scalar, or a list or object of scalars (one level deep). Numbers are safe integers. */
export type EventKey = KeyScalar | KeyScalar[] | { [name: string]: KeyScalar }

/** The rule names a key check can report (formats/json-events.md, "Rules"). */
export type KeyRule = 'key-shape' | 'key-integer' | 'key-string' | 'key-size'

export interface KeyViolation {
  rule: KeyRule
  reason: string
}

/** The longest encoded key, in bytes: keys are index entries, not payload. */
export const MAX_KEY_BYTES = 4096

export const PREFIX_NULL = 0x31
export const PREFIX_FALSE = 0x32
export const PREFIX_TRUE = 0x33
export const PREFIX_STRING = 0x34
export const PREFIX_LIST = 0x35
export const PREFIX_OBJECT = 0x36
/** Joins the elements of a list or object; no element's encoding contains it (no U+0000, integer bytes >= 0x80). */
export const SEPARATOR = 0x00

/** Integer sizes 1..8 (7 bits a byte) cover every safe integer: 128^8 = 2^56 > 2^53. */
const MAX_INT_SIZE = 8
const INT_POSITIVE_BASE = 0xc0 // prefix 0xc0 + size - 1 for n >= 0
const INT_NEGATIVE_BASE = 0xbf // prefix 0xbf - size + 1 for n < 0
const LOWEST_INT_PREFIX = INT_NEGATIVE_BASE - MAX_INT_SIZE + 1 // 0xb8
const HIGHEST_INT_PREFIX = INT_POSITIVE_BASE + MAX_INT_SIZE - 1 // 0xc7

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

// With the u flag a surrogate pair is one code point, so this matches lone surrogates only.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/** True when `text` is not well-formed Unicode (it could not be written as UTF-8). */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text)
}

/** A plain object (`{}` or JSON.parse's), not an array, null, or an instance of a class. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function checkScalar(value: unknown, where: string): KeyViolation | undefined {
  switch (typeof value) {
    case 'boolean':
      return undefined
    case 'number':
      if (!Number.isInteger(value)) return { rule: 'key-integer', reason: `${where} ${String(value)} is not an integer` }
      if (!Number.isSafeInteger(value)) return { rule: 'key-integer', reason: `${where} ${String(value)} is outside ±(2^53 - 1)` }
      return undefined
    case 'string':
      return checkKeyText(value, where)
    case 'object':
      if (value === null) return undefined
      return { rule: 'key-shape', reason: `${where} is ${describe(value)}; lists and objects in keys hold only null, booleans, integers and strings (one level deep)` }
    default:
      return { rule: 'key-shape', reason: `${where} is ${describe(value)}; keys are null, booleans, integers, strings, or a list or object of those` }
  }
}

function checkKeyText(text: string, where: string): KeyViolation | undefined {
  if (text.includes('\u0000')) return { rule: 'key-string', reason: `${where} contains \\u0000` }
  if (hasLoneSurrogate(text)) return { rule: 'key-string', reason: `${where} contains a lone surrogate (not valid Unicode)` }
  return undefined
}

/** Checks a key's shape and elements (not its size); returns the first broken rule or undefined. */
function checkKeyShape(key: unknown): KeyViolation | undefined {
  if (Array.isArray(key)) {
    for (let i = 0; i < key.length; i++) {
      const violation = checkScalar(key[i], `key element ${i}`)
      if (violation) return violation
    }
    return undefined
  }
  if (typeof key === 'object' && key !== null) {
    if (!isPlainObject(key)) return { rule: 'key-shape', reason: 'key is not a plain object' }
    for (const [name, value] of Object.entries(key)) {
      const violation = checkKeyText(name, `key member name ${JSON.stringify(name)}`) ?? checkScalar(value, `key member ${JSON.stringify(name)}`)
      if (violation) return violation
    }
    return undefined
  }
  if (key === undefined) return { rule: 'key-shape', reason: 'key is missing' }
  return checkScalar(key, 'key')
}

/** Checks a key's rules, its encoded size included; returns the first broken rule or undefined. */
export function checkKey(key: unknown): KeyViolation | undefined {
  const violation = checkKeyShape(key)
  if (violation) return violation
  const length = encodeUnchecked(key as EventKey).length
  if (length > MAX_KEY_BYTES) return { rule: 'key-size', reason: `key is ${length} bytes encoded; the limit is ${MAX_KEY_BYTES}` }
  return undefined
}

// ---- Encoding ---------------------------------------------------------------

/** 128^size for size 0..8, exact in doubles (2^56 is a power of two). */
const POW128 = Array.from({ length: MAX_INT_SIZE + 1 }, (_, size) => 128 ** size)

function encodeInteger(n: number): Uint8Array {
  // -0 is 0. For n < 0 the stored number n + 128^size - 1 is the all-ones pattern minus |n|:
  // every 7-bit group is 127 minus |n|'s group, with no borrow, so doubles stay exact.
  const negative = n < 0
  const magnitude = negative ? -n : n
  let size = 1
  while (magnitude >= POW128[size]!) size++
  const out = new Uint8Array(size + 1)
  out[0] = negative ? INT_NEGATIVE_BASE - size + 1 : INT_POSITIVE_BASE + size - 1
  let rest = magnitude
  for (let i = size; i >= 1; i--) {
    const group = rest % 128
    rest = (rest - group) / 128
    out[i] = 0x80 | (negative ? 127 - group : group)
  }
  return out
}

function encodeScalar(value: KeyScalar): Uint8Array {
  if (value === null) return Uint8Array.of(PREFIX_NULL)
  if (value === false) return Uint8Array.of(PREFIX_FALSE)
  if (value === true) return Uint8Array.of(PREFIX_TRUE)
  if (typeof value === 'number') return encodeInteger(value)
  const out = new Uint8Array(1 + Buffer.byteLength(value, 'utf8'))
  out[0] = PREFIX_STRING
  if (out.length === value.length + 1) {
    // ASCII (byte length = length): copy code units, cheaper than the encoder for short keys.
    for (let i = 0; i < value.length; i++) out[i + 1] = value.charCodeAt(i)
  } else {
    utf8.encodeInto(value, out.subarray(1))
  }
  return out
}

function joined(prefix: number, parts: readonly Uint8Array[]): Uint8Array {
  let length = 1 + Math.max(0, parts.length - 1)
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  out[0] = prefix
  let at = 1
  parts.forEach((part, i) => {
    if (i > 0) out[at++] = SEPARATOR
    out.set(part, at)
    at += part.length
  })
  return out
}

/** Unsigned byte order, shorter first when one is a prefix of the other: the order of keys. */
export function compareEncodedKeys(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!
  }
  return a.length - b.length
}

/**
 * Encodes a key. Throws InvalidKeyError (with the rule) when it breaks a key
 * rule, including the size limit.
 */
export function encodeKey(key: EventKey): Uint8Array {
  const violation = checkKeyShape(key)
  if (violation) throw new InvalidKeyError(violation.rule, violation.reason)
  const out = encodeUnchecked(key)
  if (out.length > MAX_KEY_BYTES) throw new InvalidKeyError('key-size', `key is ${out.length} bytes encoded; the limit is ${MAX_KEY_BYTES}`)
  return out
}

function encodeUnchecked(key: EventKey): Uint8Array {
  if (Array.isArray(key)) return joined(PREFIX_LIST, key.map(encodeScalar))
  if (typeof key === 'object' && key !== null) {
    // Entries sorted by their encoded name; names are unique, so no ties.
    const entries = Object.entries(key).map(([name, value]) => [encodeScalar(name), encodeScalar(value)] as const)
    entries.sort((x, y) => compareEncodedKeys(x[0], y[0]))
    return joined(PREFIX_OBJECT, entries.flat())
  }
  return encodeScalar(key)
}

// ---- Decoding ---------------------------------------------------------------

function fail(offset: number, reason: string): never {
  throw new KeyDecodeError(offset, reason)
}

/** Decodes one element (scalar) from bytes[start, end); `start` is its offset in the whole key. */
function decodeScalar(bytes: Uint8Array, start: number, end: number): KeyScalar {
  if (start >= end) fail(start, 'empty element')
  const prefix = bytes[start]!
  if (prefix === PREFIX_NULL || prefix === PREFIX_FALSE || prefix === PREFIX_TRUE) {
    if (end - start !== 1) fail(start + 1, `${end - start - 1} bytes after a ${prefix === PREFIX_NULL ? 'null' : 'boolean'}`)
    return prefix === PREFIX_NULL ? null : prefix === PREFIX_TRUE
  }
  if (prefix === PREFIX_STRING) {
    let text: string
    try {
      text = strictUtf8.decode(bytes.subarray(start + 1, end))
    } catch {
      return fail(start + 1, 'string is not valid UTF-8')
    }
    return text
  }
  if (prefix >= LOWEST_INT_PREFIX && prefix <= HIGHEST_INT_PREFIX) return decodeInteger(bytes, start, end)
  if (prefix === PREFIX_LIST || prefix === PREFIX_OBJECT) return fail(start, 'a list or object inside a list or object (keys are one level deep)')
  return fail(start, `unknown prefix byte 0x${prefix.toString(16).padStart(2, '0')}`)
}

function decodeInteger(bytes: Uint8Array, start: number, end: number): number {
  const prefix = bytes[start]!
  const negative = prefix < INT_POSITIVE_BASE
  const size = negative ? INT_NEGATIVE_BASE - prefix + 1 : prefix - INT_POSITIVE_BASE + 1
  if (end - start !== size + 1) fail(start, `integer prefix 0x${prefix.toString(16)} says ${size} bytes follow, found ${end - start - 1}`)
  // The magnitude from its 7-bit groups (inverted for negatives, see encodeInteger). Beyond 2^53 the
  // double may round, but only to values that are still beyond it, so the range check stays right.
  let magnitude = 0
  for (let i = start + 1; i < end; i++) {
    const byte = bytes[i]!
    if (byte < 0x80) fail(i, `integer byte 0x${byte.toString(16).padStart(2, '0')} lacks the high bit`)
    magnitude = magnitude * 128 + (negative ? 127 - (byte & 0x7f) : byte & 0x7f)
  }
  if (magnitude > Number.MAX_SAFE_INTEGER) fail(start, `integer ${negative ? '-' : ''}${magnitude} is outside ±(2^53 - 1)`)
  const n = negative ? -magnitude : magnitude
  // One encoding per key: a longer form than needed would sort apart from the short one.
  if (compareEncodedKeys(encodeInteger(n), bytes.subarray(start, end)) !== 0) fail(start, `integer ${n} is not in its one canonical form (${size} bytes, prefix 0x${prefix.toString(16)})`)
  return n
}

/** Splits bytes[start, length) on the separator into element ranges. */
function elementRanges(bytes: Uint8Array, start: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = []
  if (start === bytes.length) return ranges
  let from = start
  for (let i = start; i < bytes.length; i++) {
    if (bytes[i] === SEPARATOR) {
      ranges.push([from, i])
      from = i + 1
    }
  }
  ranges.push([from, bytes.length])
  return ranges
}

/**
 * Decodes an encoded key. Defensive: throws KeyDecodeError with the byte offset
 * for anything encodeKey would not have written (unknown prefix, bad UTF-8,
 * non-shortest or out-of-range integers, nesting, unsorted or repeated object
 * names, over MAX_KEY_BYTES), so decode(encode(k)) = k and encode(decode(b)) = b.
 */
export function decodeKey(bytes: Uint8Array): EventKey {
  if (bytes.length === 0) fail(0, 'empty key')
  if (bytes.length > MAX_KEY_BYTES) fail(MAX_KEY_BYTES, `key is ${bytes.length} bytes; the limit is ${MAX_KEY_BYTES}`)
  const prefix = bytes[0]!
  if (prefix === PREFIX_LIST) return elementRanges(bytes, 1).map(([from, to]) => decodeScalar(bytes, from, to))
  if (prefix === PREFIX_OBJECT) {
    const ranges = elementRanges(bytes, 1)
    if (ranges.length % 2 !== 0) fail(ranges[ranges.length - 1]![0], `object has ${ranges.length} elements; names and values come in pairs`)
    const object: Record<string, KeyScalar> = {}
    for (let i = 0; i < ranges.length; i += 2) {
      const [nameFrom, nameTo] = ranges[i]!
      if (bytes[nameFrom] !== PREFIX_STRING) fail(nameFrom, 'object member name is not a string')
      if (i > 0) {
        const [prevFrom, prevTo] = ranges[i - 2]!
        if (compareEncodedKeys(bytes.subarray(prevFrom, prevTo), bytes.subarray(nameFrom, nameTo)) >= 0) fail(nameFrom, 'object member names are not in ascending order (or repeat)')
      }
      const name = decodeScalar(bytes, nameFrom, nameTo) as string
      const [valueFrom, valueTo] = ranges[i + 1]!
      Object.defineProperty(object, name, { value: decodeScalar(bytes, valueFrom, valueTo), enumerable: true, writable: true, configurable: true })
    }
    return object
  }
  if (prefix === PREFIX_STRING) {
    const separator = bytes.indexOf(SEPARATOR, 1)
    if (separator !== -1) fail(separator, 'string contains U+0000')
  }
  return decodeScalar(bytes, 0, bytes.length)
}

// ---- Ranges -----------------------------------------------------------------

/** A key range over encoded keys: `from` inclusive, `to` exclusive. */
export interface EncodedKeyRange {
  from: Uint8Array
  to: Uint8Array
}

/**
 * Every key that is a list starting with `elements`: the list itself and every
 * longer list (`["user-17"]` covers `["user-17"]`, `["user-17", 5]`, not
 * `["user-170"]`). An empty prefix covers every list.
 */
export function keyPrefixRange(elements: readonly KeyScalar[]): EncodedKeyRange {
  if (!Array.isArray(elements)) throw new InvalidKeyError('key-shape', 'a key prefix is a list')
  if (elements.length === 0) return { from: Uint8Array.of(PREFIX_LIST), to: Uint8Array.of(PREFIX_LIST + 1) }
  const from = encodeKey(elements as KeyScalar[])
  // Longer lists continue with the separator 0x00; nothing that is not an extension sorts below from + 0x01.
  const to = new Uint8Array(from.length + 1)
  to.set(from)
  to[from.length] = SEPARATOR + 1
  return { from, to }
}

/**
 * Reads a key written as JSON text (a query parameter `from`, `to` or `prefix`).
 * Throws InvalidKeyError naming the rule for malformed JSON or a key that breaks
 * a rule.
 */
export function keyFromJsonText(text: string, what = 'key'): EventKey {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new InvalidKeyError('key-json', `${what} is not JSON (${(error as Error).message}); write keys as JSON, e.g. "user-17", 42 or ["user-17", 5]`)
  }
  const violation = checkKey(parsed)
  if (violation) throw new InvalidKeyError(violation.rule, `${what}: ${violation.reason}`)
  return parsed as EventKey
}

/** Encodes a key written as JSON text; see keyFromJsonText. */
export function encodeKeyFromJsonText(text: string, what = 'key'): Uint8Array {
  return encodeKey(keyFromJsonText(text, what))
}

/** Reads a `prefix` query parameter: a JSON list. Returns its key range. */
export function keyPrefixRangeFromJsonText(text: string, what = 'prefix'): EncodedKeyRange {
  const key = keyFromJsonText(text, what)
  if (!Array.isArray(key)) throw new InvalidKeyError('key-shape', `${what} is ${describe(key)}; a prefix is a JSON list, e.g. ["user-17"]`)
  return keyPrefixRange(key)
}

/** The key as JSON text, for output (NDJSON, /events.json). */
export function encodedKeyToJson(bytes: Uint8Array): string {
  return JSON.stringify(decodeKey(bytes))
}

// ---- keyjson-base64 ---------------------------------------------------------

/** The keyjson-base64 alphabet: ascending ASCII, so text order is byte order. '!' (below all of them) pads. */
export const KEYJSON_BASE64_ALPHABET = '()0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
export const KEYJSON_BASE64_PAD = '!'
const STANDARD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

function translationTable(from: string, to: string, pad: [string, string]): Map<number, number> {
  const table = new Map<number, number>()
  for (let i = 0; i < from.length; i++) table.set(from.charCodeAt(i), to.charCodeAt(i))
  table.set(pad[0].charCodeAt(0), pad[1].charCodeAt(0))
  return table
}

const TO_KEYJSON = translationTable(STANDARD_ALPHABET, KEYJSON_BASE64_ALPHABET, ['=', KEYJSON_BASE64_PAD])
const TO_STANDARD = translationTable(KEYJSON_BASE64_ALPHABET, STANDARD_ALPHABET, [KEYJSON_BASE64_PAD, '='])

function translate(text: string, table: Map<number, number>, check: boolean): string {
  const out = Buffer.allocUnsafe(text.length)
  for (let i = 0; i < text.length; i++) {
    const code = table.get(text.charCodeAt(i))
    if (code === undefined) {
      if (check) throw new KeyDecodeError(i, `character ${JSON.stringify(text[i])} is not in the keyjson-base64 alphabet`)
      throw new Error('unreachable: Node wrote a character outside base64')
    }
    out[i] = code
  }
  return out.toString('latin1')
}

/** Bytes as keyjson-base64: standard base64 (RFC 4648, padded) with each character remapped. */
export function keyjsonBase64Encode(bytes: Uint8Array): string {
  return translate(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), TO_KEYJSON, false)
}

/**
 * keyjson-base64 text back to bytes. Strict (Node's base64 reader is lenient, so
 * this checks first): length a multiple of 4, padding only at the end, unused
 * bits zero — one text per byte string, so text order stays byte order.
 */
export function keyjsonBase64Decode(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new KeyDecodeError(text.length, `keyjson-base64 length ${text.length} is not a multiple of 4`)
  const standard = translate(text, TO_STANDARD, true)
  const firstPad = standard.indexOf('=')
  if (firstPad !== -1 && (firstPad < standard.length - 2 || (firstPad === standard.length - 2 && standard[standard.length - 1] !== '='))) {
    throw new KeyDecodeError(firstPad, 'padding "!" inside keyjson-base64 text')
  }
  const bytes = Buffer.from(standard, 'base64')
  if (keyjsonBase64Encode(bytes) !== text) throw new KeyDecodeError(Math.max(0, text.length - 3), 'keyjson-base64 text has nonzero unused bits')
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** A key straight to keyjson-base64 text. */
export function encodeKeyBase64(key: EventKey): string {
  return keyjsonBase64Encode(encodeKey(key))
}

/** keyjson-base64 text straight to a key. */
export function decodeKeyBase64(text: string): EventKey {
  return decodeKey(keyjsonBase64Decode(text))
}
