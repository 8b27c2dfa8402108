// The ClickHouse EventStore on a real two-shard cluster (two clickhouse-server
// child processes, remote_servers on both): the shared conformance suite
// through the Distributed table, then scale-out seen from each shard.
import t, { type Test } from 'tap'
import { createClient } from '@clickhouse/client'
import { request } from 'undici'
import { ClickHouseEventStore } from '../src/store/clickhouse/clickhouse-store.js'
import type { EventRecord } from '../src/model/event-record.js'
import { clickhouseMissing, clickhouseSkip, startClickHouseCluster, type ClickHouseCluster } from './helpers/clickhouse-server.js'
import { counterKey, readAll, sampleEvent, storeConformance } from './helpers/store-conformance.js'
import { spawnNode } from './helpers/spawn.js'
import { writeTailBacklog } from './helpers/tail-backlog.js'
import { tempDir } from './helpers/temp.js'

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname

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

  t.test('logging-system events on the cluster: tailed and posted events spread over both shards and come back whole', async (t) => {
    const { name, nodes } = await cluster()
    const database = freshDatabase()
    const dir = tempDir(t)
    const tailed = writeTailBacklog(dir, { serverToken: 'ShardsAA', batches: 5, perBatch: 10, startTime: Date.UTC(2026, 10, 25, 12), bucket: 'tailed' })
    // The URL says it all: database, cluster and the nodes to create tables on.
    const clickhouse = `${nodes[0]!.url}/${database}?cluster=${name}&nodes=${nodes.map((node) => node.url).join(',')}`
    const child = spawnNode(t, [BIN, 'events', '--port', '0', '--host', '127.0.0.1', '--clickhouse', clickhouse, '--tail-dir', dir, '--tail-interval-seconds', '0.05'])
    const { url } = await child.waitForJson<{ url: string }>((line) => line.msg === 'EventServer listening')
    const get = async (path: string): Promise<any> => (await (await request(`${url}${path}`)).body.json())

    for (let b = 0; b < 20; b++) {
      // Written by hand: JSON.stringify would print 1.0 as 1.
      const events = Array.from({ length: 5 }, (_, i) => `{"key":["user",${b},${i}],"type":"posted","value":{"b":${b},"i":${i},"exact":1.0},"clientTime":${1_000 + i}}`)
      const answer = await request(`${url}/api/post-events?bucket=posted-${b}`, { method: 'POST', body: `{"events":[${events.join(',')}]}`, headers: { 'content-type': 'application/json' } })
      t.same({ status: answer.statusCode, body: await answer.body.json() }, { status: 200, body: { stored: 5, duplicates: 0 } }, `bucket posted-${b}`)
    }
    const tailedCount = async () => ((await get('/buckets.json')).buckets as Array<{ bucket: string; count: number }>).find((b) => b.bucket === 'tailed')?.count ?? 0
    while ((await tailedCount()) < tailed.length) await new Promise((resolve) => setTimeout(resolve, 50))

    const read = (await get('/events.json?bucket=tailed&limit=1000')).events as Array<{ key: string }>
    t.same(read.map((e) => e.key).sort(), [...tailed].sort(), 'every tailed event once, including the requests split across batches')
    const posted = await request(`${url}/events.json?bucket=posted-7`)
    t.match(await posted.body.text(), /^\{"events":\[\{"key":\["user",7,0\],"type":"posted","value":\{"b":7,"i":0,"exact":1\.0\}/, 'exact value text, list keys')

    const shards = await rowsPerShard(t, database)
    const total = (rows: Array<{ n: number }>) => rows.reduce((sum, row) => sum + row.n, 0)
    t.ok(shards.every((rows) => total(rows) > 0), `rows on both shards: ${shards.map(total).join(' + ')}`)
    t.equal(total(shards[0]!) + total(shards[1]!), 100 + tailed.length, 'every event on exactly one shard')
    t.equal(await child.stop('SIGTERM'), 0)
  })

  t.test('a database made for one server is not opened as a cluster, nor back', async (t) => {
    const { name, nodes } = await cluster()
    const database = freshDatabase()
    const single = new ClickHouseEventStore({ url: nodes[0]!.url, database })
    await single.open()
    await single.close()
    const asCluster = new ClickHouseEventStore({ url: nodes[0]!.url, database, cluster: name, clusterNodes: nodes.map((n) => n.url) })
    await t.rejects(asCluster.open(), { code: 'LS_STORE_UNAVAILABLE', message: /events is ReplacingMergeTree, expected Distributed/ })
    const clustered = freshDatabase()
    await (await clusterStore(clustered)).close()
    await t.rejects(new ClickHouseEventStore({ url: nodes[1]!.url, database: clustered }).open(), { code: 'LS_STORE_UNAVAILABLE', message: /events is Distributed, expected ReplacingMergeTree/ })
  })

  t.test('a shard without the tables: open() says which and how to fix it', async (t) => {
    const { name, nodes } = await cluster()
    const store = new ClickHouseEventStore({ url: nodes[0]!.url, database: freshDatabase(), cluster: name })
    await t.rejects(store.open(), { code: 'LS_STORE_UNAVAILABLE', message: new RegExp(`shard 2 \\(127\\.0\\.0\\.1:${nodes[1]!.ports.tcp}\\).*clusterNodes`) })
  })
}
