// The ClickHouse EventStore on a real two-shard cluster (two clickhouse-server
// child processes, remote_servers on both): the shared conformance suite
// through the Distributed table, then scale-out seen from each shard.
import t, { type Test } from 'tap'
import { createClient } from '@clickhouse/client'
import { ClickHouseEventStore } from '../src/store/clickhouse/clickhouse-store.js'
import type { EventRecord } from '../src/model/event-record.js'
import { clickhouseMissing, clickhouseSkip, startClickHouseCluster, type ClickHouseCluster } from './helpers/clickhouse-server.js'
import { counterKey, readAll, sampleEvent, storeConformance } from './helpers/store-conformance.js'

const skip = clickhouseSkip()
const missing = clickhouseMissing()

if (skip) {
  t.test('ClickHouse cluster store', { skip }, () => {})
} else if (missing) {
  t.fail(`clickhouse-server is required under CI: ${missing}`)
} else {
  let started: Promise<ClickHouseCluster> | undefined
  const cluster = (): Promise<ClickHouseCluster> => (started ??= startClickHouseCluster(t))
  let databases = 0
  const freshDatabase = () => `cluster_${process.pid}_${++databases}`

  async function clusterStore(database: string, entry = 0): Promise<ClickHouseEventStore> {
    const { name, nodes } = await cluster()
    const store = new ClickHouseEventStore({ url: nodes[entry]!.url, database, cluster: name, clusterNodes: nodes.map((node) => node.url) })
    await store.open()
    return store
  }

  storeConformance(
    t,
    'clickhouse two-shard cluster',
    async () => {
      const database = freshDatabase()
      return { open: () => clusterStore(database) }
    },
    // The large-bucket read is the same code as on one server; a smaller one keeps this file quick.
    { largeBucketEvents: 50_000, manyBuckets: 300 },
  )

  /** Rows of `events_local` per node, read from each server directly. */
  async function rowsPerShard(t: Test, database: string): Promise<Array<Array<{ bucket: string; n: number }>>> {
    const { nodes } = await cluster()
    return Promise.all(
      nodes.map(async (node) => {
        const client = createClient({ url: node.url, database, clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } })
        t.teardown(() => client.close())
        const result = await client.query({ query: 'SELECT bucket, count() AS n FROM events_local GROUP BY bucket ORDER BY bucket', format: 'JSONEachRow' })
        return result.json<{ bucket: string; n: number }>()
      }),
    )
  }

  t.test('events spread over both shards by bucket; reads through either node return them all', async (t) => {
    const database = freshDatabase()
    const store = await clusterStore(database)
    t.teardown(() => store.close())
    const events: EventRecord[] = []
    for (let b = 0; b < 40; b++) {
      for (let i = 0; i < 25; i++) events.push(sampleEvent(`bucket-${b}`, counterKey(i), { value: `{"b":${b},"i":${i}}` }))
    }
    t.same(await store.write({ events }), { stored: 1000, duplicates: 0 })

    const shards = await rowsPerShard(t, database)
    t.equal(shards.length, 2)
    for (const [i, rows] of shards.entries()) t.ok(rows.length >= 5, `shard ${i + 1} holds ${rows.length} of the 40 buckets`)
    t.equal(shards[0]!.length + shards[1]!.length, 40, 'each bucket on exactly one shard')
    const names0 = new Set(shards[0]!.map((r) => r.bucket))
    t.notOk(shards[1]!.some((r) => names0.has(r.bucket)), 'no bucket on both shards')
    for (const rows of shards) for (const row of rows) t.equal(row.n, 25, `${row.bucket}: all its events on its shard`)

    // Right after the write (insert_distributed_sync): every event is visible, through either node.
    const other = await clusterStore(database, 1)
    t.teardown(() => other.close())
    for (const reader of [store, other]) {
      const buckets = await reader.buckets()
      t.equal(buckets.length, 40)
      t.ok(buckets.every((b) => b.count === 25))
      for (const b of [0, 17, 39]) {
        const read = await readAll(reader, { bucket: `bucket-${b}` })
        t.same(read.map((e) => e.value), Array.from({ length: 25 }, (_, i) => `{"b":${b},"i":${i}}`))
      }
      const [row] = await reader.sql.query<{ n: number }>('SELECT count() AS n FROM events')
      t.equal(row!.n, 1000, 'SQL over events sees the whole cluster')
    }
    t.same(await other.write({ events: events.slice(0, 10) }), { stored: 0, duplicates: 10 }, 'duplicates found across shards')
  })

  t.test('a shard without the tables: open() says which and how to fix it', async (t) => {
    const { name, nodes } = await cluster()
    const store = new ClickHouseEventStore({ url: nodes[0]!.url, database: freshDatabase(), cluster: name })
    await t.rejects(store.open(), { code: 'LS_STORE_UNAVAILABLE', message: new RegExp(`shard 2 \\(127\\.0\\.0\\.1:${nodes[1]!.ports.tcp}\\).*clusterNodes`) })
  })
}
