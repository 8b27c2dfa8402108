// Write keys and identity on the ClickHouse dialect, against a real clickhouse-server (a child process),
// and a real Segment client through an EventServer on ClickHouse.
import t from 'tap'
import { encodeKey } from '../src/formats/keyjson.js'
import { Identity } from '../src/ingest/identity.js'
import { WriteKeys, hashWriteKey } from '../src/ingest/write-keys.js'
import { eventRecord } from '../src/model/event-record.js'
import { EventServer } from '../src/servers/event-server.js'
import { ClickHouseEventStore } from '../src/store/clickhouse/clickhouse-store.js'
import { segmentClient } from './helpers/analytics-clients.js'
import { clickhouseMissing, clickhouseSkip, startClickHouse } from './helpers/clickhouse-server.js'

const skip = clickhouseSkip()
const missing = clickhouseMissing()

if (skip) {
  t.test('ingestion on ClickHouse', { skip }, () => {})
} else if (missing) {
  t.fail(`clickhouse-server is required under CI: ${missing}`)
} else {
  t.test('write keys, identity and a Segment client on ClickHouse', async (t) => {
    const { url } = await startClickHouse(t)
    const store = new ClickHouseEventStore({ url, database: `ingestion_${process.pid}` })
    await store.open()

    const keys = new WriteKeys(store, { cacheMs: 0 })
    const web = await keys.create({ name: 'Web API', bucket: 'web' })
    const old = await keys.create({ name: 'Old', bucket: 'web' })
    t.same(await keys.check(web.key), { id: web.id, name: 'Web API', bucket: 'web' })
    await keys.revoke('Old')
    await t.rejects(keys.check(old.key), { code: 'LS_WRITE_KEY', reason: 'revoked' })
    await keys.revoke(old.id) // twice: no error, no second row seen
    const list = await keys.list()
    t.same(list.map((k) => [k.name, k.revokedAt === null]), [['Web API', true], ['Old', false]], 'one row per key after a revoke (FINAL)')
    const rows = await store.sql.query<Record<string, unknown>>('SELECT key_hash FROM write_keys')
    t.ok(rows.some((row) => row['key_hash'] === hashWriteKey(web.key)))
    t.notMatch(JSON.stringify(rows), web.key.slice(4))

    const event = (key: string, time: number, userId: string | null, anonymousId: string | null) =>
      eventRecord({ bucket: 'app', key: encodeKey(key), type: 't', value: '{"k":1}', clientTime: time, serverTime: time, userId, anonymousId, source: 'test' })
    await store.write({ events: [event('a1', 1, null, 'dev-A'), event('mB', 5, 'u', 'dev-B')] })
    await store.write({ events: [event('b1', 2, null, 'dev-B'), event('mA', 6, 'u', 'dev-A')] })
    await store.write({ events: [event('a1', 1, null, 'dev-A')] }) // a duplicate must not count twice
    const identity = new Identity(store.sql)
    const profile = await identity.profile('dev-A')
    t.match(profile, { id: 'u', ids: ['dev-A', 'dev-B', 'u'], events: 4, firstSeen: 1, lastSeen: 6 })
    t.same((await identity.events(profile!, { limit: 10 })).map((e) => [e.clientTime, e.value]), [[1, '{"k":1}'], [2, '{"k":1}'], [5, '{"k":1}'], [6, '{"k":1}']])

    const server = new EventServer({ store })
    const base = await server.listen(0, '127.0.0.1')
    t.teardown(() => server.close())
    const segment = segmentClient(base, web.key)
    segment.client.identify({ userId: 'ch-user', anonymousId: 'ch-anon', traits: { plan: 'pro' } })
    await segment.client.closeAndFlush()
    t.same(segment.statuses, [200])
    const answer = (await (await fetch(`${base}/api/profiles/ch-anon/events`)).json()) as { profile: string; events: { value: unknown; producer: string }[] }
    t.equal(answer.profile, 'ch-user')
    t.match(answer.events, [{ value: { plan: 'pro' }, producer: 'Web API' }])
  })
}
