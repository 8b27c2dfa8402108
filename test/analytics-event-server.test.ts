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

/** Every (method, path) a /help document lists, as concrete paths to call (`:id` → `nobody`, `:type?` → `view`). */
function listedRoutes(routes: Record<string, unknown>): Array<{ method: string; path: string; description: string }> {
  const out: Array<{ method: string; path: string; description: string }> = []
  for (const [top, value] of Object.entries(routes)) {
    if (typeof value === 'string') {
      out.push({ method: '', path: top, description: value })
      continue
    }
    for (const [second, entries] of Object.entries(value as Record<string, { uri: string; method: string[]; description: string }[]>)) {
      for (const entry of entries) out.push({ method: entry.method[0]!, path: `${top}${second}${entry.uri === '/' ? '' : entry.uri}`, description: entry.description })
    }
  }
  return out.map((r) => ({ ...r, path: r.path.replace(':id', 'nobody').replace('/:type?', '/view') }))
}

t.test('GET /help on the EventServer lists every route it serves, from its route table, in the seed-003 shape', async (t) => {
  const extra = { name: 'extra', prefix: '/extra', plugin: async (app: import('fastify').FastifyInstance) => {
    app.get('/ping', { config: { help: { description: 'a route a plugin added' } } }, async () => ({ pong: true }))
    app.post('/quiet', async () => ({}))
  } }
  const server = new EventServer({ store: await openEventStore({ db: join(tempDir(t), 'events.duckdb') }), routes: [extra] })
  const url = await server.listen(0)
  t.teardown(() => server.close())

  const help = await call(`${url}/help`)
  t.equal(help.status, 200)
  t.equal(help.json.message, 'Move along nothing to see here.')
  const routes = help.json.routes
  t.equal(routes['/help'], 'Shows the magical help')
  // Seed 004's events API, the client ingestion routes, /rpc, profiles and the analytics, all on one page.
  for (const path of ['/events.json', '/buckets.json', '/rejects.json', '/rpc', '/capture', '/track', '/engage', '/']) t.type(routes[path], 'string', `${path} is listed`)
  t.match(routes['/api']['/post-events'], [{ uri: '/', method: ['POST'], required: ['bucket'] }])
  t.ok(routes['/api']['/profiles'].some((r: { uri: string }) => r.uri === '/:id/events'))
  t.ok(routes['/v1']['/batch'].some((r: { method: string[] }) => r.method[0] === 'POST'), 'Segment /v1/batch')
  t.ok(routes['/api']['/v1'].some((r: { uri: string }) => r.uri === '/track'), 'Grouparoo /api/v1/track')
  t.ok(routes['/api']['/events'].some((r: { uri: string; method: string[]; required?: string[] }) => r.uri === '/' && r.method[0] === 'POST' && r.required?.[0] === 'event_type'))
  // A plugin's routes are listed because they are registered: a route without a description still shows, and says so.
  t.match(routes['/extra']['/ping'], [{ uri: '/', method: ['GET'], description: 'a route a plugin added' }])
  t.match(routes['/extra']['/quiet'], [{ uri: '/', method: ['POST'], description: 'undescribed' }])

  const listed = listedRoutes(routes).filter((r) => !r.path.startsWith('/extra'))
  t.notOk(listed.some((r) => r.description === 'undescribed'), 'every built-in route has a description')
  t.notOk(listed.some((r) => r.path.endsWith('/') && r.path !== '/'), 'trailing-slash twins are listed once')
  // Every listed route is served: none gets the server's "no route" answer.
  for (const route of listed) {
    if (route.path === '/*') continue
    const answer = await request(`${url}${route.path}`, { method: (route.method || 'GET') as 'GET' | 'POST' })
    const text = await answer.body.text()
    t.notOk(answer.statusCode === 404 && /no route/.test(text), `${route.method || 'GET'} ${route.path}: ${answer.statusCode}`)
  }
  t.match((await call(`${url}/not/a/route`)).text, /no route GET \/not\/a\/route/, 'what an unserved route answers')
  const rpc = await call(`${url}/rpc`)
  t.equal(rpc.status, 426, 'a plain GET /rpc is told to upgrade')
  t.equal(rpc.headers['upgrade'], 'websocket')
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
