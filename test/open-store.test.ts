// openEventStore picks the backend from the `events` command's options: DuckDB by default, ClickHouse by URL.
import t from 'tap'
import { join } from 'node:path'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { openEventStore } from '../src/store/open-store.js'
import { clickhouseSkip, startClickHouse } from './helpers/clickhouse-server.js'
import { keyBytes, readAll, sampleEvent } from './helpers/store-conformance.js'
import { tempDir } from './helpers/temp.js'

t.test('a DuckDB file by path', async (t) => {
  const path = join(tempDir(t), 'picked.duckdb')
  const store = await openEventStore({ db: path, duckdb: { threads: 1 } })
  t.teardown(() => store.close())
  t.equal(store.kind, 'duckdb')
  t.ok(store instanceof DuckDbEventStore)
  t.equal((store as DuckDbEventStore).path, path)
  t.same(await store.write({ events: [sampleEvent('picked', keyBytes(0x31))] }), { stored: 1, duplicates: 0 })
  t.equal((await readAll(store, { bucket: 'picked' })).length, 1, 'opened: it writes and reads')
})

t.test('./events.duckdb with neither option', async (t) => {
  const dir = tempDir(t)
  const cwd = process.cwd()
  process.chdir(dir)
  t.teardown(() => process.chdir(cwd))
  const store = await openEventStore()
  t.teardown(() => store.close())
  t.equal((store as DuckDbEventStore).path, join(dir, 'events.duckdb'))
})

t.test('bad combinations are refused before anything opens', async (t) => {
  await t.rejects(openEventStore({ db: 'x.duckdb', clickhouse: 'http://127.0.0.1:8123' }), { code: 'LS_INVALID_OPTION', message: /exclude each other/ })
  await t.rejects(openEventStore({ clickhouse: '127.0.0.1:8123' }), { code: 'LS_INVALID_OPTION', message: /http/ })
})

t.test('ClickHouse by URL, the path naming the database', { skip: clickhouseSkip() }, async (t) => {
  const server = await startClickHouse(t)
  const store = await openEventStore({ clickhouse: `${server.url}/picked_${process.pid}` })
  t.teardown(() => store.close())
  t.equal(store.kind, 'clickhouse')
  t.same(await store.write({ events: [sampleEvent('picked', keyBytes(0x31)), sampleEvent('picked', keyBytes(0x32))] }), { stored: 2, duplicates: 0 })
  t.same((await readAll(store, { bucket: 'picked' })).map((e) => Buffer.from(e.key).toString('hex')), ['31', '32'])
  const [row] = await store.sql.query<{ n: number }>(`SELECT count(*) AS n FROM picked_${process.pid}.events`)
  t.equal(row!.n, 2, 'in the database the URL named')
})
