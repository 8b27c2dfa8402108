// Export round trip: the files a day's export writes, read back by DuckDB's
// own readers over the Hive partition tree, hold exactly the stored events;
// re-running a day replaces it; the same through s3rver.
import t from 'tap'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { exportDay } from '../src/export/export-day.js'
import { encodeKey } from '../src/formats/keyjson.js'
import { DirectoryTarget, S3Target } from '../src/export/export-target.js'
import { EXPORT_EXTENSIONS, EXPORT_FORMATS, type ExportFormat } from '../src/export/export-layout.js'
import { openTestStore } from './helpers/duckdb-events.js'
import { readBack, storedRows } from './helpers/export-readback.js'
import { DAY, DAY_START, sampleEvents } from './helpers/export-samples.js'
import { startS3rver } from './helpers/s3rver.js'
import { tempDir } from './helpers/temp.js'

async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(join(dir, entry.name))
      else out.push(relative(root, join(dir, entry.name)))
    }
  }
  await walk(root)
  return out.sort()
}

// 30 events on DAY (one a minute), 6 on the next day.
const events = [...sampleEvents(30), ...sampleEvents(36).slice(30).map((e) => ({ ...e, serverTime: e.serverTime + 86_400_000 }))]

for (const format of EXPORT_FORMATS) {
  t.test(`${format}: a day exported to a directory reads back as the stored events`, async (t) => {
    const store = await openTestStore(t)
    await store.write({ events })
    const root = tempDir(t)
    const target = new DirectoryTarget(root)
    const report = await exportDay({ store, day: DAY, target, format, rowsPerPart: 4 })
    const expected = await storedRows(store, DAY)
    t.equal(expected.length, 30, 'the day has 30 events in the store')
    t.equal(report.rows, 30)
    t.same(await readBack(root, format), expected, 'DuckDB reads back exactly the stored rows')
    const ext = EXPORT_EXTENSIONS[format]
    t.same(
      await filesUnder(root),
      [
        ...[0, 1, 2].map((p) => `events/date=${DAY}/bucket=a%2Fb%3Dc%25/part-000${p}.${ext}`),
        ...[0, 1, 2].map((p) => `events/date=${DAY}/bucket=shop/part-000${p}.${ext}`),
        ...[0, 1, 2].map((p) => `events/date=${DAY}/bucket=ünï/part-000${p}.${ext}`),
      ].sort(),
      'Hive layout, 10 events per bucket in parts of 4, nothing else left behind',
    )

    // A late event for the day, and a larger part size: the re-run replaces the day whole.
    await store.write({ events: [{ ...sampleEvents(1)[0]!, key: encodeKey('a late one'), serverTime: DAY_START + 5 }] })
    await writeFile(join(root, 'keep.txt'), 'not ours')
    const again = await exportDay({ store, day: DAY, target, format, rowsPerPart: 100 })
    t.equal(again.rows, 31)
    t.same(await readBack(root, format), await storedRows(store, DAY), 'the re-run holds the late event too')
    t.same(
      await filesUnder(root),
      ['keep.txt', ...['a%2Fb%3Dc%25', 'shop', 'ünï'].map((b) => `events/date=${DAY}/bucket=${b}/part-0000.${ext}`)].sort(),
      'stale parts are gone, other files untouched',
    )
  })
}

t.test('re-exporting one day leaves other days alone; an empty day leaves no folder', async (t) => {
  const store = await openTestStore(t)
  await store.write({ events })
  const root = tempDir(t)
  const target = new DirectoryTarget(root)
  await exportDay({ store, day: DAY, target, format: 'csv' })
  await exportDay({ store, day: '2026-03-15', target, format: 'csv' })
  const before = (await readBack(root, 'csv')).length
  t.equal(before, 36)
  await exportDay({ store, day: DAY, target, format: 'csv' })
  t.equal((await readBack(root, 'csv')).length, 36)
  const empty = await exportDay({ store, day: '2026-03-16', target, format: 'csv' })
  t.equal(empty.rows, 0)
  t.notOk((await filesUnder(root)).some((f) => f.includes('2026-03-16')), 'no folder for an empty day')
})

t.test('a bad day or format is refused before anything is written', async (t) => {
  const store = await openTestStore(t)
  const root = tempDir(t)
  await t.rejects(exportDay({ store, day: '2026-02-30', target: new DirectoryTarget(root) }), { code: 'LS_INVALID_OPTION' })
  await t.rejects(exportDay({ store, day: DAY, target: new DirectoryTarget(root), format: 'xml' as ExportFormat }), { code: 'LS_INVALID_OPTION' })
  t.same(await filesUnder(root), [])
})

t.test('every format through s3rver: downloaded and read back; a re-run deletes stale parts', async (t) => {
  const s3 = await startS3rver('exports')
  t.teardown(() => s3.close())
  const store = await openTestStore(t)
  await store.write({ events })
  for (const format of EXPORT_FORMATS) {
    const target = new S3Target({ ...s3.location, prefix: `warehouse/${format}` })
    t.teardown(() => target.close())
    await exportDay({ store, day: DAY, target, format, rowsPerPart: 4 })
    await s3.client.send(
      // A stray object of an older run in the same day: the re-run must remove it.
      new (await import('@aws-sdk/client-s3')).PutObjectCommand({ Bucket: 'exports', Key: `warehouse/${format}/events/date=${DAY}/bucket=gone/part-0000.${EXPORT_EXTENSIONS[format]}`, Body: 'x' }),
    )
    await exportDay({ store, day: DAY, target, format, rowsPerPart: 5 })
    const keys = await s3.keys(`warehouse/${format}/`)
    t.same(
      keys,
      ['a%2Fb%3Dc%25', 'shop', 'ünï'].flatMap((b) => [0, 1].map((p) => `warehouse/${format}/events/date=${DAY}/bucket=${b}/part-000${p}.${EXPORT_EXTENSIONS[format]}`)).sort(),
      'two parts of 5 per bucket; the parts of 4 (part-0002) and the stray bucket are deleted',
    )
    const local = tempDir(t)
    for (const key of keys) {
      const file = join(local, key.slice(`warehouse/${format}/`.length))
      await mkdir(dirname(file), { recursive: true })
      await writeFile(file, await s3.get(key))
    }
    t.same(await readBack(local, format), await storedRows(store, DAY), `${format}: the downloaded tree reads back as the stored events`)
  }
})

t.test('an unreachable S3 target fails with LS_EXPORT_FAILED naming the day and target', async (t) => {
  const s3 = await startS3rver('gone')
  await s3.close()
  const store = await openTestStore(t)
  await store.write({ events: sampleEvents(3) })
  const target = new S3Target({ ...s3.location, prefix: 'p' })
  t.teardown(() => target.close())
  await t.rejects(exportDay({ store, day: DAY, target }), { code: 'LS_EXPORT_FAILED', day: DAY, target: 's3://gone/p/', message: /could not export 2026-03-14 to s3:\/\/gone\/p\// })
})

t.test('a staging folder left by a run that died is removed once a day old; a younger one (another run) is kept', async (t) => {
  const store = await openTestStore(t)
  await store.write({ events: sampleEvents(3) })
  const root = tempDir(t)
  const { utimes } = await import('node:fs/promises')
  const old = join(root, '_export-tmp', `${DAY}-dead01`)
  const young = join(root, '_export-tmp', `${DAY}-alive1`)
  for (const folder of [old, young]) {
    await mkdir(join(folder, 'events'), { recursive: true })
    await writeFile(join(folder, 'events', 'half-written'), 'x')
  }
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000)
  await utimes(old, twoDaysAgo, twoDaysAgo)
  await exportDay({ store, day: DAY, target: new DirectoryTarget(root), format: 'csv' })
  t.same(await readdir(join(root, '_export-tmp')), [`${DAY}-alive1`])
  t.same((await readBack(root, 'csv')).length, 3)
})
