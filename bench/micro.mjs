#!/usr/bin/env node
// Micro-benchmarks, in-process, no network:
//   1. batch V1 encoding (encodeReqData / encodeReqEnd) vs a bare @msgpack/msgpack encode of the same maps;
//   2. gzip levels on a realistic batch: MB/s and stored bytes per event (to pick the default level);
//   3. replay decoding: decodeBatchV1 over the uncompressed batch, and gunzip + decode (readBatchBody).
//
//   node micro.mjs [--quick] [--json out.json]
import { writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { encode } from '@msgpack/msgpack'
import { encodeReqData, encodeReqEnd, decodeBatchV1, readBatchBody, Field, REQ_DATA_EVENT, REQ_END_EVENT } from '../dist/index.js'
import { jsonBody } from './lib/bodies.mjs'
import { timeBest } from './lib/stats.mjs'

const MB = 1e6

/** Requests like the load test's: 80 % 300 B JSON bodies, 20 % 4 KiB; one REQ_DATA + one REQ_END each. */
function makeRequests(count) {
  const small = Array.from({ length: 16 }, (_, i) => jsonBody(300, 100 + i))
  const large = Array.from({ length: 4 }, (_, i) => jsonBody(4096, 200 + i))
  const t0 = Date.UTC(2026, 10, 25, 12)
  const requests = []
  for (let i = 0; i < count; i++) {
    requests.push({
      reqId: i + 1,
      serverTime: t0 + i,
      chunk: i % 5 === 4 ? large[i % large.length] : small[i % small.length],
      end: {
        reqId: i + 1,
        serverTime: t0 + i,
        ip: `10.0.${(i >> 8) & 255}.${i & 255}`,
        contentType: 'application/json',
        path: '/api/post-events?bucket=demo',
        method: 'POST',
        headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', origin: 'https://shop.example.com' },
        outcome: 0,
      },
    })
  }
  return requests
}

function encodeAll(requests) {
  const frames = []
  for (const r of requests) {
    frames.push(encodeReqData(r.reqId, r.serverTime, r.chunk))
    frames.push(encodeReqEnd(r.end))
  }
  return frames
}

// The same maps and framing, built with the plain library calls and nothing else.
function bareFrame(map) {
  const body = encode(map)
  const prefix = encode(body.byteLength)
  const framed = Buffer.allocUnsafe(prefix.byteLength + body.byteLength)
  framed.set(prefix, 0)
  framed.set(body, prefix.byteLength)
  return framed
}

function dataMap(r) {
  return { [Field.eventType]: REQ_DATA_EVENT, [Field.reqId]: r.reqId, [Field.serverTime]: r.serverTime, [Field.data]: Buffer.from(r.chunk).toString('base64') }
}

function endMap(e) {
  return {
    [Field.eventType]: REQ_END_EVENT, [Field.reqId]: e.reqId, [Field.serverTime]: e.serverTime, [Field.ip]: e.ip, [Field.contentType]: e.contentType,
    [Field.path]: e.path, [Field.method]: e.method, [Field.headers]: e.headers, [Field.outcome]: e.outcome,
  }
}

function bareAll(requests) {
  const frames = []
  for (const r of requests) {
    frames.push(bareFrame(dataMap(r)))
    frames.push(bareFrame(endMap(r.end)))
  }
  return frames
}

function rate(bytes, events, ms) {
  return { eventsPerSec: (events / ms) * 1000, mbPerSec: bytes / MB / (ms / 1000), ms }
}

export function runMicro({ encodeRequests, requests: count, minMs }) {
  const out = { encodeEvents: encodeRequests * 2, requests: count, events: count * 2 }
  const many = makeRequests(encodeRequests)
  const requests = many.slice(0, count)

  // 1. Encoding, over encodeRequests requests.
  const encodedBytes = Buffer.concat(encodeAll(many)).byteLength
  // The batch for gzip and decoding: `count` requests, about one full batch (32 MiB raw) at the default 20 000.
  const frames = encodeAll(requests)
  const raw = Buffer.concat(frames)
  const events = frames.length
  if (!Buffer.concat(bareAll(requests.slice(0, 100))).equals(Buffer.concat(encodeAll(requests.slice(0, 100))))) {
    throw new Error('bare msgpack framing differs from encodeReqData/encodeReqEnd: the comparison would be unfair')
  }
  const prebuilt = many.map((r) => [dataMap(r), endMap(r.end)]).flat()
  out.rawBytes = raw.byteLength
  const encodeEvents = many.length * 2
  out.encode = {
    batchV1: rate(encodedBytes, encodeEvents, timeBest(() => encodeAll(many), { minMs }).bestMs),
    bareMsgpack: rate(encodedBytes, encodeEvents, timeBest(() => bareAll(many), { minMs }).bestMs),
    bareMsgpackPrebuiltMaps: rate(encodedBytes, encodeEvents, timeBest(() => prebuilt.map(bareFrame), { minMs }).bestMs),
  }

  // 2. gzip levels, on a batch capped like the writer's (one call over the whole raw batch).
  out.gzip = {}
  for (const level of [1, 3, 6, 9]) {
    let stored
    const t = timeBest(() => (stored = gzipSync(raw, { level })), { minMs, minRuns: 2 })
    out.gzip[level] = { ...rate(raw.byteLength, events, t.bestMs), storedBytes: stored.byteLength, bytesPerEvent: stored.byteLength / events, bytesPerRequest: stored.byteLength / count, ratio: raw.byteLength / stored.byteLength }
  }

  // 3. Replay decoding.
  const gz = gzipSync(raw, { level: 6 })
  let decoded = 0
  const decodeOnly = timeBest(() => {
    decoded = 0
    for (const _ of decodeBatchV1(raw)) decoded++
  }, { minMs, minRuns: 2 })
  if (decoded !== events) throw new Error(`decoded ${decoded} events, expected ${events}`)
  const gunzipDecode = timeBest(() => {
    for (const _ of readBatchBody(gz)) decoded++
  }, { minMs, minRuns: 2 })
  out.decode = {
    decodeBatchV1: rate(raw.byteLength, events, decodeOnly.bestMs),
    gunzipAndDecode: rate(raw.byteLength, events, gunzipDecode.bestMs),
  }
  return out
}

const f = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

export function formatMicro(m) {
  const lines = []
  lines.push(`Encoding: ${f(m.encodeEvents)} events per call. Gzip and decoding: a batch of ${f(m.requests)} requests = ${f(m.events)} events (80 % 300 B / 20 % 4 KiB JSON bodies), ${f(m.rawBytes / MB, 1)} MB uncompressed. Best of repeated runs.`)
  lines.push('', '| encoding | events/s | MB/s (framed output) | × bare msgpack |', '| --- | ---: | ---: | ---: |')
  const bare = m.encode.bareMsgpack.eventsPerSec
  lines.push(`| encodeReqData / encodeReqEnd | ${f(m.encode.batchV1.eventsPerSec)} | ${f(m.encode.batchV1.mbPerSec)} | ${f(m.encode.batchV1.eventsPerSec / bare, 2)} |`)
  lines.push(`| bare @msgpack/msgpack encode() of the same maps (base64 included) + prefix | ${f(bare)} | ${f(m.encode.bareMsgpack.mbPerSec)} | 1.00 |`)
  lines.push(`| bare encode() of prebuilt maps (no base64, no map building) | ${f(m.encode.bareMsgpackPrebuiltMaps.eventsPerSec)} | ${f(m.encode.bareMsgpackPrebuiltMaps.mbPerSec)} | ${f(m.encode.bareMsgpackPrebuiltMaps.eventsPerSec / bare, 2)} |`)
  lines.push('', '| gzip level | MB/s (raw in) | stored bytes / event | stored bytes / request | ratio |', '| --- | ---: | ---: | ---: | ---: |')
  for (const [level, g] of Object.entries(m.gzip)) {
    lines.push(`| ${level} | ${f(g.mbPerSec)} | ${f(g.bytesPerEvent, 1)} | ${f(g.bytesPerRequest, 1)} | ${f(g.ratio, 1)}× |`)
  }
  lines.push('', '| replay decoding | MB/s (uncompressed batch) | events/s |', '| --- | ---: | ---: |')
  lines.push(`| decodeBatchV1 | ${f(m.decode.decodeBatchV1.mbPerSec)} | ${f(m.decode.decodeBatchV1.eventsPerSec)} |`)
  lines.push(`| readBatchBody (gunzip + decode) | ${f(m.decode.gunzipAndDecode.mbPerSec)} | ${f(m.decode.gunzipAndDecode.eventsPerSec)} |`)
  return lines.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, json: { type: 'string' } } })
  const m = runMicro({ encodeRequests: values.quick ? 20_000 : 100_000, requests: 20_000, minMs: values.quick ? 300 : 1500 })
  console.log(formatMicro(m))
  if (values.json) writeFileSync(values.json, JSON.stringify(m, null, 2))
}
