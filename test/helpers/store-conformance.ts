/**
 * THE conformance suite for EventStore backends (src/store/event-store.ts).
 * Every backend runs it against its real database:
 *
 *   storeConformance(t, 'duckdb', async () => {
 *     const path = join(tempDir(t), 'events.duckdb')
 *     return { open: async () => { const s = new DuckDbEventStore({ path }); await s.open(); return s } }
 *   })
 *
 * `makeStorage()` gives a new, empty storage (a fresh file, a fresh database);
 * each `open()` of it gives a new opened EventStore on that same storage (the
 * suite closes it, and uses a second open() to check that a reopened store
 * keeps everything). Only the interface is used, plus `sql` for the columns
 * the interface does not return (ingested_at).
 *
 * What it pins down (beyond the comments in event-store.ts):
 *   - read() returns every field exactly as written; `type` comes back as a
 *     number when it was written as one.
 *   - Key order is unsigned byte order of the keyjson bytes (a prefix sorts first).
 *   - `from` inclusive, `to` exclusive, `after` exclusive, time ranges [from, to),
 *     `types` by text form ("7" matches the integer type 7); all combine (AND).
 *   - The first write of a (bucket, key) stands, also within one batch.
 *   - A checkpoint name is written again = its position replaced; a prefix is
 *     literal (no LIKE wildcards).
 *   - A record the store cannot keep exactly (a time that is not a safe
 *     integer, a key that is not bytes) makes write() reject with
 *     LS_EVENT_INVALID, and nothing of that batch is stored.
 *   - close() twice is fine; write() after close() rejects with LS_CLOSED.
 */
import type { Test } from 'tap'
import v8 from 'node:v8'
import vm from 'node:vm'
import type { EventRecord } from '../../src/model/event-record.js'
import type { EventStore, RangeQuery, RejectedRequest } from '../../src/store/event-store.js'

export interface StoreStorage {
  /** A new EventStore on this storage, opened. */
  open(): Promise<EventStore>
}

export interface ConformanceOptions {
  /** Events in the bucket read as a stream. Default 200,000. */
  largeBucketEvents?: number
  /** Buckets in the many-buckets test. Default 1,000. */
  manyBuckets?: number
}

/** Builds a key from raw bytes. */
export function keyBytes(...bytes: number[]): Uint8Array {
  return Uint8Array.from(bytes)
}

/** A big-endian 4-byte counter key with a 0x34 prefix: byte order = numeric order. */
export function counterKey(n: number): Uint8Array {
  return Uint8Array.of(0x34, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
}

export function sampleEvent(bucket: string, key: Uint8Array, fields: Partial<EventRecord> = {}): EventRecord {
  return {
    bucket,
    key,
    type: 'page',
    value: '{"n":1}',
    clientTime: 1_700_000_000_000,
    serverTime: 1_700_000_000_500,
    originalClientTime: null,
    userId: null,
    anonymousId: null,
    producer: null,
    ip: null,
    source: 'post-events/json',
    ...fields,
  }
}

export async function readAll(store: EventStore, query: RangeQuery): Promise<EventRecord[]> {
  const out: EventRecord[] = []
  for await (const event of store.read(query)) out.push(event)
  return out
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

/** Plain comparable form: keys as hex, everything else as is. */
function plain(event: EventRecord): Record<string, unknown> {
  return { ...event, key: hex(event.key) }
}

function sortedByKey(events: EventRecord[]): EventRecord[] {
  return [...events].sort((a, b) => compareBytes(a.key, b.key))
}

function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
}

export function storeConformance(t: Test, name: string, makeStorage: () => Promise<StoreStorage>, options: ConformanceOptions = {}): void {
  const largeBucketEvents = options.largeBucketEvents ?? 200_000
  const manyBuckets = options.manyBuckets ?? 1_000

  /** A fresh opened store, closed at the end of the test. */
  async function freshStore(t: Test): Promise<{ store: EventStore; storage: StoreStorage }> {
    const storage = await makeStorage()
    const store = await storage.open()
    t.teardown(() => store.close())
    return { store, storage }
  }

  t.test(`${name}: write then read returns exactly the records`, async (t) => {
    const { store } = await freshStore(t)
    t.equal(typeof store.kind, 'string')
    const events: EventRecord[] = [
      sampleEvent('b1', keyBytes(0x34, 0x61), { value: '{"a":1.0,"b":1e400,"c":-0.0}' }),
      sampleEvent('b1', keyBytes(0x34, 0x62), {
        value: '{"big":123456789012345678901234567890,"z":1,"a":2,"neg":-98765432109876543210}',
        type: 7,
      }),
      sampleEvent('b1', keyBytes(0x34, 0x63), {
        value: '{ "spaced" : [ 1 , 2 ] ,\n\t"s":"Montréal 😀 \\u0000 \\" \\\\ \\n" }',
        type: 'Signed Up ✓',
        clientTime: 0,
        serverTime: 8_640_000_000_000_000,
        originalClientTime: -1,
        userId: 'user\u0000with nul',
        anonymousId: 'anon-é-😀',
        producer: "o'quote\"double\\back",
        ip: '::ffff:127.0.0.1',
        source: 'segment',
      }),
      sampleEvent('b1', keyBytes(0x36, 0x34, 0x78, 0x00, 0xc0, 0x80), {
        value: '{}',
        type: 0,
        clientTime: -62_135_596_800_000,
        serverTime: 1,
        originalClientTime: 9_007_199_254_740_991,
        userId: '',
        anonymousId: '',
        producer: '',
        ip: '',
      }),
      sampleEvent('b1', keyBytes(0x35, 0x34, 0x78, 0x00, 0xc0, 0x80), { type: 65535, value: '{"x":"' + 'long '.repeat(20_000) + '"}' }),
      sampleEvent('other bucket with spaces & ünïcode', keyBytes(0x31), { value: '{"in":"other"}' }),
    ]
    const result = await store.write({ events })
    t.same(result, { stored: events.length, duplicates: 0 })

    const b1 = await readAll(store, { bucket: 'b1' })
    t.same(b1.map(plain), sortedByKey(events.filter((e) => e.bucket === 'b1')).map(plain))
    for (const event of b1) {
      const written = events.find((e) => hex(e.key) === hex(event.key))!
      t.equal(event.value, written.value, 'value text byte-exact')
      t.equal(typeof event.type, typeof written.type, 'type keeps number or string')
      t.ok(event.key instanceof Uint8Array, 'key is bytes')
    }
    const other = await readAll(store, { bucket: 'other bucket with spaces & ünïcode' })
    t.same(other.map(plain), [plain(events[5]!)])
    t.same(await readAll(store, { bucket: 'no such bucket' }), [])
    t.same(await readAll(store, { bucket: 'b' }), [], 'a bucket name is not a prefix match')
    t.same(await store.write({ events: [] }), { stored: 0, duplicates: 0 }, 'an empty batch writes nothing')
  })

  t.test(`${name}: key order is the byte order of keys`, async (t) => {
    const { store } = await freshStore(t)
    const keys = [
      [0x00], [0x00, 0x00], [0x00, 0x01], [0x01], [0x34], [0x34, 0x00], [0x34, 0x00, 0xff], [0x34, 0x01], [0x34, 0x7f],
      [0x34, 0x80], [0x34, 0x80, 0x00], [0x34, 0xc3, 0xa9], [0x34, 0xff], [0x35, 0x34, 0x78, 0x00, 0xc0, 0x80],
      [0x35, 0x34, 0x78, 0x00, 0xc0, 0x80, 0x00, 0x34, 0x46], [0x7f], [0x80], [0x80, 0x00], [0xbf, 0xfe], [0xc0, 0x80],
      [0xc0, 0xff], [0xc1, 0x81, 0x80], [0xfe, 0xff], [0xff], [0xff, 0x00], [0xff, 0xff], [0xff, 0xff, 0xff],
    ].map((bytes) => Uint8Array.from(bytes))
    const shuffled = [...keys].sort(() => Math.random() - 0.5)
    await store.write({ events: shuffled.map((key, i) => sampleEvent('order', key, { value: `{"i":${i}}` })) })
    const read = await readAll(store, { bucket: 'order' })
    t.same(read.map((e) => hex(e.key)), keys.map(hex), 'unsigned byte order, a prefix first')
  })

  t.test(`${name}: range reads`, async (t) => {
    const { store } = await freshStore(t)
    const events: EventRecord[] = []
    for (let i = 0; i < 100; i++) {
      events.push(sampleEvent('range', counterKey(i), {
        type: i % 3 === 0 ? 'click' : i % 3 === 1 ? 'view' : 42,
        serverTime: 1_000_000 + i * 10,
        clientTime: 2_000_000 - i * 10,
        value: `{"i":${i}}`,
      }))
    }
    // Neighbours that a range must not reach.
    events.push(sampleEvent('rang', counterKey(5)), sampleEvent('range2', counterKey(5)))
    await store.write({ events: [...events].reverse() })
    const ids = async (query: Omit<RangeQuery, 'bucket'>) => (await readAll(store, { bucket: 'range', ...query })).map((e) => JSON.parse(e.value).i as number)
    const span = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

    t.same(await ids({}), span(0, 100), 'whole bucket')
    t.same(await ids({ from: counterKey(10) }), span(10, 100), 'from is inclusive')
    t.same(await ids({ to: counterKey(10) }), span(0, 10), 'to is exclusive')
    t.same(await ids({ from: counterKey(10), to: counterKey(20) }), span(10, 20))
    t.same(await ids({ after: counterKey(10) }), span(11, 100), 'after is exclusive')
    t.same(await ids({ from: counterKey(10), after: counterKey(15), to: counterKey(20) }), span(16, 20), 'after with from and to')
    t.same(await ids({ from: counterKey(10), after: counterKey(5) }), span(10, 100), 'the later of from and after wins')
    t.same(await ids({ from: counterKey(10), limit: 5 }), span(10, 15), 'limit')
    t.same(await ids({ limit: 0 }), [], 'limit 0')
    t.same(await ids({ from: counterKey(20), to: counterKey(10) }), [], 'empty range')
    t.same(await ids({ from: keyBytes(0x34, 0, 0), to: keyBytes(0x34, 0, 1) }), span(0, 100), 'byte-prefix bounds')
    t.same(await ids({ from: keyBytes(0x34), to: keyBytes(0x35) }), span(0, 100), 'every key starting with 0x34')
    t.same(await ids({ from: keyBytes(0x35) }), [])
    t.same(await ids({ serverTimeFrom: 1_000_100, serverTimeTo: 1_000_200 }), span(10, 20), 'server time [from, to)')
    t.same(await ids({ clientTimeFrom: 2_000_000 - 50, clientTimeTo: 2_000_000 }), span(1, 6), 'client time [from, to)')
    t.same(await ids({ types: ['click'], to: counterKey(12) }), [0, 3, 6, 9], 'one type')
    t.same(await ids({ types: ['42', 'view'], to: counterKey(8) }), [1, 2, 4, 5, 7], 'an integer type by its text, two types')
    t.same(await ids({ types: [] , to: counterKey(3) }), [0, 1, 2], 'an empty type list does not filter')
    t.same(await ids({ types: ['click'], from: counterKey(30), serverTimeTo: 1_000_000 + 60 * 10, limit: 3 }), [30, 33, 36], 'all combined')

    // Paging with `after` walks the whole bucket exactly once.
    const seen: number[] = []
    let after: Uint8Array | undefined
    for (;;) {
      const page = await readAll(store, { bucket: 'range', limit: 7, ...(after ? { after } : {}) })
      if (page.length === 0) break
      seen.push(...page.map((e) => JSON.parse(e.value).i as number))
      after = page[page.length - 1]!.key
    }
    t.same(seen, span(0, 100), 'pages by after + limit')
  })

  t.test(`${name}: duplicates: the first write stands`, async (t) => {
    const { store } = await freshStore(t)
    const first = await store.write({ events: [sampleEvent('dup', keyBytes(0x34, 1), { value: '{"v":"first"}' }), sampleEvent('dup', keyBytes(0x34, 2))] })
    t.same(first, { stored: 2, duplicates: 0 })
    const second = await store.write({
      events: [
        sampleEvent('dup', keyBytes(0x34, 1), { value: '{"v":"second"}' }),
        sampleEvent('dup', keyBytes(0x34, 3), { value: '{"v":"three-a"}' }),
        sampleEvent('dup', keyBytes(0x34, 3), { value: '{"v":"three-b"}' }),
        sampleEvent('dup', keyBytes(0x34, 3), { value: '{"v":"three-c"}' }),
        sampleEvent('dup2', keyBytes(0x34, 1), { value: '{"v":"other bucket"}' }),
      ],
    })
    t.same(second, { stored: 2, duplicates: 3 }, 'one against the store, two within the batch')
    const read = await readAll(store, { bucket: 'dup' })
    t.same(read.map((e) => e.value), ['{"v":"first"}', '{"n":1}', '{"v":"three-a"}'])
    t.same((await readAll(store, { bucket: 'dup2' })).map((e) => e.value), ['{"v":"other bucket"}'], 'the same key in another bucket is not a duplicate')
    const again = await store.write({ events: read })
    t.same(again, { stored: 0, duplicates: 3 }, 'writing back what was read stores nothing')
    t.same((await store.buckets()).filter((b) => b.bucket === 'dup'), [{ bucket: 'dup', count: 3 }])
  })

  t.test(`${name}: checkpoints are committed with their events, all or nothing`, async (t) => {
    const { store } = await freshStore(t)
    t.same(await store.checkpoints(), [])
    await store.write({
      events: [sampleEvent('cp', counterKey(1))],
      checkpoints: [{ name: 'dir:/batches/a_b/srv1', position: '{"file":"1.gz","offset":10}' }, { name: 'dir:/batches/axb/srv2', position: '"x"' }],
    })
    await store.write({ events: [], checkpoints: [{ name: 'dir:/batches/a_b/srv1', position: '{"file":"2.gz","offset":0}' }, { name: 's3:bucket/100%/srv', position: 'p' }] })
    const all = (await store.checkpoints()).sort((a, b) => (a.name < b.name ? -1 : 1))
    t.same(all, [
      { name: 'dir:/batches/a_b/srv1', position: '{"file":"2.gz","offset":0}' },
      { name: 'dir:/batches/axb/srv2', position: '"x"' },
      { name: 's3:bucket/100%/srv', position: 'p' },
    ], 'a name written again has its new position')
    t.same(await store.checkpoints('dir:/batches/a_b/'), [{ name: 'dir:/batches/a_b/srv1', position: '{"file":"2.gz","offset":0}' }], 'a prefix is literal: _ is no wildcard')
    t.same(await store.checkpoints('s3:bucket/100%'), [{ name: 's3:bucket/100%/srv', position: 'p' }], '% is no wildcard')
    t.same(await store.checkpoints('s3:bucket/1000'), [])

    // A batch the store cannot keep exactly: nothing of it is stored, not its checkpoint, not its good events.
    const bad = [
      sampleEvent('cp', counterKey(2), { serverTime: Number.NaN }),
      sampleEvent('cp', counterKey(2), { clientTime: 1.5 }),
      sampleEvent('cp', counterKey(2), { originalClientTime: 2 ** 60 }),
      sampleEvent('cp', 'not bytes' as unknown as Uint8Array),
    ]
    for (const badEvent of bad) {
      await t.rejects(
        store.write({
          events: [sampleEvent('cp', counterKey(3)), badEvent, sampleEvent('cp-new-bucket', counterKey(4))],
          checkpoints: [{ name: 'dir:/batches/a_b/srv1', position: 'must not be stored' }],
          rejects: [reject('must not be stored')],
        }),
        { code: 'LS_EVENT_INVALID' },
      )
    }
    t.same((await readAll(store, { bucket: 'cp' })).map((e) => hex(e.key)), [hex(counterKey(1))], 'no event of the failed batches')
    t.same((await store.buckets()).map((b) => b.bucket), ['cp'])
    t.same(await store.checkpoints('dir:/batches/a_b/'), [{ name: 'dir:/batches/a_b/srv1', position: '{"file":"2.gz","offset":0}' }], 'checkpoint unchanged')
    t.same(await store.rejects(), [], 'no reject of the failed batches')
    t.same(await store.write({ events: [sampleEvent('cp', counterKey(3))] }), { stored: 1, duplicates: 0 }, 'the store still writes after a failed batch')
  })

  t.test(`${name}: rejected requests are kept and listed newest first`, async (t) => {
    const { store } = await freshStore(t)
    const bodies = [Uint8Array.of(0x00, 0x80, 0xff, 0x0a), new TextEncoder().encode('{"not":"json'), new Uint8Array(0), Uint8Array.from({ length: 70_000 }, (_, i) => i % 256)]
    for (let i = 0; i < bodies.length; i++) {
      await store.write({ events: [], rejects: [{ ...reject(`message ${i} 'quoted' ü`), time: 1_000 + i, body: bodies[i]! }] })
    }
    await store.write({ events: [sampleEvent('rj', counterKey(1))], rejects: [{ ...reject('with events'), time: 2_000, origin: 'tail:srv/17' }] })
    const listed = await store.rejects()
    t.equal(listed.length, 5)
    t.same(listed.map((r) => r.message), ['with events', "message 3 'quoted' ü", "message 2 'quoted' ü", "message 1 'quoted' ü", "message 0 'quoted' ü"], 'newest first')
    t.equal(new Set(listed.map((r) => r.id)).size, 5, 'distinct ids')
    for (const r of listed) t.ok(Number.isSafeInteger(r.id), 'id is an integer')
    for (let i = 0; i < bodies.length; i++) {
      const r = listed.find((x) => x.message === `message ${i} 'quoted' ü`)!
      t.equal(hex(r.body), hex(bodies[i]!), `body ${i} byte-exact`)
      t.ok(r.body instanceof Uint8Array)
      t.same({ ...r, body: null, id: null }, { ...reject(`message ${i} 'quoted' ü`), time: 1_000 + i, body: null, id: null })
    }
    t.equal(listed[0]!.origin, 'tail:srv/17')
    t.same((await store.rejects(2)).map((r) => r.message), ['with events', "message 3 'quoted' ü"], 'limit')
    t.same((await readAll(store, { bucket: 'rj' })).length, 1, 'events of the same batch stored')
  })

  t.test(`${name}: buckets with counts`, async (t) => {
    const { store } = await freshStore(t)
    t.same(await store.buckets(), [])
    const names = ['b', 'a', 'B', 'a-long-name', 'ü', 'z']
    const events: EventRecord[] = []
    names.forEach((bucket, n) => {
      for (let i = 0; i <= n; i++) events.push(sampleEvent(bucket, counterKey(i)))
    })
    await store.write({ events })
    await store.write({ events: [sampleEvent('a', counterKey(0)), sampleEvent('a', counterKey(100))] })
    const expected = names
      .map((bucket, n) => ({ bucket, count: n + 1 + (bucket === 'a' ? 1 : 0) }))
      .sort((x, y) => Buffer.compare(Buffer.from(x.bucket), Buffer.from(y.bucket)))
    t.same(await store.buckets(), expected, 'by name in byte order, duplicates not counted')

    // Many buckets.
    const many: EventRecord[] = []
    for (let b = 0; b < manyBuckets; b++) {
      const bucket = `many-${String(b).padStart(5, '0')}`
      for (let i = 0; i < 1 + (b % 3); i++) many.push(sampleEvent(bucket, counterKey(i), { value: `{"b":${b},"i":${i}}` }))
    }
    t.same(await store.write({ events: many }), { stored: many.length, duplicates: 0 })
    const listed = (await store.buckets()).filter((b) => b.bucket.startsWith('many-'))
    t.equal(listed.length, manyBuckets)
    t.same(listed, Array.from({ length: manyBuckets }, (_, b) => ({ bucket: `many-${String(b).padStart(5, '0')}`, count: 1 + (b % 3) })))
    const one = await readAll(store, { bucket: 'many-00005' })
    t.same(one.map((e) => e.value), ['{"b":5,"i":0}', '{"b":5,"i":1}', '{"b":5,"i":2}'])
  })

  t.test(`${name}: concurrent writes all land`, async (t) => {
    const { store } = await freshStore(t)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, w) =>
        store.write({
          // Each writer writes 50 keys of its own and 10 keys all writers share.
          events: [
            ...Array.from({ length: 50 }, (_, i) => sampleEvent('conc', counterKey(1000 + w * 50 + i))),
            ...Array.from({ length: 10 }, (_, i) => sampleEvent('conc', counterKey(i), { value: `{"w":${w}}` })),
          ],
          checkpoints: [{ name: `w${w}`, position: String(w) }],
        }),
      ),
    )
    t.equal(results.reduce((n, r) => n + r.stored, 0), 20 * 50 + 10)
    t.equal(results.reduce((n, r) => n + r.duplicates, 0), 19 * 10)
    t.equal((await readAll(store, { bucket: 'conc' })).length, 1010)
    t.equal((await store.checkpoints('w')).length, 20)
    const shared = (await readAll(store, { bucket: 'conc', to: counterKey(10) })).map((e) => e.value)
    t.equal(new Set(shared).size, 1, 'a shared key has one value: the first write that landed')
  })

  t.test(`${name}: ingested_at never decreases`, async (t) => {
    const { store } = await freshStore(t)
    const q = (v: string | number | null | Uint8Array) => store.sql.literal(v)
    const maxes: number[] = []
    const mins: number[] = []
    for (let round = 0; round < 5; round++) {
      const bucket = `ing-${round}`
      await store.write({ events: Array.from({ length: 20 }, (_, i) => sampleEvent(bucket, counterKey(i))) })
      const [row] = await store.sql.query<{ lo: number; hi: number; n: number }>(
        `SELECT min(ingested_at) AS lo, max(ingested_at) AS hi, count(*) AS n FROM events WHERE bucket = ${q(bucket)}`,
      )
      t.equal(Number(row!.n), 20)
      t.ok(Math.abs(Number(row!.hi) - Date.now()) < 10 * 60_000, 'ingested_at is a ms time near now')
      mins.push(Number(row!.lo))
      maxes.push(Number(row!.hi))
    }
    for (let i = 1; i < 5; i++) t.ok(mins[i]! >= maxes[i - 1]!, `batch ${i} was ingested no earlier than batch ${i - 1}`)
  })

  t.test(`${name}: sql access`, async (t) => {
    const { store } = await freshStore(t)
    t.equal(store.sql.dialect, store.kind)
    const awkward = ["it's", 'back\\slash', 'quote"double', 'new\nline\ttab\r', 'Montréal 😀', 'nul\u0000byte', '', "''; DROP TABLE events; --", '\\x00', '$1 ? :name %s']
    for (const s of awkward) {
      const [row] = await store.sql.query<{ v: unknown }>(`SELECT ${store.sql.literal(s)} AS v`)
      t.equal(row!.v, s, `string literal round-trips ${JSON.stringify(s)}`)
    }
    for (const n of [0, 1, -1, 1_700_000_000_123, -62_135_596_800_000, 9_007_199_254_740_991]) {
      const [row] = await store.sql.query<{ v: unknown }>(`SELECT ${store.sql.literal(n)} AS v`)
      t.equal(Number(row!.v), n, `number literal ${n}`)
    }
    const [nullRow] = await store.sql.query<{ v: unknown }>(`SELECT ${store.sql.literal(null)} AS v`)
    t.equal(nullRow!.v, null, 'null literal')
    const bytes = Uint8Array.of(0x00, 0x27, 0x5c, 0x22, 0x80, 0xff, 0x0a, 0x34)
    const [blobRow] = await store.sql.query<{ h: string }>(`SELECT lower(hex(${store.sql.literal(bytes)})) AS h`)
    t.equal(blobRow!.h, hex(bytes), 'bytes literal')

    // A key literal selects that event's row.
    await store.write({ events: [sampleEvent('sql', keyBytes(0x34, 0x00, 0xff, 0x27)), sampleEvent('sql', keyBytes(0x34, 0x00, 0xff))] })
    const rows = await store.sql.query<{ n: unknown }>(`SELECT count(*) AS n FROM events WHERE bucket = ${store.sql.literal('sql')} AND key = ${store.sql.literal(keyBytes(0x34, 0x00, 0xff, 0x27))}`)
    t.equal(Number(rows[0]!.n), 1)
    const counted = await store.sql.query<{ n: unknown }>(`SELECT count(*) AS n FROM events WHERE bucket = ${store.sql.literal('sql')}`)
    t.equal(typeof counted[0]!.n, 'number', 'a count comes back as a JS number')
    t.equal(counted[0]!.n, 2)

    // exec: a table of one's own, written and read back.
    const table = 'conformance_scratch'
    await store.sql.exec(store.sql.dialect === 'clickhouse' ? `CREATE TABLE ${table} (s String) ENGINE = MergeTree ORDER BY s` : `CREATE TABLE ${table} (s VARCHAR)`)
    await store.sql.exec(`INSERT INTO ${table} (s) VALUES (${awkward.map((s) => store.sql.literal(s)).join('), (')})`)
    const back = await store.sql.query<{ s: string }>(`SELECT s FROM ${table}`)
    t.same(back.map((r) => r.s).sort(), [...awkward].sort(), 'exec then query round-trips')
    await t.rejects(store.sql.query('SELECT * FROM no_such_table_anywhere'), 'a bad query rejects')
  })

  t.test(`${name}: reopen after close keeps everything; close twice; write after close`, async (t) => {
    const storage = await makeStorage()
    const first = await storage.open()
    const events = Array.from({ length: 300 }, (_, i) => sampleEvent(`re-${i % 3}`, counterKey(i), { value: `{"i":${i},"x":1.0}`, type: i % 2 ? i : `t${i}` }))
    await first.write({ events, checkpoints: [{ name: 'ck', position: '{"at":300}' }], rejects: [reject('kept')] })
    await first.close()
    await first.close()
    await t.rejects(first.write({ events: [sampleEvent('re-0', counterKey(9999))] }), { code: 'LS_CLOSED' })

    const second = await storage.open()
    t.teardown(() => second.close())
    for (let b = 0; b < 3; b++) {
      const read = await readAll(second, { bucket: `re-${b}` })
      t.same(read.map(plain), events.filter((e) => e.bucket === `re-${b}`).map(plain), `bucket re-${b} as written`)
    }
    t.same(await second.buckets(), [{ bucket: 're-0', count: 100 }, { bucket: 're-1', count: 100 }, { bucket: 're-2', count: 100 }])
    t.same(await second.checkpoints(), [{ name: 'ck', position: '{"at":300}' }])
    t.same((await second.rejects()).map((r) => r.message), ['kept'])
    t.same(await second.write({ events: events.slice(0, 10) }), { stored: 0, duplicates: 10 }, 'dedup holds across reopen')
    await second.write({ events: [], rejects: [reject('after reopen')] })
    t.same((await second.rejects()).map((r) => r.message), ['after reopen', 'kept'], 'reject ids keep increasing after reopen')
  })

  t.test(`${name}: a large bucket streams in key order with flat memory`, async (t) => {
    const { store } = await freshStore(t)
    const filler = 'x'.repeat(500)
    for (let start = 0; start < largeBucketEvents; start += 20_000) {
      const events: EventRecord[] = []
      for (let i = start; i < Math.min(start + 20_000, largeBucketEvents); i++) {
        events.push(sampleEvent('large', counterKey(i), { value: `{"i":${i},"f":"${filler}"}`, serverTime: i }))
      }
      // Keys out of order within a write.
      events.reverse()
      await store.write({ events })
    }
    t.same(await store.buckets(), [{ bucket: 'large', count: largeBucketEvents }])

    const gc = gcFunction()
    gc()
    const baseline = process.memoryUsage().heapUsed
    let peak = 0
    let n = 0
    let previous = -1
    let inOrder = true
    for await (const event of store.read({ bucket: 'large' })) {
      const i = (event.key[1]! << 24) | (event.key[2]! << 16) | (event.key[3]! << 8) | event.key[4]!
      if (i !== previous + 1 || event.serverTime !== i) inOrder = false
      previous = i
      n++
      if (n % 25_000 === 0) {
        gc()
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline)
      }
    }
    t.equal(n, largeBucketEvents, 'every event')
    t.ok(inOrder, 'in key order')
    const held = (largeBucketEvents * filler.length) / 1e6
    t.ok(peak < 40e6, `heap grew ${(peak / 1e6).toFixed(1)} MB while reading ${held.toFixed(0)} MB of values (limit 40 MB)`)

    // Leaving a stream early releases it: the store reads and writes on.
    let taken = 0
    for await (const event of store.read({ bucket: 'large', from: counterKey(1000) })) {
      t.equal(event.serverTime, 1000 + taken)
      if (++taken === 3) break
    }
    t.same(await store.write({ events: [sampleEvent('large', counterKey(largeBucketEvents))] }), { stored: 1, duplicates: 0 })
    t.same((await readAll(store, { bucket: 'large', from: counterKey(largeBucketEvents - 1) })).length, 2)
  })
}

function reject(message: string): RejectedRequest {
  return {
    origin: 'direct',
    time: 1_700_000_000_000,
    method: 'POST',
    path: '/api/post-events?bucket=x',
    contentType: 'application/json',
    reason: 'LS_EVENT_INVALID',
    message,
    body: Uint8Array.of(0x7b),
  }
}
