// A DevServer on a free port, a client that tracks two events, and the events read back.
// The server keeps running so the live page it prints can be opened; Ctrl-C stops it.
// Run it: npm run build && node examples/dev-server-client.js   (add --exit to stop at once)
import { createClient, DevServer } from 'logging-system'

const server = new DevServer()
const url = await server.listen(0) // the CLI equivalent: logging-system dev --port 7007

const client = createClient({ url, bucket: 'my-app', format: 'eventbuf-v2' })
client.track({ type: 'signup', value: { plan: 'free' } }) // key and clientTime are filled in
client.track({ key: 'order-1001', type: 'purchase', value: { amountCents: 1299 } })
await client.close() // sends what is queued

const response = await fetch(`${url}/events.json?bucket=my-app`)
const { events } = await response.json()
for (const event of events) console.log(`${event.type} ${JSON.stringify(event.key)} ${JSON.stringify(event.value)}`)

if (process.argv.includes('--exit')) {
  await server.close()
} else {
  console.log(`live page: ${url}/ (Ctrl-C to stop)`)
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void server.close())
}
