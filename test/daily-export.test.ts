// The EventServer's automatic export: each finished UTC day once, again when
// late events arrive for it, never a day still running; the bookkeeping lives
// in the store, so a restarted exporter neither repeats nor skips a day. The
// `export` command writes the same tree (directory in-process, s3rver from a
// child process with the AWS credential chain).
import t from 'tap'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { main } from '../src/cli/main.js'
import { DailyExporter } from '../src/export/daily-exporter.js'
import { DirectoryTarget } from '../src/export/export-target.js'
import { encodeKey } from '../src/formats/keyjson.js'
import { ProcessorPipeline } from '../src/processors/pipeline.js'
import type { ExportProcessor } from '../src/processors/export-processor.js'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { captureIo } from './helpers/cli-io.js'
import { openTestStore } from './helpers/duckdb-events.js'
import { DAY, DAY_START, NEXT_DAY, sampleEvents } from './helpers/export-samples.js'
import { startS3rver } from './helpers/s3rver.js'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

const HOUR = 3_600_000

async function countRows(glob: string, reader = 'read_parquet'): Promise<Record<string, number>> {
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  try {
    const rows = (await connection.runAndReadAll(`SELECT strftime(date, '%Y-%m-%d') AS day, count(*) AS n FROM ${reader}('${glob}', hive_partitioning = true) GROUP BY day ORDER BY day`)).getRowObjectsJS()
    return Object.fromEntries(rows.map((row) => [row.day as string, Number(row.n)]))
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}

const late = (n: number, serverTime: number) => ({ ...sampleEvents(1)[0]!, key: encodeKey(`late-${n}`), serverTime })

t.test('finished days once; a late event re-exports its day; a restarted exporter repeats nothing', async (t) => {
  const store = await openTestStore(t)
  const root = tempDir(t)
  // 20 events on DAY, 10 on NEXT_DAY.
  await store.write({ events: [...sampleEvents(20), ...sampleEvents(30).slice(20).map((e) => ({ ...e, serverTime: e.serverTime + 24 * HOUR }))] })
  let now = DAY_START + 24 * HOUR + 30 * 60_000 // 00:30 the next day
  const exporter = () => new DailyExporter({ store, target: new DirectoryTarget(root), format: 'parquet', settleMs: HOUR, now: () => now })
  const glob = join(root, 'events', '*', '*', '*.parquet')

  t.same(await exporter().run(), [], 'at 00:30 with a settle of 1 h, the day is not finished yet')
  now = DAY_START + 25 * HOUR + 1
  const first = await exporter().run()
  t.same(first.map((r) => [r.day, r.rows]), [[DAY, 20]], 'after the settle time, the day is exported; the next day is still running')
  t.same(await countRows(glob), { [DAY]: 20 })
  t.same(await exporter().run(), [], 'nothing new: nothing exported (the checkpoints are in the store)')

  await store.write({ events: [late(1, DAY_START + 5 * HOUR)] })
  const again = await exporter().run()
  t.same(again.map((r) => [r.day, r.rows]), [[DAY, 21]], 'a late event for the day: the day again, whole')
  t.same(await countRows(glob), { [DAY]: 21 })

  now = DAY_START + 49 * HOUR + 1
  await store.write({ events: [late(2, DAY_START + 30 * HOUR)] })
  t.same((await exporter().run()).map((r) => [r.day, r.rows]), [[NEXT_DAY, 11]], 'the next day once finished, with its late event')
  t.same(await countRows(glob), { [DAY]: 21, [NEXT_DAY]: 11 })
  t.same(await exporter().run(), [])
  const checkpoints = (await store.checkpoints('export:')).map((c) => c.name.replace(root, 'ROOT'))
  t.same(checkpoints, ['export:dir:ROOT:parquet', `export:dir:ROOT:parquet:${DAY}`, `export:dir:ROOT:parquet:${NEXT_DAY}`])
})

t.test('the export processor runs the exporter on its timer and on demand, for its buckets only', async (t) => {
  const store = await openTestStore(t)
  const root = tempDir(t)
  await store.write({ events: sampleEvents(12) })
  const reports: string[] = []
  const pipeline = await ProcessorPipeline.start(
    [{ kind: 'export', buckets: ['shop'], options: { toDir: root, format: 'csv', settleSeconds: 0, intervalSeconds: 3600, onExport: (r: { day: string }) => reports.push(r.day) } }],
    { store, now: () => DAY_START + 48 * HOUR },
  )
  t.teardown(() => pipeline.close())
  const processor = pipeline.get<ExportProcessor>('export')!
  await processor.runNow()
  t.same(reports, [DAY], 'exported once (the start ran it; runNow joined or found nothing new)')
  t.same(await readdir(join(root, 'events', `date=${DAY}`)), ['bucket=shop'], 'only its bucket')
  t.same(await countRows(join(root, 'events', '*', '*', '*.csv.gz'), 'read_csv'), { [DAY]: 4 })
})

t.test('logging-system export: to a directory, and to S3 from a child process', async (t) => {
  const dir = tempDir(t)
  const db = join(dir, 'events.duckdb')
  const store = new DuckDbEventStore({ path: db, threads: 1 })
  await store.open()
  await store.write({ events: sampleEvents(15) })
  await store.close()

  const io = captureIo()
  t.equal(await main(['export', '--day', DAY, '--db', db, '--to-dir', join(dir, 'out'), '--format', 'ndjson'], io), 0, io.err())
  const report = JSON.parse(io.out())
  t.equal(report.rows, 15)
  t.same(report.files.sort(), ['a%2Fb%3Dc%25', 'shop', 'ünï'].map((b) => `events/date=${DAY}/bucket=${b}/part-0000.ndjson.gz`).sort())
  t.same(await countRows(join(dir, 'out', 'events', '*', '*', '*.ndjson.gz'), 'read_json'), { [DAY]: 15 })

  for (const [args, message] of [
    [['export', '--db', db, '--to-dir', dir], /--day YYYY-MM-DD is required/],
    [['export', '--day', '2026-13-01', '--db', db, '--to-dir', dir], /--day/],
    [['export', '--day', DAY, '--db', db], /exactly one of --to-dir/],
    [['export', '--day', DAY, '--db', db, '--to-dir', dir, '--to-s3-bucket', 'b'], /exactly one of --to-dir/],
    [['export', '--day', DAY, '--db', db, '--to-dir', dir, '--format', 'xlsx'], /--format/],
  ] as const) {
    const bad = captureIo()
    t.equal(await main([...args], bad), 2, `usage error: ${args.join(' ')}`)
    t.match(bad.err(), message)
  }

  const s3 = await startS3rver('warehouse')
  t.teardown(() => s3.close())
  const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname
  const child = spawnNode(t, [BIN, 'export', '--day', DAY, '--db', db, '--to-s3-bucket', 'warehouse', '--to-s3-prefix', 'lake', '--s3-endpoint', s3.endpoint], {
    env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
  })
  t.equal(await child.exited, 0, child.output())
  t.same(await s3.keys(), ['a%2Fb%3Dc%25', 'shop', 'ünï'].map((b) => `lake/events/date=${DAY}/bucket=${b}/part-0000.parquet`).sort())
})
