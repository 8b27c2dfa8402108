// Events for the export and forwarding tests: several buckets (one whose name
// needs escaping in a path), two days, integer and string types, NULL and
// empty optional fields, values with newlines and non-ASCII, keys with 0x00
// and 0xff bytes.
import { encodeKey } from '../../src/formats/keyjson.js'
import { eventRecord, type EventRecord } from '../../src/model/event-record.js'

export const DAY = '2026-03-14'
export const DAY_START = Date.parse(`${DAY}T00:00:00Z`)
export const NEXT_DAY = '2026-03-15'

export function sampleKey(i: number): Uint8Array {
  // keyjson: lists, strings and numbers; bytes 0x00 (separators) and non-ASCII text.
  return encodeKey(i % 3 === 0 ? ['user', i, true] : i % 3 === 1 ? `order-${i}-ünï,"q"` : [i * 1000, null, 'x\u0001y'])
}

export function sampleEvents(count: number, options: { start?: number; buckets?: string[]; spacingMs?: number } = {}): EventRecord[] {
  const buckets = options.buckets ?? ['shop', 'a/b=c%', 'ünï']
  const start = options.start ?? DAY_START
  const spacing = options.spacingMs ?? 60_000
  return Array.from({ length: count }, (_, i) =>
    eventRecord({
      bucket: buckets[i % buckets.length]!,
      key: sampleKey(i),
      type: i % 4 === 0 ? 7 : i % 4 === 1 ? 'click' : i % 4 === 2 ? '42' : 'page "view", too',
      value: i % 5 === 0 ? `{\n  "n": ${i},\n  "s": "line\\nbreak, ✓"\n}` : `{"n":${i},"price":1.50,"tags":["a","b"],"nested":{"x":null}}`,
      clientTime: start + i * spacing - 1234,
      serverTime: start + i * spacing,
      originalClientTime: i % 3 === 0 ? start + i * spacing - 99_999 : null,
      userId: i % 2 === 0 ? `user-${i % 5}` : null,
      anonymousId: i % 3 === 1 ? '' : i % 3 === 2 ? `anon,"${i}"` : null,
      producer: i % 4 === 3 ? 'web' : null,
      ip: i % 2 === 1 ? '127.0.0.1' : null,
      source: i % 2 === 0 ? 'post-events/json' : 'segment',
    }),
  )
}
