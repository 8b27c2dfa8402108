// Processors after the durable write: an EventServer whose store is a
// ProcessingEventStore hands every committed event to the configured
// processors (by bucket and type); a processor added the way a user would
// (examples/processors/large-orders.js, one registerProcessor line) receives
// every event it should; a failing processor never fails a post.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { request } from 'undici'
import { eventDedupId } from '../src/model/event-json.js'
import type { EventRecord } from '../src/model/event-record.js'
import { ProcessingEventStore } from '../src/processors/processing-store.js'
import type { ProcessorKind } from '../src/processors/processor.js'
import { ProcessorRegistry, registerProcessor } from '../src/processors/registry.js'
import { ProcessorPipeline } from '../src/processors/pipeline.js'
import type { StatsProcessor } from '../src/processors/stats-processor.js'
import { EventServer } from '../src/servers/event-server.js'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import type { ProcessorConfig } from '../src/processors/processor.js'
import { startReceiver } from './helpers/recording-receiver.js'
import { tempDir } from './helpers/temp.js'
import { openTestStore } from './helpers/duckdb-events.js'
import { sampleEvents } from './helpers/export-samples.js'

// The user's processor, from outside src/, registered with one line.
const { largeOrders } = (await import(new URL('../examples/processors/large-orders.js', import.meta.url).href)) as { largeOrders: ProcessorKind<{ path: string; minCents?: number }> }
registerProcessor(largeOrders)

/** A processor kind that records what it is given (and can be told to fail). */
function recorder(kind: string, fail = false): ProcessorKind & { seen: EventRecord[][] } {
  const seen: EventRecord[][] = []
  return {
    kind,
    description: 'records its batches',
    seen,
    create: () => ({
      async process(events) {
        seen.push([...events])
        if (fail) throw new Error('this processor always fails')
      },
    }),
  }
}

async function startServer(t: Parameters<typeof tempDir>[0], processors: ProcessorConfig[], registry?: ProcessorRegistry) {
  const dir = tempDir(t)
  const errors: string[] = []
  const inner = new DuckDbEventStore({ path: join(dir, 'events.duckdb'), threads: 1 })
  await inner.open()
  // The EventServer takes an open store; wrap() starts the processors on it.
  const store = await ProcessingEventStore.wrap(inner, processors, {
    ...(registry ? { registry } : {}),
    onError: (error, name) => errors.push(`${name}: ${error.message}`),
  })
  const server = new EventServer({ store })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  return { dir, url, store, errors }
}

async function post(url: string, bucket: string, events: unknown[]) {
  const res = await request(`${url}/api/post-events?bucket=${encodeURIComponent(bucket)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  })
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> }
}

const purchases = (from: number, count: number, cents: (i: number) => number) =>
  Array.from({ length: count }, (_, i) => ({ key: `order-${String(from + i).padStart(4, '0')}`, type: 'purchase', value: { amountCents: cents(from + i) }, clientTime: 1_700_000_000_000 + i }))

t.test('a user-defined processor registered from outside src/ gets every event of its bucket and type posted to the EventServer', async (t) => {
  const dir = tempDir(t)
  const out = join(dir, 'large.ndjson')
  const { url, store } = await startServer(t, [
    { kind: 'large-orders', buckets: ['shop'], types: ['purchase'], options: { path: out, minCents: 5000 } },
    { kind: 'ndjson-file', name: 'everything', options: { path: join(dir, 'all.ndjson') } },
    { kind: 'stats', options: { slotSeconds: 60 } },
  ])
  let expected: string[] = []
  for (let round = 0; round < 4; round++) {
    const events = purchases(round * 25, 25, (i) => (i * 397) % 10_000)
    t.equal((await post(url, 'shop', events)).status, 200)
    expected = expected.concat(events.filter((e) => e.value.amountCents >= 5000).map((e) => JSON.stringify({ bucket: 'shop', key: e.key, type: 'purchase', amountCents: e.value.amountCents })))
  }
  // Not its bucket, not its type: not for it.
  t.equal((await post(url, 'other', purchases(1000, 5, () => 99_999))).status, 200)
  t.equal((await post(url, 'shop', [{ key: 'v', type: 'view', value: { amountCents: 99_999 }, clientTime: 1 }])).status, 200)
  const lines = (await readFile(out, 'utf8')).trim().split('\n')
  t.ok(expected.length > 30, `${expected.length} large orders posted`)
  t.same(lines, expected, 'exactly the large purchases of shop, in order')

  const all = (await readFile(join(dir, 'all.ndjson'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line))
  t.equal(all.length, 106, 'the ndjson-file processor got every event')
  t.same(all[0].key, 'order-0000', 'the key as its JSON value')
  t.same(all[0].value, { amountCents: 0 })
  const stats = store.pipeline!.get<StatsProcessor>('stats')!
  const counts = stats.counts()
  t.same(
    counts.map(({ bucket, type, count }) => ({ bucket, type, count })).reduce((acc: Record<string, number>, c) => ({ ...acc, [`${c.bucket}/${c.type}`]: (acc[`${c.bucket}/${c.type}`] ?? 0) + c.count }), {}),
    { 'shop/purchase': 100, 'other/purchase': 5, 'shop/view': 1 },
    'stats counted each bucket and type',
  )
  t.same(store.pipeline!.stats().map((s) => [s.name, s.events, s.errors]), [['large-orders', 100, 0], ['everything', 106, 0], ['stats', 106, 0]])
})

t.test('a failing processor never fails the post: the events are stored, the error is counted and reported', async (t) => {
  const failing = recorder('always-fails', true)
  const after = recorder('after-it')
  const registry = new ProcessorRegistry().register(failing).register(after)
  const { url, store, errors } = await startServer(t, [{ kind: 'always-fails' }, { kind: 'after-it' }], registry)
  const answer = await post(url, 'b', purchases(0, 3, () => 1))
  t.equal(answer.status, 200)
  t.same(answer.json, { stored: 3, duplicates: 0 })
  t.same((await store.buckets()).map((b) => b.count), [3], 'stored')
  t.same(errors, ['always-fails: this processor always fails'])
  t.equal(after.seen.flat().length, 3, 'the next processor still got them')
  t.same(store.pipeline!.stats()[0], { name: 'always-fails', kind: 'always-fails', events: 3, errors: 1 })
})

t.test('a forward processor sends posted events as they arrive', async (t) => {
  const receiver = await startReceiver(t)
  const { url } = await startServer(t, [{ kind: 'forward', name: 'hook', options: { kind: 'webhook', url: `${receiver.url}/hook`, settleMs: 0, pollMs: 60_000 } }])
  t.equal((await post(url, 'b', purchases(0, 4, () => 1))).status, 200)
  // pollMs is a minute: only the nudge from process() makes this arrive.
  while (receiver.accepted.length < 4) await new Promise((resolve) => setTimeout(resolve, 20))
  t.same(receiver.requests[0]!.ids.length, 4)
  t.same((receiver.requests[0]!.json as { events: { key: unknown }[] }).events.map((e) => e.key), ['order-0000', 'order-0001', 'order-0002', 'order-0003'])
})

t.test('configuration errors are clear and stop the start', async (t) => {
  const store = await openTestStore(t)
  await t.rejects(ProcessorPipeline.start([{ kind: 'nope' }], { store }), { code: 'LS_INVALID_OPTION', message: /unknown processor kind "nope"; known: ndjson-file, store, stats, export, forward/ })
  await t.rejects(ProcessorPipeline.start([{ kind: 'stats' }, { kind: 'stats' }], { store }), { code: 'LS_INVALID_OPTION', message: /"stats" is used twice/ })
  await t.rejects(ProcessorPipeline.start([{ kind: 'ndjson-file' }], { store }), { code: 'LS_INVALID_OPTION', message: /ndjson-file.path/ })
  await t.rejects(ProcessorPipeline.start([{ kind: 'stats', buckets: 'shop' as unknown as string[] }], { store }), { code: 'LS_INVALID_OPTION', message: /buckets/ })
  t.throws(() => new ProcessorRegistry().register(recorder('stats')), { code: 'LS_INVALID_OPTION', message: /already registered/ })
})

t.test('the store processor copies events into a second store; duplicates stay single', async (t) => {
  const source = await openTestStore(t)
  const copy = await openTestStore(t)
  const pipeline = await ProcessorPipeline.start([{ kind: 'store', options: { target: copy, manage: false } }], { store: source })
  const events = sampleEvents(9)
  await source.write({ events })
  await pipeline.process(events)
  await pipeline.process(events.slice(0, 2))
  t.same(await copy.buckets(), await source.buckets())
  const copied: string[] = []
  for (const { bucket } of await copy.buckets()) for await (const e of copy.read({ bucket })) copied.push(eventDedupId(e))
  t.same(copied.sort(), events.map(eventDedupId).sort())
  await pipeline.close()
})

t.test('ProcessingEventStore: open() opens the wrapped store and starts the processors; a write before start() starts them', async (t) => {
  const dir = tempDir(t)
  const viaOpen = new ProcessingEventStore(new DuckDbEventStore({ path: join(dir, 'a.duckdb'), threads: 1 }), [{ kind: 'ndjson-file', options: { path: join(dir, 'a.ndjson') } }])
  await viaOpen.open()
  await viaOpen.write({ events: sampleEvents(2) })
  await viaOpen.close()
  t.equal((await readFile(join(dir, 'a.ndjson'), 'utf8')).trim().split('\n').length, 2)

  const inner = new DuckDbEventStore({ path: join(dir, 'b.duckdb'), threads: 1 })
  await inner.open()
  const lazy = new ProcessingEventStore(inner, [{ kind: 'ndjson-file', options: { path: join(dir, 'b.ndjson') } }])
  await lazy.write({ events: sampleEvents(3) })
  t.ok(lazy.pipeline, 'the first write started the processors')
  await lazy.close()
  t.equal((await readFile(join(dir, 'b.ndjson'), 'utf8')).trim().split('\n').length, 3)

  const bad = await openTestStore(t)
  await t.rejects(ProcessingEventStore.wrap(bad, [{ kind: 'nope' }]), { code: 'LS_INVALID_OPTION' })
})
