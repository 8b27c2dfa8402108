#!/usr/bin/env node
// The compression limit, measured: the exact bytes the logger writes for N requests (REQ_DATA +
// REQ_END frames, as base64 or bin bodies), gzipped on one core in 256 KiB writes like the server's
// staging buffers (best of 3). Prints per body size, encoding and level: raw MB/s into gzip, the requests per
// second one core of gzip sustains for those bytes, and stored bytes per request. CPU time, not wall.
// Then the same bytes as the writer stores them now, one gzip member per staging buffer (512 KiB)
// (formats/batch-v1.md §1), through the writer's MemberCompressor: stored bytes per request, CPU, and requests/s with members compressing
// `--in-flight` at a time in the thread pool (wall time: what several cores give).
//   node gzip-limit.mjs [--levels 1,3,6] [--requests 4000] [--in-flight <writer default>] [--member-kib 512]
import { createGzip } from 'node:zlib'
import { parseArgs } from 'node:util'
import { frameBytes, reqDataFrame, reqEndFrame } from '../dist/index.js'
import { DEFAULT_MAX_MEMBERS_IN_FLIGHT, DEFAULT_STAGING_BYTES, MemberCompressor } from '../dist/batch/batch-writer.js'
import { BODY_SIZES, jsonBody } from './lib/bodies.mjs'

const { values } = parseArgs({ options: { levels: { type: 'string', default: '1,3,6' }, requests: { type: 'string', default: '3000' }, 'in-flight': { type: 'string' }, 'member-kib': { type: 'string' } } })
const levels = values.levels.split(',').map(Number)
const inFlight = Number(values['in-flight'] ?? DEFAULT_MAX_MEMBERS_IN_FLIGHT)
const STAGING = values['member-kib'] ? Number(values['member-kib']) * 1024 : DEFAULT_STAGING_BYTES

/** The frames of `n` requests with these bodies (cycled), as the server writes them. */
function frames(bodies, n, encoding) {
  const parts = []
  for (let reqId = 1; reqId <= n; reqId++) {
    const body = bodies[reqId % bodies.length]
    const time = 1_764_000_000_000 + reqId
    // Socket reads hand over at most 64 KiB at a time: one REQ_DATA per piece.
    for (let at = 0; at < body.length; at += 65536) parts.push(frameBytes(reqDataFrame(reqId, time, body.subarray(at, at + 65536), encoding)))
    parts.push(frameBytes(reqEndFrame({ reqId, serverTime: time, ip: '127.0.0.1', contentType: 'application/octet-stream', path: '/api/post-events?bucket=bench', method: 'POST', headers: { 'user-agent': 'wrk' }, outcome: 0 })))
  }
  return Buffer.concat(parts)
}

function gzipCpu(raw, level) {
  return new Promise((resolve) => {
    const gzip = createGzip({ level, chunkSize: 64 * 1024 })
    let out = 0
    gzip.on('data', (c) => (out += c.length))
    const t0 = process.cpuUsage()
    gzip.on('end', () => {
      const t = process.cpuUsage(t0)
      resolve({ cpuS: (t.user + t.system) / 1e6, out })
    })
    // The zlib thread does the work; process CPU counts it (the main thread only queues).
    for (let at = 0; at < raw.length; at += 256 * 1024) gzip.write(raw.subarray(at, at + 256 * 1024))
    gzip.end()
  })
}

/** One member per staging buffer through the writer's own MemberCompressor, `inFlight` at a time: wall and CPU seconds, stored bytes. */
function gzipMembers(raw, level) {
  const compressor = new MemberCompressor(level, inFlight)
  return new Promise((resolve, reject) => {
    let pending = 0
    let out = 0
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    for (let at = 0; at < raw.length; at += STAGING) {
      pending++
      compressor.compress(raw.subarray(at, at + STAGING), (error, member) => {
        if (error) return reject(error)
        out += member.length
        if (--pending > 0) return
        const c = process.cpuUsage(c0)
        resolve({ wallS: (performance.now() - t0) / 1000, cpuS: (c.user + c.system) / 1e6, out })
      })
    }
  })
}

console.log(`| body | bodies | encoding | level | raw bytes / request | MB/s into gzip (one core) | requests/s of gzip alone | stored bytes / request | stored, ${STAGING / 1024} KiB members | members: requests/s per CPU second | members ${inFlight} at a time: requests/s (wall) |`)
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const [name, size] of Object.entries(BODY_SIZES)) {
  const n = Math.max(200, Math.floor(Number(values.requests) * (300 / size) ** 0.5))
  for (const [kind, bodies] of [['one, repeated (the load test)', [jsonBody(size, 7)]], ['64 distinct', Array.from({ length: 64 }, (_, i) => jsonBody(size, 100 + i))]]) {
    for (const encoding of ['base64', 'bin']) {
      const raw = frames(bodies, n, encoding)
      for (const level of levels) {
        // Best of 3 after a warm-up: the least disturbed run on a shared machine.
        await gzipCpu(raw, level)
        const runs = [await gzipCpu(raw, level), await gzipCpu(raw, level), await gzipCpu(raw, level)]
        const { out } = runs[0]
        const cpuS = Math.min(...runs.map((r) => r.cpuS))
        await gzipMembers(raw, level)
        const memberRuns = [await gzipMembers(raw, level), await gzipMembers(raw, level), await gzipMembers(raw, level)]
        const wallS = Math.min(...memberRuns.map((r) => r.wallS))
        const memberCpuS = Math.min(...memberRuns.map((r) => r.cpuS))
        const membersOut = memberRuns[0].out
        console.log(`| ${name} | ${kind} | ${encoding} | ${level} | ${(raw.length / n).toFixed(0)} | ${(raw.length / cpuS / 1e6).toFixed(0)} | ${(n / cpuS).toFixed(0)} | ${(out / n).toFixed(0)} | ${(membersOut / n).toFixed(0)} (${(((membersOut - out) / out) * 100).toFixed(1)} %) | ${(n / memberCpuS).toFixed(0)} | ${(n / wallS).toFixed(0)} |`)
      }
    }
  }
}
