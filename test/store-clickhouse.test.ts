// The ClickHouse EventStore against a real clickhouse-server (a child process):
// the shared conformance suite on one server, then what only this backend does.
// The two-shard cluster runs in test/store-clickhouse-cluster.test.ts.
import t, { type Test } from 'tap'
import { createClient } from '@clickhouse/client'
import { ClickHouseEventStore, clickHouseMessage } from '../src/store/clickhouse/clickhouse-store.js'
import { clickhouseMissing, clickhouseSkip, startClickHouse, type ClickHouseServer } from './helpers/clickhouse-server.js'
import { counterKey, keyBytes, readAll, sampleEvent, storeConformance } from './helpers/store-conformance.js'

const skip = clickhouseSkip()
const missing = clickhouseMissing()

if (skip) {
  t.test('ClickHouse store', { skip }, () => {})
} else if (missing) {
  // Under CI a missing server is a failure, not a skip.
  t.fail(`clickhouse-server is required under CI: ${missing}`)
} else {
  let started: Promise<ClickHouseServer> | undefined
  const server = (): Promise<ClickHouseServer> => (started ??= startClickHouse(t))
  let databases = 0
  const freshDatabase = () => `conformance_${process.pid}_${++databases}`

  storeConformance(t, 'clickhouse', async () => {
    const { url } = await server()
    const database = freshDatabase()
    return {
      open: async () => {
        const store = new ClickHouseEventStore({ url, database })
        await store.open()
        return store
      },
    }
  })

  async function openStore(t: Test, options: { database?: string; readPageSize?: number } = {}): Promise<ClickHouseEventStore> {
    const { url } = await server()
    const store = new ClickHouseEventStore({ url, database: options.database ?? freshDatabase(), readPageSize: options.readPageSize })
    await store.open()
    t.teardown(() => store.close())
    return store
  }

  t.test('keys with every byte value survive, and order as bytes', async (t) => {
    const store = await openStore(t)
    // Bytes that JSON text would mangle (>= 0x80), and the ones TSV escapes (tab, newline, backslash).
    const keys = Array.from({ length: 256 }, (_, b) => keyBytes(0x34, b, 0x09, 0x0a, 0x5c, 0x00, 0xff - b))
    await store.write({ events: [...keys].reverse().map((key, i) => sampleEvent('bytes', key, { value: `{"i":${i}}` })) })
    const read = await readAll(store, { bucket: 'bytes' })
    t.same(read.map((e) => Buffer.from(e.key).toString('hex')), keys.map((k) => Buffer.from(k).toString('hex')))
    const [row] = await store.sql.query<{ n: number }>(`SELECT count() AS n FROM events WHERE key >= ${store.sql.literal(keyBytes(0x34, 0x80))} AND key < ${store.sql.literal(keyBytes(0x34, 0x81))}`)
    t.equal(row!.n, 1, 'a bytes literal selects by raw bytes')
  })

  t.test('a range read pages through the bucket in key order', async (t) => {
    // A page size of 7 makes every read cross page boundaries, with filters on and off.
    const store = await openStore(t, { readPageSize: 7 })
    const events = Array.from({ length: 100 }, (_, i) => sampleEvent('pages', counterKey(i), { type: i % 2 ? 'odd' : 'even', serverTime: i }))
    await store.write({ events: events.slice(50) })
    await store.write({ events: events.slice(0, 50) })
    const ids = async (query: object) => (await readAll(store, { bucket: 'pages', ...query })).map((e) => e.serverTime)
    const span = (from: number, to: number, step = 1) => Array.from({ length: Math.ceil((to - from) / step) }, (_, i) => from + i * step)
    t.same(await ids({}), span(0, 100))
    t.same(await ids({ limit: 20 }), span(0, 20))
    t.same(await ids({ types: ['odd'] }), span(1, 100, 2))
    t.same(await ids({ types: ['odd'], limit: 9, after: counterKey(40) }), span(41, 59, 2))
    t.same(await ids({ serverTimeFrom: 33, serverTimeTo: 47 }), span(33, 47))
  })

  t.test('a key two writers raced in twice is read once: the first write', async (t) => {
    const store = await openStore(t)
    const keys = Array.from({ length: 10 }, (_, i) => counterKey(i))
    await store.write({ events: keys.map((key) => sampleEvent('race', key, { value: '{"by":"first"}', serverTime: 1_000 })) })
    // What a second writer that looked before the first one inserted would add: the same keys, ingested later.
    const q = (v: string | number | null | Uint8Array) => store.sql.literal(v)
    const later = Date.now() + 60_000
    const rows = keys.map((key) => `('race', ${q(key)}, 'page', 0, '{"by":"second"}', 0, 5, NULL, NULL, NULL, NULL, NULL, 'test', ${later})`)
    await store.sql.exec(
      `INSERT INTO events (bucket, key, type, type_is_code, value, client_time, server_time, original_client_time, user_id, anonymous_id, producer, ip, source, ingested_at) VALUES ${rows.join(', ')}`,
    )
    const [raw] = await store.sql.query<{ n: number }>("SELECT count() AS n FROM events WHERE bucket = 'race'")
    t.equal(raw!.n, 20, 'the table holds both writes')
    const read = await readAll(store, { bucket: 'race' })
    t.same(read.map((e) => e.value), keys.map(() => '{"by":"first"}'), 'one event per key, the first write')
    t.same(await readAll(store, { bucket: 'race', serverTimeTo: 10 }), [], 'a filter sees the first write, not the later copy')
    t.same(await store.buckets(), [{ bucket: 'race', count: 10 }])
    t.same(await store.write({ events: keys.map((key) => sampleEvent('race', key)) }), { stored: 0, duplicates: 10 })
    // Background merges keep the same row FINAL does.
    await store.sql.exec('OPTIMIZE TABLE events FINAL')
    const kept = await store.sql.query<{ value: string }>("SELECT value FROM events WHERE bucket = 'race'")
    t.same(kept.map((r) => r.value), keys.map(() => '{"by":"first"}'), 'a merge keeps the first write')
  })

  t.test('a replay after a crash between events and checkpoint stores every event once', async (t) => {
    const database = freshDatabase()
    const first = await openStore(t, { database })
    const events = Array.from({ length: 30 }, (_, i) => sampleEvent('replay', counterKey(i)))
    // The crash: events of the batch landed, its checkpoint did not.
    await first.write({ events: events.slice(0, 20) })
    await first.close()
    const second = await openStore(t, { database })
    t.same(await second.checkpoints(), [], 'no checkpoint: the tailer starts the batch again')
    const replay = {
      events,
      checkpoints: [{ name: 'dir:/b/srv', position: '{"batch":1}' }],
      rejects: [{ origin: 'tail:srv/9', time: 5, method: 'POST', path: '/x', contentType: 'text/plain', reason: 'no-decoder', message: 'm', body: Uint8Array.of(1) }],
    }
    t.same(await second.write(replay), { stored: 10, duplicates: 20 })
    t.same(await second.write(replay), { stored: 0, duplicates: 30 }, 'and again')
    t.equal((await readAll(second, { bucket: 'replay' })).length, 30)
    t.equal((await second.rejects()).length, 1, 'a replayed reject of the same tailed request is kept once')
    t.same(await second.checkpoints(), [{ name: 'dir:/b/srv', position: '{"batch":1}' }])
  })

  t.test('errors: unreachable server, bad options, SQL errors', async (t) => {
    const { url } = await server()
    const unreachable = new ClickHouseEventStore({ url: 'http://127.0.0.1:1', database: 'x', requestTimeoutMs: 5_000 })
    await t.rejects(unreachable.open(), { code: 'LS_STORE_UNAVAILABLE' })
    t.throws(() => new ClickHouseEventStore({ database: 'bad-name' }), { code: 'LS_INVALID_OPTION' })
    t.throws(() => new ClickHouseEventStore({ url: 'ftp://x' }), { code: 'LS_INVALID_OPTION' })
    t.throws(() => new ClickHouseEventStore({ clusterNodes: [url] }), { code: 'LS_INVALID_OPTION' }, 'clusterNodes needs cluster')
    const store = await openStore(t)
    await t.rejects(store.sql.query('SELECT * FROM no_such_table'), /ClickHouse error 60: .*no_such_table/)
    await t.rejects(store.sql.exec('CREATE TABLE broken ('), /ClickHouse error 62: Syntax error/)
    const wrongUser = new ClickHouseEventStore({ url, database: freshDatabase(), username: 'nobody' })
    await t.rejects(wrongUser.open(), { code: 'LS_STORE_UNAVAILABLE', message: /nobody/ })
    const noCluster = new ClickHouseEventStore({ url, database: freshDatabase(), cluster: 'no_such_cluster' })
    await t.rejects(noCluster.open(), { code: 'LS_STORE_UNAVAILABLE', message: /no_such_cluster/ })
  })

  t.test('the URL names the database (its path) and the credentials', async (t) => {
    const { url } = await server()
    const named = new ClickHouseEventStore({ url: `http://default:@${url.slice('http://'.length)}/from_url_path` })
    t.equal(named.database, 'from_url_path')
    t.equal(new ClickHouseEventStore({ url: `${url}/from_url_path`, database: 'option_wins' }).database, 'option_wins')
    await named.open()
    t.teardown(() => named.close())
    t.same(await named.sql.query('SELECT currentDatabase() AS db'), [{ db: 'from_url_path' }])
  })

  t.test('the store is usable through any client: plain SQL sees the columns', async (t) => {
    const store = await openStore(t)
    await store.write({ events: [sampleEvent('plain', keyBytes(0x34, 0xc3, 0xa9), { type: 7, userId: 'u1' })] })
    const client = createClient({ url: (await server()).url, database: store.database })
    t.teardown(() => client.close())
    const rows = await (await client.query({ query: 'SELECT hex(key) AS k, type, type_is_code, user_id FROM events', format: 'JSONEachRow' })).json()
    t.same(rows, [{ k: '34C3A9', type: '7', type_is_code: 1, user_id: 'u1' }])
  })

  t.test('clickHouseMessage reads both error styles', async (t) => {
    t.equal(
      clickHouseMessage(new Error("Code: 60, e.displayText() = DB::Exception: Table x.y doesn't exist., e.what() = DB::Exception")),
      "ClickHouse error 60: Table x.y doesn't exist.",
    )
    t.equal(
      clickHouseMessage(new Error("Code: 60. DB::Exception: Table x.y does not exist. (UNKNOWN_TABLE) (version 24.3.1.1)")),
      'ClickHouse error 60: Table x.y does not exist. (UNKNOWN_TABLE)',
    )
    t.equal(clickHouseMessage(new Error('connect ECONNREFUSED')), 'connect ECONNREFUSED')
  })

  t.test('what write() acknowledged survives a restart of the server', async (t) => {
    const own = await startClickHouse(t)
    const database = freshDatabase()
    const events = Array.from({ length: 100 }, (_, i) => sampleEvent('kept', counterKey(i), { value: `{"i":${i}}` }))
    const store = new ClickHouseEventStore({ url: own.url, database })
    await store.open()
    await store.write({ events, checkpoints: [{ name: 'c', position: '1' }] })
    await store.close()
    await own.restart()
    const again = new ClickHouseEventStore({ url: own.url, database })
    await again.open()
    t.teardown(() => again.close())
    t.same((await readAll(again, { bucket: 'kept' })).map((e) => e.value), events.map((e) => e.value))
    t.same(await again.checkpoints(), [{ name: 'c', position: '1' }])
    t.match(own.log(), /Ready for connections/, 'the helper keeps the server log')
  })
}
