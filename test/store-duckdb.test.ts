// The DuckDB EventStore: the shared conformance suite, then what only the embedded store does (file lock, durability).
import t from 'tap'
import { join } from 'node:path'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { StoreLockedError } from '../src/errors.js'
import { openEventStore } from '../src/store/open-store.js'
import { keyBytes, readAll, sampleEvent, storeConformance } from './helpers/store-conformance.js'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

storeConformance(t, 'duckdb', async () => {
  const path = join(tempDir(t, 'ls-duckdb-'), 'events.duckdb')
  return {
    open: async () => {
      const store = new DuckDbEventStore({ path, threads: 1 })
      await store.open()
      return store
    },
  }
})

const CHILD = new URL('./helpers/duckdb-store-child.mjs', import.meta.url).pathname

t.test('a second process on the same file gets LS_STORE_LOCKED, and the first keeps working', async (t) => {
  const path = join(tempDir(t), 'events.duckdb')
  const store = new DuckDbEventStore({ path, threads: 1 })
  await store.open()
  t.teardown(() => store.close())
  await store.write({ events: [sampleEvent('lock', keyBytes(0x34, 1))] })

  const child = spawnNode(t, [CHILD, path, 'open'])
  const line = await child.waitForJson<{ error?: string; message?: string; opened?: boolean }>((l) => 'error' in l || 'opened' in l)
  t.equal(line.error, 'LS_STORE_LOCKED', 'the second process is refused with the code')
  t.match(line.message, path, 'the message names the file')
  t.equal(await child.exited, 0, 'the second process exits normally, no crash')

  t.same(await store.write({ events: [sampleEvent('lock', keyBytes(0x34, 2))] }), { stored: 1, duplicates: 0 }, 'the first process still writes')
  t.equal((await readAll(store, { bucket: 'lock' })).length, 2)

  await t.rejects(new DuckDbEventStore({ path }).open(), { code: 'LS_STORE_LOCKED' }, 'a second store in the same process is refused too')
})

t.test('a file held by another process: open fails with LS_STORE_LOCKED until that process dies', async (t) => {
  const path = join(tempDir(t), 'events.duckdb')
  const holder = spawnNode(t, [CHILD, path, 'hold'])
  await holder.waitForJson((l) => 'opened' in l)
  const refused = new DuckDbEventStore({ path })
  const error = await refused.open().then(() => undefined, (e: unknown) => e)
  t.ok(error instanceof StoreLockedError, 'StoreLockedError')
  t.equal((error as StoreLockedError).path, path)
  await refused.close()

  await holder.stop('SIGKILL')
  const store = new DuckDbEventStore({ path })
  await store.open()
  t.teardown(() => store.close())
  t.same(await store.buckets(), [], 'opens once the holder is gone')
})

t.test('every acknowledged write survives kill -9 of the writer, exactly once, with its checkpoint', async (t) => {
  const path = join(tempDir(t), 'events.duckdb')
  const writer = spawnNode(t, [CHILD, path, 'write'])
  await writer.waitForJson((l) => l['acked'] === 30)
  writer.process.kill('SIGKILL')
  await writer.exited
  const acked = Math.max(...writer.output().split('\n').filter((l) => l.startsWith('{"acked"')).map((l) => JSON.parse(l).acked as number))
  t.ok(acked >= 30, `${acked + 1} batches acknowledged before the kill`)

  const store = new DuckDbEventStore({ path })
  await store.open()
  t.teardown(() => store.close())
  const events = await readAll(store, { bucket: 'durable' })
  const [checkpoint] = await store.checkpoints('child')
  const committed = Number(checkpoint!.position)
  t.ok(committed >= acked, `checkpoint ${committed} covers every acknowledged batch (last acked ${acked})`)
  t.equal(events.length, (committed + 1) * 50, 'exactly the events of the committed batches: none lost, none half-written')
  const values = events.map((e) => JSON.parse(e.value) as { batch: number; i: number })
  t.ok(values.every((v, n) => v.batch * 50 + v.i === n), 'each event once, in key order')
  t.same(await store.write({ events: events.slice(0, 5) }), { stored: 0, duplicates: 5 }, 'the key index survived too')
})

t.test('options are checked', async (t) => {
  t.throws(() => new DuckDbEventStore({ path: '' }), { code: 'LS_INVALID_OPTION' })
  t.throws(() => new DuckDbEventStore({ threads: 0 }), { code: 'LS_INVALID_OPTION' })
  const store = new DuckDbEventStore({ path: join(tempDir(t), 'x.duckdb') })
  await t.rejects(store.write({ events: [] }), { code: 'LS_INVALID_OPTION' }, 'write before open')
})

t.test('an unwritable path gives LS_STORE_UNAVAILABLE', async (t) => {
  const dir = tempDir(t)
  const store = new DuckDbEventStore({ path: join(dir, 'no', 'such', 'dir', 'events.duckdb') })
  await t.rejects(store.open(), { code: 'LS_STORE_UNAVAILABLE' })
})

t.test('openEventStore picks the backend from options', async (t) => {
  const path = join(tempDir(t), 'picked.duckdb')
  const store = await openEventStore({ db: path, duckdb: { threads: 1 } })
  t.teardown(() => store.close())
  t.equal(store.kind, 'duckdb')
  t.equal((store as DuckDbEventStore).path, path)
  t.same(await store.write({ events: [sampleEvent('picked', keyBytes(0x31))] }), { stored: 1, duplicates: 0 })
  await t.rejects(openEventStore({ db: path, clickhouse: 'http://127.0.0.1:8123' }), { code: 'LS_INVALID_OPTION', message: /exclude each other/ })
  await t.rejects(openEventStore({ clickhouse: '127.0.0.1:8123' }), { code: 'LS_INVALID_OPTION', message: /http/ })
})
