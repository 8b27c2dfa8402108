// Export, daily export, forwarding and dead letters on the ClickHouse backend
// (a real clickhouse-server 18.16 as a child process): the same SQL and the
// same results as on DuckDB.
import t from 'tap'
import { exportDay } from '../src/export/export-day.js'
import { DailyExporter } from '../src/export/daily-exporter.js'
import { DirectoryTarget } from '../src/export/export-target.js'
import { retryDeadLetters } from '../src/forward/dead-letter-retry.js'
import { Forwarder } from '../src/forward/forwarder.js'
import { eventDedupId } from '../src/model/event-json.js'
import { ClickHouseEventStore } from '../src/store/clickhouse/clickhouse-store.js'
import { clickhouseMissing, clickhouseSkip, startClickHouse } from './helpers/clickhouse-server.js'
import { readBack, storedRows } from './helpers/export-readback.js'
import { DAY, DAY_START, sampleEvents } from './helpers/export-samples.js'
import { startReceiver } from './helpers/recording-receiver.js'
import { tempDir } from './helpers/temp.js'

const skip = clickhouseSkip()
const missing = clickhouseMissing()

if (skip) {
  t.test('events out on ClickHouse', { skip }, () => {})
} else if (missing) {
  t.fail(`clickhouse-server is required under CI: ${missing}`)
} else {
  t.test('events out on ClickHouse', async (t) => {
    const server = await startClickHouse(t)
    const store = new ClickHouseEventStore({ url: server.url, database: `events_out_${process.pid}` })
    await store.open()
    t.teardown(() => store.close())
    const events = sampleEvents(24)
    for (let i = 0; i < events.length; i += 8) await store.write({ events: events.slice(i, i + 8) })

    t.test('export: every format reads back as the stored events', async (t) => {
      const expected = await storedRows(store, DAY)
      t.equal(expected.length, 24)
      for (const format of ['parquet', 'ndjson', 'csv'] as const) {
        const root = tempDir(t)
        const report = await exportDay({ store, day: DAY, target: new DirectoryTarget(root), format, rowsPerPart: 5 })
        t.equal(report.rows, 24)
        t.same(await readBack(root, format), expected, `${format} through DuckDB's reader equals the ClickHouse rows`)
      }
    })

    t.test('daily export: the finished day once, checkpoints in ClickHouse', async (t) => {
      const root = tempDir(t)
      const exporter = new DailyExporter({ store, target: new DirectoryTarget(root), format: 'csv', settleMs: 0, now: () => DAY_START + 2 * 86_400_000 })
      t.same((await exporter.run()).map((r) => [r.day, r.rows]), [[DAY, 24]])
      t.same(await exporter.run(), [], 'nothing new')
    })

    t.test('forwarding with a refusal, the dead-letter store and a retry', async (t) => {
      const receiver = await startReceiver(t)
      const bad = eventDedupId(events[5]!)
      let healed = false
      receiver.answer = (request) => (!healed && request.ids.includes(bad) ? { status: 400, body: 'no' } : { status: 200 })
      const forwarder = new Forwarder({ name: 'ch', store, kind: 'webhook', url: `${receiver.url}/hook`, batchSize: 7, settleMs: 0, requestsPerSecond: 1000 })
      t.equal(await forwarder.drain(), 24)
      t.equal(await forwarder.drain(), 0, 'the checkpoint is kept in ClickHouse')
      const dead = await forwarder.deadLetters.list()
      t.same(dead.map((d) => d.id), [bad])
      t.same(dead[0]!.key, events[5]!.key, 'the key bytes survive the dead-letter table')
      healed = true
      t.same(await retryDeadLetters(forwarder, store), { delivered: 1, failed: 0, missing: 0 })
      t.same(new Set(receiver.accepted), new Set(events.map(eventDedupId)), 'every event delivered')
      t.same(await forwarder.deadLetters.list(), [])
    })
  })
}
