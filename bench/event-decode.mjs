// Bare decode rate of the event formats (the ceiling for tailing and direct posts): post-events
// bodies (JSON and eventbuf-v2) to EventRecords through decodePostEvents, keyjson keys and exact
// value text included. Prints figures; never fails on a slow machine.
//   npm run build && node bench/event-decode.mjs [events=200000]
import { decodePostEvents, encodeEventbufV2Events, encodeJsonEvents, encodeKey, decodeKey, targetUrl } from '../dist/index.js'

const total = Number(process.argv[2] ?? 200_000)
const perRequest = 100
const t0 = Date.UTC(2026, 0, 1)
const events = Array.from({ length: perRequest }, (_, i) => ({
  key: i % 2 ? `user-${i}:signup:${t0 + i}` : [`user-${i % 17}`, t0 + i],
  type: i % 3 ? 'page_view' : 7,
  value: { page: `/p/${i % 97}`, user: `u${i % 1013}`, amountCents: 1299, tags: ['a', 'b'], nested: { ok: true, n: 1.5 } },
  clientTime: t0 + i,
}))
const url = targetUrl('/api/post-events?bucket=bench')
const request = (contentType, body) => ({ method: 'POST', path: '/api/post-events?bucket=bench', headers: {}, contentType, body, time: t0, ip: '203.0.113.7', serverToken: 'Bench', reqId: 1 })
const bodies = {
  json: request('application/json', Buffer.from(encodeJsonEvents(events))),
  'eventbuf-v2': request('application/eventbuf-v2', Buffer.from(encodeEventbufV2Events(events))),
}

function measure(name, fn, count) {
  fn() // warm up
  const start = process.hrtime.bigint()
  let done = 0
  while (done < count) done += fn()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  console.log(`${name.padEnd(34)} ${Math.round(done / seconds).toLocaleString('en-US').padStart(12)} events/s`)
}

for (const [format, req] of Object.entries(bodies)) {
  measure(`decodePostEvents ${format} (${req.body.length} B/100 ev)`, () => decodePostEvents(req, url).length, total)
}
const keys = events.map((e) => e.key)
measure('encodeKey', () => keys.map(encodeKey).length, total * 5)
const encoded = keys.map(encodeKey)
measure('decodeKey', () => encoded.map(decodeKey).length, total * 5)
