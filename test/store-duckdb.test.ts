// The DuckDB EventStore: the shared conformance suite, then what only the embedded store does (file lock, durability).
import t from 'tap'
import { join } from 'node:path'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { StoreLockedError } from '../src/errors.js'
import type { EventRecord } from '../src/model/event-record.js'
import type { RangeQuery } from '../src/store/event-store.js'
import { counterKey, keyBytes, readAll, sampleEvent, storeConformance } from './helpers/store-conformance.js'
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

// Again with tiny read pages, so every range read above crosses page boundaries; then also
// clustering on its own after most writes, so reads merge the clustered rows with the newer ones.
for (const [label, options] of [
  ['always the staged path', { appendMode: 'staged' }],
  ['3-event read pages', { readPageRows: 3 }],
  ['3-event read pages, clustering', { readPageRows: 3, clusterAfterRows: 1 }],
] as const) {
  storeConformance(
    t,
    `duckdb, ${label}`,
    async () => {
      const path = join(tempDir(t, 'ls-duckdb-'), 'events.duckdb')
      return {
        open: async () => {
          const store = new DuckDbEventStore({ path, threads: 1, ...options })
          await store.open()
          return store
        },
      }
    },
    { largeBucketEvents: 3_000, manyBuckets: 50 },
  )
}

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

t.test('the optimistic append and the staged path store the same rows and give the same counts', async (t) => {
  const dir = tempDir(t)
  const optimistic = new DuckDbEventStore({ path: join(dir, 'optimistic.duckdb'), threads: 1 })
  const staged = new DuckDbEventStore({ path: join(dir, 'staged.duckdb'), threads: 1, appendMode: 'staged' })
  await optimistic.open()
  await staged.open()
  t.teardown(async () => {
    await optimistic.close()
    await staged.close()
  })
  const full = (n: number, bucket = 'b'): EventRecord =>
    sampleEvent(bucket, counterKey(n), {
      type: n % 3 === 0 ? n : `t${n % 5}`,
      value: `{"n":${n},"s":"\\u0000é😀","x":1.0}`,
      clientTime: 1_700_000_000_000 + n,
      serverTime: 9_007_199_254_740_991 - n,
      originalClientTime: n % 2 === 0 ? null : 1_600_000_000_000 + n,
      userId: n % 4 === 0 ? null : `u\u0000${n}`,
      anonymousId: n % 5 === 0 ? `a${n}` : null,
      producer: n % 6 === 0 ? 'wk' : null,
      ip: n % 7 === 0 ? null : '203.0.113.9',
      source: 'post-events/json',
    })
  const range = (from: number, to: number, bucket?: string) => Array.from({ length: to - from }, (_, i) => full(from + i, bucket))
  const writes: EventRecord[][] = [
    range(0, 100), // new keys
    range(100, 150), // new keys again
    [...range(150, 160), ...range(95, 105)], // some stored already: the optimistic append meets them
    range(160, 170), // after a conflict (the next writes go the staged way)
    ...Array.from({ length: 10 }, (_, w) => range(200 + w * 10, 210 + w * 10, 'later')), // the last ones appended straight again
    [...range(170, 175), full(171), full(172, 'other')], // a duplicate inside the batch
    range(0, 5, 'later2'),
    [],
  ]
  for (const [index, events] of writes.entries()) {
    const checkpoints = [{ name: `cp/${index % 2}`, position: String(index) }]
    t.same(await optimistic.write({ events, checkpoints }), await staged.write({ events, checkpoints }), `write ${index}: same counts`)
  }
  const rows = (store: DuckDbEventStore) =>
    store.sql.query(
      'SELECT bucket, hex(key) AS key, type, type_is_code, value, client_time, server_time, original_client_time, user_id, anonymous_id, producer, ip, source FROM events ORDER BY bucket, key',
    )
  const stored = await rows(optimistic)
  t.equal(stored.length, 100 + 50 + 10 + 10 + 6 + 100 + 5, 'every new key once')
  t.same(stored, await rows(staged), 'the same rows, column by column')
  t.same(await optimistic.checkpoints(), await staged.checkpoints(), 'the same checkpoints')
  t.same(await readAll(optimistic, { bucket: 'b' }), await readAll(staged, { bucket: 'b' }), 'the same events read back')
  t.ok(optimistic.writePaths.appended >= 3, `the optimistic store appended straight (${optimistic.writePaths.appended} writes)`)
  t.equal(optimistic.writePaths.conflicts, 2, 'and met stored or repeated keys twice, starting over staged')
  t.ok(optimistic.writePaths.staged >= 2, 'the writes after a conflict took the staged path')
  t.equal(staged.writePaths.appended, 0, 'appendMode staged never appends straight')
  const ingested = await optimistic.sql.query<{ n: number }>('SELECT count(DISTINCT ingested_at) AS n FROM events')
  t.ok(ingested[0]!.n >= 1, 'ingested_at set by the optimistic append')
  t.same(await optimistic.sql.query('SELECT min(ingested_at) > 0 AS ok FROM events'), [{ ok: true }])
})

t.test('options are checked', async (t) => {
  t.throws(() => new DuckDbEventStore({ path: '' }), { code: 'LS_INVALID_OPTION' })
  t.throws(() => new DuckDbEventStore({ appendMode: 'fast' as never }), { code: 'LS_INVALID_OPTION' })
  t.throws(() => new DuckDbEventStore({ threads: 0 }), { code: 'LS_INVALID_OPTION' })
  const store = new DuckDbEventStore({ path: join(tempDir(t), 'x.duckdb') })
  await t.rejects(store.write({ events: [] }), { code: 'LS_INVALID_OPTION' }, 'write before open')
})

t.test('an unwritable path gives LS_STORE_UNAVAILABLE', async (t) => {
  const dir = tempDir(t)
  const store = new DuckDbEventStore({ path: join(dir, 'no', 'such', 'dir', 'events.duckdb') })
  await t.rejects(store.open(), { code: 'LS_STORE_UNAVAILABLE' })
})


/** The table's rows in storage order (no ORDER BY; one thread scans in order). */
async function storageOrder(store: DuckDbEventStore): Promise<string[]> {
  const rows = await store.sql.query<{ bucket: string; key: Uint8Array }>('SELECT bucket, key FROM events')
  return rows.map((r) => `${r.bucket}/${Buffer.from(r.key).toString('hex')}`)
}

function shuffledEvents(count: number): EventRecord[] {
  const events = Array.from({ length: count }, (_, i) => sampleEvent(`c${i % 3}`, counterKey((i * 7919) % count), { value: `{"i":${i}}` }))
  return events
}

t.test('cluster() rewrites the table in (bucket, key) order and keeps everything', async (t) => {
  const path = join(tempDir(t), 'events.duckdb')
  const store = new DuckDbEventStore({ path, threads: 1 })
  await store.open()
  const events = shuffledEvents(3000)
  for (let i = 0; i < events.length; i += 500) await store.write({ events: events.slice(i, i + 500), checkpoints: [{ name: 'cp', position: String(i) }] })
  const before = await Promise.all(['c0', 'c1', 'c2'].map((bucket) => readAll(store, { bucket })))
  const ingestedBefore = await store.sql.query('SELECT bucket, key, ingested_at FROM events ORDER BY bucket, key')
  const sorted = [...(await storageOrder(store))].sort()
  t.not((await storageOrder(store)).join(), sorted.join(), 'written out of order')

  const result = await store.cluster()
  t.equal(result.rows, 3000)
  t.same(await storageOrder(store), sorted, 'stored in (bucket, key) order after cluster()')
  t.same(await Promise.all(['c0', 'c1', 'c2'].map((bucket) => readAll(store, { bucket }))), before, 'reads return the same')
  t.same(await store.sql.query('SELECT bucket, key, ingested_at FROM events ORDER BY bucket, key'), ingestedBefore, 'ingested_at kept')
  t.same(await store.write({ events: events.slice(0, 10) }), { stored: 0, duplicates: 10 }, 'the primary key still deduplicates')
  t.same(await store.write({ events: [sampleEvent('c0', counterKey(5000))] }), { stored: 1, duplicates: 0 })
  t.same(await store.checkpoints(), [{ name: 'cp', position: '2500' }])
  await store.close()

  const reopened = new DuckDbEventStore({ path, threads: 1 })
  await reopened.open()
  t.teardown(() => reopened.close())
  t.same(await reopened.buckets(), [{ bucket: 'c0', count: 1001 }, { bucket: 'c1', count: 1000 }, { bucket: 'c2', count: 1000 }], 'after reopen')
  t.same(await reopened.write({ events: events.slice(100, 110) }), { stored: 0, duplicates: 10 })
})

t.test('a read under way when cluster() runs sees its snapshot to the end', async (t) => {
  const store = new DuckDbEventStore({ path: join(tempDir(t), 'events.duckdb'), threads: 1, readPageRows: 10 })
  await store.open()
  t.teardown(() => store.close())
  await store.write({ events: shuffledEvents(900) })
  const seen: number[] = []
  let clustered: Promise<unknown> | undefined
  for await (const event of store.read({ bucket: 'c1' })) {
    seen.push(event.key[4]! + (event.key[3]! << 8))
    if (seen.length === 25) {
      clustered = store.cluster()
      await store.write({ events: [sampleEvent('c1', counterKey(100_000))] })
    }
  }
  await clustered
  const expected = (await readAll(store, { bucket: 'c1', to: counterKey(100_000) })).map((e) => e.key[4]! + (e.key[3]! << 8))
  t.equal(expected.length, 300)
  t.same(seen, expected, 'every event of the snapshot once, in order; not the one written after it began')
})

t.test('clusterAfterRows clusters on its own once enough unordered rows came in', async (t) => {
  const store = new DuckDbEventStore({ path: join(tempDir(t), 'events.duckdb'), threads: 1, clusterAfterRows: 500 })
  await store.open()
  t.teardown(() => store.close())
  const events = shuffledEvents(900)
  await store.write({ events: events.slice(0, 400) })
  await store.whenClustered()
  t.not((await storageOrder(store)).join(), [...(await storageOrder(store))].sort().join(), '400 rows: not yet')
  await store.write({ events: events.slice(400, 900) })
  await store.whenClustered()
  t.same(await storageOrder(store), [...(await storageOrder(store))].sort(), '900 rows: clustered')
  t.equal(store.lastClusterError, undefined)
})

t.test('reads merge the clustered rows with the rows stored after cluster()', async (t) => {
  const store = new DuckDbEventStore({ path: join(tempDir(t), 'events.duckdb'), threads: 1, readPageRows: 7 })
  await store.open()
  t.teardown(() => store.close())
  const order = (n: number) => (n * 7919) % 500
  // Even keys, then cluster(), then odd keys: every range interleaves both parts.
  await store.write({ events: Array.from({ length: 500 }, (_, i) => sampleEvent('m', counterKey(order(i) * 2), { serverTime: order(i) * 2 })) })
  await store.cluster()
  await store.write({ events: Array.from({ length: 500 }, (_, i) => sampleEvent('m', counterKey(order(i) * 2 + 1), { serverTime: order(i) * 2 + 1 })) })
  const ids = async (query: Omit<RangeQuery, 'bucket'>) => (await readAll(store, { bucket: 'm', ...query })).map((e) => e.serverTime)
  const span = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)
  t.same(await ids({}), span(0, 1000), 'whole bucket')
  t.same(await ids({ from: counterKey(101), to: counterKey(150) }), span(101, 150))
  t.same(await ids({ after: counterKey(101), limit: 20 }), span(102, 122))
  t.same(await ids({ from: counterKey(990) }), span(990, 1000))
  t.same(await ids({ serverTimeFrom: 10, serverTimeTo: 30, limit: 15 }), span(10, 25))
  t.same(await store.write({ events: [sampleEvent('m', counterKey(3)), sampleEvent('m', counterKey(4))] }), { stored: 0, duplicates: 2 }, 'both parts deduplicate')
})

t.test('close() during a read ends the read with LS_CLOSED', async (t) => {
  const store = new DuckDbEventStore({ path: join(tempDir(t), 'events.duckdb'), threads: 1, readPageRows: 100 })
  await store.open()
  await store.write({ events: Array.from({ length: 1000 }, (_, i) => sampleEvent('b', counterKey(i))) })
  let seen = 0
  const reading = (async () => {
    for await (const _ of store.read({ bucket: 'b' })) {
      if (++seen === 10) await store.close()
    }
  })()
  await t.rejects(reading, { code: 'LS_CLOSED' })
  t.ok(seen >= 10 && seen <= 100, `stopped within the page under way (${seen} events)`)
  await t.rejects(async () => {
    for await (const _ of store.read({ bucket: 'b' })) break
  }, { code: 'LS_CLOSED' }, 'a read after close()')
})

t.test('writes go on while cluster() builds its copy, and none is lost in the swap', async (t) => {
  const path = join(tempDir(t), 'events.duckdb')
  const store = new DuckDbEventStore({ path, threads: 1, clusterAfterRows: 0 })
  await store.open()
  await store.write({ events: shuffledEvents(3000) })
  const clustering = store.cluster()
  t.equal(store.cluster(), clustering, 'a second call while one runs gets the same one')
  const writes: Promise<unknown>[] = []
  for (let w = 0; w < 10; w++) {
    writes.push(store.write({ events: Array.from({ length: 100 }, (_, i) => sampleEvent('during', counterKey(((w * 100 + i) * 7) % 1000))) }))
  }
  const [result] = await Promise.all([clustering, ...writes])
  t.equal((result as { rows: number }).rows, 4000)
  const expected = [{ bucket: 'c0', count: 1000 }, { bucket: 'c1', count: 1000 }, { bucket: 'c2', count: 1000 }, { bucket: 'during', count: 1000 }]
  t.same(await store.buckets(), expected)
  t.same((await readAll(store, { bucket: 'during' })).map((e) => e.key[4]! + (e.key[3]! << 8)), Array.from({ length: 1000 }, (_, i) => i), 'in key order')
  await store.close()
  const reopened = new DuckDbEventStore({ path, threads: 1 })
  await reopened.open()
  t.teardown(() => reopened.close())
  t.same(await reopened.buckets(), expected, 'after reopen')
  await reopened.cluster()
  t.same(await storageOrder(reopened), [...(await storageOrder(reopened))].sort(), 'a second cluster() sorts them all')
  t.same((await readAll(reopened, { bucket: 'c1', from: counterKey(2000), limit: 5 })).map((e) => e.key[4]! + (e.key[3]! << 8)), [2000, 2003, 2006, 2009, 2012].map((n) => n % 65536))
})
