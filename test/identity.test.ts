// Identity (seed 002): profiles merged by events carrying both ids, whichever id is asked for,
// two devices merged in either order; seed 002's Grouparoo workflow end to end over HTTP.
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { encodeKey } from '../src/formats/keyjson.js'
import { Identity } from '../src/ingest/identity.js'
import { WriteKeys } from '../src/ingest/write-keys.js'
import { eventRecord, type EventRecord } from '../src/model/event-record.js'
import { EventServer } from '../src/servers/event-server.js'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { tempDir } from './helpers/temp.js'

function event(key: string, clientTime: number, userId: string | null, anonymousId: string | null): EventRecord {
  return eventRecord({ bucket: 'app', key: encodeKey(key), type: 't', value: '{}', clientTime, serverTime: clientTime, userId, anonymousId, source: 'test' })
}

async function openStore(t: Test) {
  const store = new DuckDbEventStore({ path: join(tempDir(t), 'events.duckdb') })
  await store.open()
  t.teardown(() => store.close())
  return store
}

// Device A browses as anon-A, device B as anon-B; the user signs in on both (merge A, merge B).
const browsingA = [event('a1', 1, null, 'anon-A'), event('a2', 2, null, 'anon-A')]
const browsingB = [event('b1', 3, null, 'anon-B')]
const mergeA = event('mA', 10, 'user-1', 'anon-A')
const mergeB = event('mB', 11, 'user-1', 'anon-B')
const later = [event('a3', 20, null, 'anon-A'), event('u1', 21, 'user-1', null)]
const stranger = [event('s1', 5, null, 'anon-S'), event('s2', 6, 'user-2', 'anon-S')]

for (const [name, order] of [
  ['merge A then B', [mergeA, mergeB]],
  ['merge B then A', [mergeB, mergeA]],
] as const) {
  t.test(`two devices, ${name}: one profile, whichever id is asked, in one write or many`, async (t) => {
    const store = await openStore(t)
    const identity = new Identity(store.sql)
    for (const batch of [browsingB, [order[0]], stranger, browsingA, [order[1]], later]) await store.write({ events: batch })
    for (const id of ['anon-A', 'anon-B', 'user-1']) {
      const profile = await identity.profile(id)
      t.match(profile, { id: 'user-1', ids: ['anon-A', 'anon-B', 'user-1'], userIds: ['user-1'], anonymousIds: ['anon-A', 'anon-B'], events: 7, firstSeen: 1, lastSeen: 21, truncated: false }, `asked for ${id}`)
      const events = await identity.events(profile!, { limit: 100 })
      t.same(events.map((e) => e.clientTime), [1, 2, 3, 10, 11, 20, 21], 'the merged history by client time')
    }
    t.match(await identity.profile('anon-S'), { id: 'user-2', ids: ['anon-S', 'user-2'], events: 2 }, 'another user stays apart')
    t.equal(await identity.profile('nobody'), undefined)
  })
}

t.test('before the merge the devices are separate profiles; paging; the walk stops at maxIds', async (t) => {
  const store = await openStore(t)
  await store.write({ events: [...browsingA, ...browsingB] })
  const identity = new Identity(store.sql)
  t.same((await identity.profile('anon-A'))!.ids, ['anon-A'])
  await store.write({ events: [mergeA, mergeB] })
  const profile = (await identity.profile('anon-A'))!
  const first = await identity.events(profile, { limit: 2 })
  const rest = await identity.events(profile, { limit: 10, after: { clientTime: first[1]!.clientTime, bucket: first[1]!.bucket, keyHex: first[1]!.keyHex } })
  t.same([...first, ...rest].map((e) => e.clientTime), [1, 2, 3, 10, 11])
  t.match(await new Identity(store.sql, 2).profile('anon-A'), { truncated: true })
})

t.test('seed 002 over HTTP: Grouparoo pageview as person_1, sign-in with userId 123, merged history from /api/profiles', async (t) => {
  const store = new DuckDbEventStore({ path: join(tempDir(t), 'events.duckdb') })
  await store.open()
  const server = new EventServer({ store })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  const key = await new WriteKeys(store).create({ name: 'Web API', bucket: 'web' })
  // As @grouparoo/client-web posts (fetch, JSON, `ocurredAt`), with the key in its `path` option's query.
  const post = (body: object) => fetch(`${url}/api/v1/track?apiKey=${key.key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const pageview = await post({ type: 'pageview', data: { path: '/', utm_source: 'google' }, anonymousId: 'person_1', ocurredAt: '2023-11-14T22:13:00.000Z' })
  t.equal(pageview.status, 200)
  t.same(await pageview.json(), { success: true })
  t.equal((await post({ type: 'sign-in', data: { via: 'google-sign-in' }, anonymousId: 'person_1', userId: 123, ocurredAt: '2023-11-14T22:14:00.000Z' })).status, 200)
  const unsigned = await fetch(`${url}/api/v1/track`, { method: 'POST', body: JSON.stringify({ type: 'x', anonymousId: 'a' }) })
  t.equal(unsigned.status, 401, 'without a key')

  const profile = (await (await fetch(`${url}/api/profiles/person_1`)).json()) as Record<string, unknown>
  t.match(profile, { id: '123', ids: ['123', 'person_1'], events: 2 })
  const history = (await (await fetch(`${url}/api/profiles/123/events`)).json()) as { profile: string; events: Record<string, unknown>[] }
  t.equal(history.profile, '123')
  t.match(history.events, [
    { bucket: 'web', type: 'pageview', value: { path: '/', utm_source: 'google' }, clientTime: Date.parse('2023-11-14T22:13:00.000Z'), anonymousId: 'person_1', userId: null, producer: 'Web API', source: 'grouparoo', ip: '127.0.0.1' },
    { type: 'sign-in', value: { via: 'google-sign-in' }, userId: '123', anonymousId: 'person_1' },
  ])
  t.match(history.events[0]!.key, /^evt_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'the seed\'s evt_ + UUIDv4 guid')
  t.equal((await fetch(`${url}/api/profiles/nobody`)).status, 404)
  t.equal((await fetch(`${url}/api/profiles/123/events?limit=0`)).status, 400)
})
