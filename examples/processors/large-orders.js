// A processor of your own, in one file: every event whose value has an
// `amountCents` of at least `minCents` is appended to a file as one JSON line
// (an alert feed, say). Register it with one line,
//   registerProcessor(largeOrders)
// and configure it like a built-in one (docs/processors.md):
//   { "kind": "large-orders", "buckets": ["shop"], "types": ["purchase"],
//     "options": { "path": "./large-orders.ndjson", "minCents": 10000 } }
import { appendFile } from 'node:fs/promises'
import { decodeKey } from 'logging-system'

/** @type {import('logging-system').ProcessorKind<{ path: string, minCents?: number }>} */
export const largeOrders = {
  kind: 'large-orders',
  description: 'Appends events with value.amountCents >= minCents to a file, one JSON line each.',
  create(options) {
    if (typeof options.path !== 'string') throw new Error('large-orders: options.path is required')
    const minCents = options.minCents ?? 10_000
    return {
      async process(events) {
        const lines = []
        for (const event of events) {
          const { amountCents } = JSON.parse(event.value)
          if (typeof amountCents === 'number' && amountCents >= minCents) {
            lines.push(JSON.stringify({ bucket: event.bucket, key: decodeKey(event.key), type: event.type, amountCents }) + '\n')
          }
        }
        if (lines.length > 0) await appendFile(options.path, lines.join(''))
      },
    }
  },
}
