/** Random valid events for round-trip tests, leaning on the edges of the rules. */
import type { EventKey, EventType, JsonObject, JsonValue, LogEvent } from '../../src/formats/json-events.js'
import { seededRandom } from '../../src/client/random-events.js'

const EDGE_STRINGS = ['', 'a', 'é', '🔑', 'ключ', '\u0001', '\uffff', 'a\u0001b', '"\\/\n\t', 'x'.repeat(300)]
const EDGE_INTEGERS = [0, -0, 1, -1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -(2 ** 31), -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]
const EDGE_TIMES = [0, 1, 127, 128, 2 ** 32 - 1, 2 ** 32, 1317062859638, Number.MAX_SAFE_INTEGER]

export function sampleEvents(seed: number, count: number): LogEvent[] {
  const random = seededRandom(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const randomString = (): string => {
    if (random() < 0.5) return pick(EDGE_STRINGS)
    let text = ''
    const length = Math.floor(random() * 12)
    for (let i = 0; i < length; i++) {
      // Any code point but U+0000 and surrogates.
      const cp = random() < 0.8 ? 1 + Math.floor(random() * 0x7ff) : 0x10000 + Math.floor(random() * 0xfffff)
      text += String.fromCodePoint(cp)
    }
    return text
  }
  const randomInteger = (): number => (random() < 0.5 ? pick(EDGE_INTEGERS) : Math.floor((random() - 0.5) * 2 * Number.MAX_SAFE_INTEGER))
  const randomKey = (): EventKey => {
    const r = random()
    return r < 0.05 ? null : r < 0.1 ? random() < 0.5 : r < 0.5 ? randomInteger() : randomString()
  }
  const randomType = (): EventType => (random() < 0.5 ? Math.floor(random() * 65536) : randomString() || 't')
  const randomJson = (depth: number): JsonValue => {
    const r = random()
    if (depth > 2 || r < 0.3) return pick<JsonValue>([null, true, false, 1.5, -0.001, 1e300, randomInteger(), randomString()])
    if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => randomJson(depth + 1))
    return randomObject(depth + 1)
  }
  const randomObject = (depth: number): JsonObject => {
    const object: JsonObject = {}
    const size = Math.floor(random() * 4)
    for (let i = 0; i < size; i++) object[randomString()] = randomJson(depth)
    return object
  }
  return Array.from({ length: count }, () => ({ key: randomKey(), type: randomType(), value: randomObject(0), clientTime: random() < 0.5 ? pick(EDGE_TIMES) : Math.floor(random() * 2e12) }))
}

/** What an event looks like after a trip through JSON (-0 becomes 0). */
export function viaJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}
