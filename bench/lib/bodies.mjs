// Realistic request bodies: JSON event posts made by the package's own seeded
// generator, padded with trailing whitespace (still valid JSON) to an exact size.
import { randomEvent, seededRandom, encodeJsonEvents } from '../../dist/index.js'

const START_MS = Date.UTC(2026, 0, 1)
const END_MS = Date.UTC(2026, 0, 2)

/** A JSON body of exactly `size` bytes; the same seed gives the same bytes. */
export function jsonBody(size, seed = 1) {
  const random = seededRandom(seed)
  const options = { startMs: START_MS, endMs: END_MS, keyPrefix: `bench-${seed}` }
  const events = []
  let text = encodeJsonEvents(events)
  for (let i = 0; ; i++) {
    events.push(randomEvent(random, i, options))
    const next = encodeJsonEvents(events)
    if (Buffer.byteLength(next) > size) break
    text = next
  }
  const bytes = Buffer.alloc(size, 0x20)
  bytes.write(text)
  return bytes
}

export const BODY_SIZES = { '300B': 300, '4KiB': 4096, '64KiB': 65536 }
