import t from 'tap'
import { join } from 'node:path'
import { request } from 'undici'
import { LoggingServer } from '../src/servers/logging-server.js'
import { DirectorySource } from '../src/reader/directory-source.js'
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

t.test('seed-003 posts logged by a LoggingServer are tailed into the analytics, keyed by the logged request', async (t) => {
  const dir = tempDir(t)
  const logger = new LoggingServer({ directory: dir, batchSeconds: 60 })
  const { port } = await logger.listen(0, '127.0.0.1')
  const raw = '{"event_type":"signup","ts":1700000000.25,"params":{"distinct_id":"zoe", "plan" : "pro"}}'
  for (const body of [raw, '{"event_type":"view","ts":1700000001,"params":{"user":"zoe"}}']) {
    const res = await request(`http://127.0.0.1:${port}/api/events?bucket=logged`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    await res.body.dump()
  }
  await logger.close()
  const server = new EventServer({ store: await openEventStore({ db: join(tempDir(t), 'events.duckdb') }), tail: { source: new DirectorySource(dir), intervalMs: 20 } })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  await server.tailer!.nextPoll()
  await server.tailer!.nextPoll()
  const listed = await call(`${url}/api/events?bucket=logged`)
  t.same(listed.json.events.map((e: { event_type: string; userId: string }) => [e.event_type, e.userId]), [['signup', 'zoe'], ['view', 'zoe']])
  t.ok(listed.text.includes('"params":{"distinct_id":"zoe", "plan" : "pro"}'), 'params as the exact text logged')
  t.equal(listed.json.events[0].id[0], 'api-events')
  t.not(listed.json.events[0].id[1], '', 'the LoggingServer\'s token')
  const funnel = await call(`${url}/api/analysis/funnel?bucket=logged&steps=signup&steps=view&window=60`)
  t.same(funnel.json.steps.map((s: { users: number }) => s.users), [1, 1])
})
