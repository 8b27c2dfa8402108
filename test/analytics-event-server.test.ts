import t from 'tap'
import { join } from 'node:path'
import { EventServer } from '../src/servers/event-server.js'
import { openEventStore } from '../src/store/open-store.js'
import { call } from './helpers/analytics-fixture.js'
import { tempDir } from './helpers/temp.js'

t.test('the EventServer serves the analytics routes on its own store', async (t) => {
  const server = new EventServer({ store: await openEventStore({ db: join(tempDir(t), 'events.duckdb') }) })
  const url = await server.listen(0)
  t.teardown(() => server.close())

  const posted = await call(`${url}/api/events?bucket=es`, { body: { event_type: 'signup', ts: 1_700_000_000, params: { user: 'ann' } } })
  t.equal(posted.status, 202, posted.text)
  t.equal(posted.json.stored, 1)
  // The seed-004 API of the same server writes to the same store: the analytics see both.
  const other = await call(`${url}/api/post-events?bucket=es`, { body: { key: 'k1', type: 'purchase', value: { user: 'bob' }, clientTime: 1_700_000_001_000 } })
  t.equal(other.status, 200, other.text)
  const listed = await call(`${url}/api/events?bucket=es`)
  t.same(listed.json.events.map((e: { event_type: string }) => e.event_type), ['signup', 'purchase'])
  const daily = await call(`${url}/api/aggregations/daily?bucket=es`)
  t.same(daily.json.days.map((d: { date: string; event_type: string; total: number }) => [d.date, d.event_type, d.total]), [['2023-11-14', 'purchase', 1], ['2023-11-14', 'signup', 1]])

  const preflight = await call(`${url}/api/events`, { method: 'OPTIONS' as 'GET', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } })
  t.equal(preflight.status, 204, 'the EventServer answers preflights for the analytics URLs too')
  t.equal(preflight.headers['access-control-allow-origin'], 'https://app.example')
  const bad = await call(`${url}/api/events`, { body: { ts: 1 } })
  t.equal(bad.status, 400)
  t.equal(bad.json.field, 'event_type')
  t.match((await call(`${url}/`)).text, /<title>Analytics/)
  t.ok((await call(`${url}/help`)).json.routes['/api']['/events'].length >= 3)
})
