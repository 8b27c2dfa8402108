// The reader side of replay: rejoining split requests, damage, gaps, time
// ranges, and the request decoders — through the public BatchReader API.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import {
  decodeKey,
  eventRecord,
  encodeKey,
  BatchReader,
  DirectorySource,
  FileSource,
  LoggingServer,
  RequestDecoderRegistry,
  S3Source,
  dayPrefixes,
  parseTime,
  postEventsJsonDecoder,
  type DecoderRequest,
  type EventRecord,
  type JsonObject,
  type ReadProblem,
  type RequestDecoder,
} from '../src/index.js'
import { readLoggedRequests } from './helpers/batches.js'
import { byKey, jsonBody, makeEvents, postEvents, rawEvents, writeBatch } from './helpers/replay.js'
import { tempDir } from './helpers/temp.js'

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}

function reader(dir: string, extra: Partial<ConstructorParameters<typeof BatchReader>[0]> = {}) {
  const problems: ReadProblem[] = []
  const r = new BatchReader({ source: new DirectorySource(dir), onProblem: (p) => problems.push(p), ...extra })
  return { reader: r, problems }
}

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0)

t.test('a request whose REQ_DATA and REQ_END fall into different batches is rejoined', async (t) => {
  const dir = tempDir(t)
  // Every body is over maxBatchBytes, so its REQ_DATA seals a batch and its REQ_END opens the next.
  const server = new LoggingServer({ directory: dir, batchSeconds: 60, maxBatchBytes: 64 })
  const { port } = await server.listen(0, '127.0.0.1')
  const sent = makeEvents('split', 6)
  await postEvents(`http://127.0.0.1:${port}`, 'b', sent, 'json', 2)
  await server.close()

  const stored = await readLoggedRequests(dir)
  t.ok(stored.batches.length >= 4, `${stored.batches.length} batches`)
  const split = stored.events.filter((e) => e.type === 1).filter((data) => {
    const end = stored.events.find((e) => e.type === 2 && e.reqId === data.reqId)
    return end !== undefined && end.batchNumber !== data.batchNumber
  })
  t.ok(split.length >= 3, `${split.length} requests really are split across batches`)

  const { reader: r, problems } = reader(dir)
  const events = await collect(r.events())
  t.same(problems, [], 'no problems')
  t.same(byKey(events.map(({ key, type, value, clientTime }) => ({ key: decodeKey(key), type, value: JSON.parse(value) as JsonObject, clientTime }))), byKey(sent), 'every event, rejoined')
  t.ok(events.every((e) => e.bucket === 'b' && e.serverToken === server.serverToken), 'bucket and serverToken')
  const times = new Map(stored.requests.map((req) => [req.reqId, req.time]))
  t.ok(events.every((e) => e.serverTime === times.get(e.reqId)), 'serverTime is the REQ_END time')
  t.equal(r.report.requests, 3)
  t.equal(r.report.incomplete, 0)
  t.equal(r.bufferedBytes, 0, 'nothing left open')
})

t.test('a corrupt batch and a truncated batch are reported with key, offset and reason; what came before is kept', async (t) => {
  const dir = tempDir(t)
  const good = writeBatch(dir, { serverToken: 'GoodSrv1', batchNumber: 1, startTime: T0 }, rawEvents([{ reqId: 1, time: T0, body: jsonBody(makeEvents('good', 2)) }]))
  const keptPart = rawEvents([{ reqId: 1, time: T0, body: jsonBody(makeEvents('before-damage', 2)) }])
  const corrupt = writeBatch(dir, { serverToken: 'BadSrv11', batchNumber: 1, startTime: T0 }, Buffer.concat([keptPart, Buffer.from([0xc1, 0x00, 0x01])]))
  // Truncated gzip: a small request, then a large incompressible one cut in the middle.
  const big = rawEvents([
    { reqId: 1, time: T0, body: jsonBody(makeEvents('before-cut', 1)) },
    { reqId: 2, time: T0 + 1, body: randomBytes(30_000), contentType: 'application/octet-stream' },
  ])
  const gz = gzipSync(big)
  const truncated = writeBatch(dir, { serverToken: 'CutSrv11', batchNumber: 1, startTime: T0 }, gz.subarray(0, Math.floor(gz.length * 0.6)), false)
  const after = writeBatch(dir, { serverToken: 'CutSrv11', batchNumber: 2, startTime: T0 + 120_000 }, rawEvents([{ reqId: 3, time: T0 + 120_000, body: jsonBody(makeEvents('after-cut', 1)) }]))

  const { reader: r, problems } = reader(dir)
  const keys = new Set((await collect(r.events())).map((e) => decodeKey(e.key)))
  t.same([...keys].sort(), ['after-cut-0', 'before-cut-0', 'before-damage-0', 'before-damage-1', 'good-0', 'good-1'], 'events before the damage and in other batches are kept')
  const damaged = problems.filter((p) => p.kind === 'damaged-batch')
  t.equal(damaged.length, 2)
  t.match(damaged.find((p) => p.key === corrupt), { offset: keptPart.length, reason: /length prefix is not a msgpack unsigned integer/, eventsKept: 2 })
  const cut = damaged.find((p) => p.key === truncated)!
  t.ok(cut, 'the truncated batch is named')
  t.match(cut.reason, /truncated/)
  t.ok(cut.offset > 0 && cut.offset < big.length, `offset ${cut.offset} within the batch`)
  t.equal(r.report.damagedBatches, 2)
  t.equal(r.report.batchesRead, 2, `${good} and ${after} read whole`)
  t.equal(r.report.incomplete, 0, 'the cut request never started (its REQ_DATA is where the cut is)')
  t.equal(r.report.possiblyPartial, 0, 'a batch that starts after the loss window is not suspect')
})

t.test('a gap in batch numbers is reported, and requests it may have cut are never replayed', async (t) => {
  const dir = tempDir(t)
  const body = jsonBody(makeEvents('x', 1))
  writeBatch(dir, { serverToken: 'GapSrv11', batchNumber: 1, startTime: T0 }, rawEvents([{ reqId: 1, time: T0, body }, { reqId: 2, time: T0 + 5, body: Buffer.from('{"key":'), noEnd: true }]))
  // Batch 2 is missing: it held the rest of request 2 and the start of request 3.
  writeBatch(dir, { serverToken: 'GapSrv11', batchNumber: 3, startTime: T0 + 20_000 }, rawEvents([
    { reqId: 2, time: T0 + 20_000, body: Buffer.from('"k","type":1,"value":{},"clientTime":1}') },
    { reqId: 3, time: T0 + 20_001, body: Buffer.from('}'), contentType: 'application/json' },
    { reqId: 4, time: T0 + 200_000, body: jsonBody(makeEvents('late', 1)) },
  ]))
  const { reader: r, problems } = reader(dir)
  const requests = await collect(r.requests())
  t.same(requests.map((req) => req.reqId), [1, 4], 'only requests that cannot have lost chunks')
  t.match(problems, [
    { kind: 'batch-gap', serverToken: 'GapSrv11', missing: [2, 2] },
    { kind: 'incomplete-requests', reqIds: [2], reason: 'cut by a lost batch' },
    { kind: 'possibly-partial-request', reqId: 3 },
  ])
  t.equal(r.report.missingBatches, 1)
  t.equal(r.report.possiblyPartial, 1)
})

t.test('requests still open after a server\'s last batch, and rejected or aborted ones, are counted, not replayed', async (t) => {
  const dir = tempDir(t)
  writeBatch(dir, { serverToken: 'QpenSrv1', batchNumber: 1, startTime: T0 }, rawEvents([
    { reqId: 1, time: T0, body: Buffer.from('half'), noEnd: true },
    { reqId: 2, time: T0, body: Buffer.from('x'.repeat(10)), outcome: 2 },
    { reqId: 3, time: T0, body: Buffer.from('y'), outcome: 1 },
    { reqId: 4, time: T0, body: Buffer.from('ok') },
  ]))
  const { reader: r, problems } = reader(dir)
  t.same((await collect(r.requests())).map((req) => req.body.toString()), ['ok'])
  t.same(r.report.notComplete, { 'too-large': 1, aborted: 1 })
  t.equal(r.report.incomplete, 1)
  t.match(problems, [{ kind: 'incomplete-requests', serverToken: 'QpenSrv1', reqIds: [1], reason: 'no REQ_END in the last batch' }])
})

t.test('a time range lists only the day folders it overlaps and keeps requests by REQ_END time', async (t) => {
  const dir = tempDir(t)
  const day = 86_400_000
  const from = T0
  const to = T0 + 3_600_000
  // A batch that started before --from (within the margin) holds a request that ends after it.
  writeBatch(dir, { serverToken: 'RangeSr1', batchNumber: 1, startTime: from - 30_000 }, rawEvents([
    { reqId: 1, time: from - 30_000, body: Buffer.from('before') },
    { reqId: 2, time: from + 10, body: Buffer.from('straddles') },
  ]))
  writeBatch(dir, { serverToken: 'RangeSr1', batchNumber: 2, startTime: to - 1000 }, rawEvents([
    { reqId: 3, time: to, body: Buffer.from('at to') },
    { reqId: 4, time: to + 1, body: Buffer.from('after') },
  ]))
  // Out of range day folders: if they were read, their damage would be reported.
  writeBatch(dir, { serverToken: 'RangeSr1', batchNumber: 9, startTime: from - 3 * day }, Buffer.from('not gzip, not events'), false)
  writeBatch(dir, { serverToken: 'RangeSr1', batchNumber: 10, startTime: to + 2 * day }, Buffer.from('not gzip, not events'), false)
  // Under a prefix folder: found too, and pruned the same way.
  writeBatch(dir, { prefix: 'pfx/web', serverToken: 'RangeSr2', batchNumber: 1, startTime: from + 60_000 }, rawEvents([{ reqId: 1, time: from + 60_000, body: Buffer.from('prefixed') }]))
  writeBatch(dir, { prefix: 'pfx/web', serverToken: 'RangeSr2', batchNumber: 7, startTime: from - 2 * day }, Buffer.from('not gzip, not events'), false)
  const { reader: r, problems } = reader(dir, { from, to })
  t.same((await collect(r.requests())).map((req) => req.body.toString()), ['straddles', 'at to', 'prefixed'])
  t.same(problems, [], 'out-of-range days are not read')
  t.equal(r.report.batches, 3)
  const prefixed = new BatchReader({ source: new DirectorySource(dir, { prefix: 'pfx/web' }), from, to })
  t.same((await collect(prefixed.requests())).map((req) => req.body.toString()), ['prefixed'], 'a prefix reads only its folder')
  t.equal(r.report.filteredOut, 2)
  t.same(dayPrefixes({ from, to }, 'p'), ['p/v1/2026-11-25/'])
  t.same(dayPrefixes({ from: Date.UTC(2026, 0, 1, 0, 0, 30), to: Date.UTC(2026, 0, 2, 23, 59, 59) }), ['v1/2025-12-31/', 'v1/2026-01-01/', 'v1/2026-01-02/', 'v1/2026-01-03/'], 'the margin reaches into the neighbouring days')
  t.equal(parseTime('2026-11-25T12:00:00Z'), T0)
  t.equal(parseTime(String(T0 / 1000)), T0)
  t.throws(() => parseTime('2026-11-25T12:00:00'), { code: 'LS_INVALID_OPTION' }, 'no zone: refused')
  t.throws(() => parseTime('yesterday'), { code: 'LS_INVALID_OPTION' })
})

t.test('explicit files: foreign names are reported; an uncompressed batch is read too', async (t) => {
  const dir = tempDir(t)
  const key = writeBatch(dir, { serverToken: 'FsrcSrv1', batchNumber: 4, startTime: T0 }, rawEvents([{ reqId: 1, time: T0, body: Buffer.from('raw') }]), false)
  const problems: ReadProblem[] = []
  const r = new BatchReader({ source: new FileSource([`${dir}/${key}`, `${dir}/nope.txt`]), onProblem: (p) => problems.push(p) })
  t.same((await collect(r.requests())).map((req) => req.body.toString()), ['raw'])
  t.match(problems, [{ kind: 'unreadable-batch', key: `${dir}/nope.txt`, reason: /not a batch key/ }])
  t.equal(r.report.unreadableBatches, 1, 'a named file that is not a batch is skipped data')
  t.equal(r.report.missingBatches, 0, 'explicit files do not have to start at batch 1')
})

t.test('decoders: registry by path and media type; bad bodies are reported as undecodable; adding one is one object', async (t) => {
  const dir = tempDir(t)
  writeBatch(dir, { serverToken: 'DecSrv11', batchNumber: 1, startTime: T0 }, rawEvents([
    { reqId: 1, time: T0, body: jsonBody(makeEvents('ok', 1)), contentType: 'application/json; charset=utf-8' },
    { reqId: 2, time: T0, body: Buffer.from('{not json'), contentType: 'application/json' },
    { reqId: 3, time: T0, body: jsonBody(makeEvents('nobucket', 1)), path: '/api/post-events' },
    { reqId: 4, time: T0, body: Buffer.from([1, 2, 3]), contentType: 'application/eventbuf-v2' },
    { reqId: 5, time: T0, body: Buffer.from('e=pageview'), path: '/track?e=pageview', contentType: 'text/plain' },
  ]))
  const { reader: r, problems } = reader(dir)
  t.same((await collect(r.events())).map((e) => decodeKey(e.key)), ['ok-0'])
  t.equal(r.report.undecodable, 3)
  t.equal(r.report.withoutDecoder, 1)
  t.match(problems.filter((p) => p.kind === 'undecodable-request'), [
    { reqId: 2, decoder: 'post-events/json', reason: /malformed JSON/ },
    { reqId: 3, reason: /missing bucket/ },
    { reqId: 4, decoder: 'post-events/eventbuf-v2', reason: /eventbuf-v2/ },
  ])

  const track: RequestDecoder = {
    name: 'track',
    paths: ['/track'],
    contentTypes: ['text/plain'],
    decode: (request: DecoderRequest, url: URL): EventRecord[] => [
      eventRecord({ bucket: 'track', key: encodeKey(request.reqId), type: url.searchParams.get('e')!, value: '{}', clientTime: request.time, serverTime: request.time, source: 'track' }),
    ],
  }
  const registry = new RequestDecoderRegistry().register(track)
  const r2 = new BatchReader({ source: new DirectorySource(dir), decoders: registry })
  t.same((await collect(r2.events())).map((e) => e.type), [7, 'pageview'], 'the new decoder reads /track')
  t.throws(() => new RequestDecoderRegistry().register({ ...postEventsJsonDecoder, name: 'again' }), { code: 'LS_INVALID_OPTION' }, 'one decoder per path and media type')
})

t.test('S3Source lists ListObjectsV2 page by page, one day prefix at a time', async (t) => {
  // s3rver cannot paginate on Node 20 (its continuation tokens need a cipher OpenSSL 3 dropped), so a stub client plays S3.
  const stored = Array.from({ length: 5 }, (_, i) => `logs/v1/2026-11-25/12-00-0${i}-000-Z-PageSrv1-RandomTk-${i + 1}-v1.gz`)
  const calls: Array<{ Prefix?: string; MaxKeys?: number; ContinuationToken?: string }> = []
  const client = {
    async send(command: { input: { Prefix?: string; MaxKeys?: number; ContinuationToken?: string } }) {
      const input = command.input
      calls.push(input)
      const matching = stored.filter((key) => key.startsWith(input.Prefix ?? ''))
      const start = Number(input.ContinuationToken ?? 0)
      const page = matching.slice(start, start + (input.MaxKeys ?? 1000))
      const next = start + page.length
      return { Contents: page.map((Key) => ({ Key })), IsTruncated: next < matching.length, NextContinuationToken: next < matching.length ? String(next) : undefined }
    },
    destroy() {},
  }
  const source = new S3Source({ bucket: 'b', prefix: '/logs/', pageSize: 2 }, client as never)
  const listed: string[] = []
  for await (const key of source.listKeys({ from: T0, to: T0 + 1000 })) listed.push(key)
  t.same(listed, stored, 'every key, across three pages')
  t.same(calls.map((c) => [c.Prefix, c.ContinuationToken]), [['logs/v1/2026-11-25/', undefined], ['logs/v1/2026-11-25/', '2'], ['logs/v1/2026-11-25/', '4']])
  calls.length = 0
  for await (const _ of source.listKeys({})) void _
  t.same(calls.map((c) => c.Prefix), ['logs/v1/', 'logs/v1/', 'logs/v1/'], 'no range: the whole v1/ folder')
  t.equal(source.description, 's3://b/logs/')
})
