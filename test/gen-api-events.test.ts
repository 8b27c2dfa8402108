import t from 'tap'
import { join } from 'node:path'
import { main } from '../src/cli/main.js'
import { RANDOM_EVENT_TYPES } from '../src/client/random-events.js'
import { EventServer } from '../src/servers/event-server.js'
import { openEventStore } from '../src/store/open-store.js'
import { call } from './helpers/analytics-fixture.js'
import { captureIo } from './helpers/cli-io.js'
import { tempDir } from './helpers/temp.js'

async function eventServer(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const server = new EventServer({ store: await openEventStore({ db: join(tempDir(t), 'events.duckdb') }) })
  const url = await server.listen(0)
  t.teardown(() => server.close())
  return url
}

t.test('gen --format api-events fills an EventServer that the analytics endpoints count', async (t) => {
  const url = await eventServer(t)
  const io = captureIo()
  const code = await main(['gen', '--uri', url, '--format', 'api-events', '--total', '150', '--concurrency', '20', '--startTime', '1456606932', '--endTime', '1456693332', '--seed', '7'], io)
  t.equal(code, 0, io.err())
  t.match(io.out(), /sent: +150 events in 150 requests/)
  t.match(io.out(), /server: 150 stored, 0 duplicates/)
  const listed = await call(`${url}/api/events?limit=1000`)
  const events = listed.json.events as { event_type: string; ts: number; userId: string | null; params: { user: string } }[]
  t.equal(events.length, 150, 'into bucket default, which the dashboard opens on')
  t.ok(events.every((e) => e.ts >= 1456606932 && e.ts < 1456693333), 'times between the two dates')
  t.ok(events.every((e) => (RANDOM_EVENT_TYPES as readonly string[]).includes(e.event_type)), 'random types')
  t.ok(events.every((e) => e.userId !== null && e.userId === e.params.user), 'the user is params.user')
  const daily = await call(`${url}/api/aggregations/daily`)
  t.equal(daily.json.days.reduce((n: number, d: { total: number }) => n + d.total, 0), 150)
})

t.test('gen defaults to api-events for a --uri ending in /api/events, one day back to now', async (t) => {
  const url = await eventServer(t)
  const io = captureIo()
  t.equal(await main(['gen', '--uri', `${url}/api/events`, '--total', '40', '--bucket', 'seeded'], io), 0, io.err())
  const stats = await call(`${url}/api/stats?bucket=seeded`)
  t.equal(stats.json.total, 40, 'all within the last 48 hours')
  const io2 = captureIo()
  t.equal(await main(['gen', '--uri', url, '--format', 'api-events', '--batch', '5'], io2), 2, 'api-events sends one event a request')
  t.match(io2.err(), /--batch/)
})
