#!/usr/bin/env node
// Load benchmark: every target in its own child process, driven from here with
// autocannon (or wrk), interleaved per round (A B C … A B C …) so that the
// ratios to the bare node:http baseline hold on a noisy machine.
//
//   node load.mjs [--rounds 2] [--duration 10] [--warmup 2] [--quick]
//                 [--targets baseline,fastify,...] [--sizes 300B,4KiB,64KiB]
//                 [--batch-seconds 10] [--loader autocannon|wrk] [--out results/<date>.json]
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir, cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'
import { BODY_SIZES, jsonBody } from './lib/bodies.mjs'
import { treeCpuMs as cpuMs, treeMemory as memory } from './lib/proc.mjs'
import { median, percentile } from './lib/stats.mjs'
import { parseObjectKey } from '../dist/index.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..')
const CONNECTIONS = 64
const PATH = '/api/post-events?bucket=bench'
// ack=s3 answers a request only once its batch is stored: throughput is bounded by
// connections / batch interval by design, so it runs with 1 s batches, at 300 B only.
const S3_ACK_BATCH_SECONDS = 1

/** serve-<ack> with options: -w<N|auto> (--workers; without it, one process: --workers 1), -gz<level> (--gzip-level), -bin (--body-encoding bin). */
const SERVE_VARIANT = /^serve-(immediate|spool|s3)(-(w(\d+|auto)|gz\d|bin))*$/
const ALL_TARGETS = ['baseline', 'fastify', 'serve-immediate', 'serve-immediate-w2', 'serve-spool', 'serve-s3', 'handle-request']

export function parseLoadOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    strict: false,
    options: {
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      quick: { type: 'boolean', default: false },
      targets: { type: 'string' },
      sizes: { type: 'string' },
      'batch-seconds': { type: 'string' },
      loader: { type: 'string' },
      out: { type: 'string' },
      before: { type: 'string' },
      'node-args': { type: 'string' },
      rate: { type: 'string' },
    },
  })
  const quick = values.quick
  const options = {
    quick,
    rounds: Number(values.rounds ?? (quick ? 1 : 2)),
    duration: Number(values.duration ?? (quick ? 3 : 10)),
    warmup: Number(values.warmup ?? (quick ? 1 : 2)),
    // 10 s batches (the default) seal once inside a 2 s warm-up + 10 s run, at about 8 s in.
    batchSeconds: Number(values['batch-seconds'] ?? (quick ? 2 : 10)),
    targets: (values.targets ?? ALL_TARGETS.join(',')).split(',').filter(Boolean),
    sizes: (values.sizes ?? Object.keys(BODY_SIZES).join(',')).split(',').filter(Boolean),
    loader: values.loader ?? 'autocannon',
    out: values.out,
    // Node flags for the serve targets (e.g. --node-args=--max-semi-space-size=1).
    extraNodeArgs: (values['node-args'] ?? '').split(' ').filter(Boolean),
    // autocannon only: a fixed request rate (all connections together) instead of saturation.
    rate: values.rate ? Number(values.rate) : undefined,
  }
  if (values.before) setBeforeRoot(values.before)
  for (const t of options.targets.map((name) => name.replace(/^before-/, ''))) if (!ALL_TARGETS.includes(t) && !SERVE_VARIANT.test(t)) throw new Error(`unknown target ${t}; known: ${ALL_TARGETS.join(', ')} (serve-<ack> takes suffixes -w<N|auto>, -gz<level>, -bin)`)
  for (const s of options.sizes) if (!(s in BODY_SIZES)) throw new Error(`unknown size ${s}; known: ${Object.keys(BODY_SIZES).join(', ')}`)
  if (!['autocannon', 'wrk'].includes(options.loader)) throw new Error('--loader must be autocannon or wrk')
  if (options.loader === 'wrk' && !hasWrk()) throw new Error('--loader wrk: wrk is not installed (apt-get install -y wrk)')
  return options
}

function hasWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return true
  } catch (err) {
    return err.status === 1 // wrk --version exits 1 after printing its version
  }
}

// ---- child processes -------------------------------------------------------

const children = new Set()
function killChildren() {
  for (const child of children) child.kill('SIGKILL')
}
process.on('exit', killChildren)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killChildren()
    process.exit(130)
  })
}

/**
 * `before-<target>` runs <target> from another checkout (built), given by --before DIR: the
 * same load side by side against older code. Only serve targets use the checkout.
 */
let beforeRoot
export function setBeforeRoot(dir) {
  beforeRoot = dir
}

function commandFor(target, dir, batchSeconds) {
  const node = process.execPath
  let root = ROOT
  if (target.startsWith('before-')) {
    if (!beforeRoot) throw new Error(`${target}: give the older checkout with --before DIR`)
    target = target.slice('before-'.length)
    root = beforeRoot
  }
  if (target === 'baseline') return [node, [join(HERE, 'targets/baseline.mjs')]]
  if (target === 'fastify') return [node, [join(HERE, 'targets/fastify.mjs')]]
  if (target === 'handle-request') return [node, [join(HERE, 'targets/handle-request.mjs'), '--dir', dir, '--batch-seconds', String(batchSeconds)]]
  // serve-immediate-w2: the same with --workers 2 (RSS and CPU columns then show the cluster primary only).
  const [ack, ...suffixes] = target.slice('serve-'.length).split('-')
  const workers = suffixes.find((s) => s.startsWith('w'))?.slice(1)
  const gzipLevel = suffixes.find((s) => s.startsWith('gz'))?.slice(2)
  const bin = suffixes.includes('bin')
  return [
    node,
    [
      join(root, 'bin/logging-system.js'), 'serve', '--port', '0', '--host', '127.0.0.1',
      '--dir', join(dir, 'batches'), '--spool-dir', join(dir, 'spool'), '--unsent-dir', join(dir, 'unsent'),
      '--ack', ack, '--batch-seconds', String(ack === 's3' ? S3_ACK_BATCH_SECONDS : batchSeconds), '--log-level', 'info',
      // No -w suffix is one process (serve's own default is one worker per core).
      '--workers', workers ?? '1',
      ...(gzipLevel ? ['--gzip-level', gzipLevel] : []),
      ...(bin ? ['--body-encoding', 'bin'] : []),
    ],
  ]
}

/** Starts a target; resolves with { child, pid, port, flushes } once it listens. */
export function startTarget(target, { batchSeconds, extraNodeArgs = [] }) {
  const dir = mkdtempSync(join(tmpdir(), `bench-${target}-`))
  const [command, args] = commandFor(target, dir, batchSeconds)
  // Node flags (profiling, heap sizes) apply to the logger's targets only, never to the baseline.
  const nodeArgs = target.includes('serve') || target === 'handle-request' ? extraNodeArgs : []
  const child = spawn(command, [...nodeArgs, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  const flushes = [] // { storedAt (epoch ms), ms (store duration) }
  let stderr = ''
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)))
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child)
    resolve({ code, signal })
  }))
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${target} did not listen within 15 s: ${stderr}`)), 15_000)
    exited.then(({ code }) => reject(new Error(`${target} exited (${code}) before listening: ${stderr}`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry
      try {
        entry = JSON.parse(line)
      } catch {
        return
      }
      if (entry.msg === 'listening' && entry.port) {
        clearTimeout(timer)
        resolve(entry.port)
      } else if (entry.msg === 'batch stored') {
        // startTime: when the batch got its first event (from the key); it is due batchSeconds later.
        const startTime = entry.startTime ?? (entry.key ? parseObjectKey(entry.key)?.startTime : undefined)
        flushes.push({ storedAt: entry.time, ms: entry.ms ?? 0, startTime, events: entry.events, bytes: entry.bytes })
      }
    })
  })
  return listening.then((port) => ({
    child,
    pid: child.pid,
    port,
    flushes,
    dir,
    async stop() {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
      rmSync(dir, { recursive: true, force: true })
    },
  }))
}

// ---- loaders -----------------------------------------------------------------

/** Growable (time, latency) record of every response, in the loader's clock (performance.now). */
class ResponseLog {
  constructor() {
    this.times = new Float64Array(1 << 16)
    this.latencies = new Float64Array(1 << 16)
    this.length = 0
    this.errors = 0
    this.non2xx = 0
  }
  push(time, latency) {
    if (this.length === this.times.length) {
      const grow = (a) => {
        const b = new Float64Array(a.length * 2)
        b.set(a)
        return b
      }
      this.times = grow(this.times)
      this.latencies = grow(this.latencies)
    }
    this.times[this.length] = time
    this.latencies[this.length++] = latency
  }
}

function runAutocannon({ port, body, seconds, onStart, rate }) {
  const log = new ResponseLog()
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}${PATH}`,
        connections: CONNECTIONS,
        pipelining: 1,
        duration: seconds,
        method: 'POST',
        body,
        headers: { 'content-type': 'application/octet-stream' },
        timeout: 30,
        ...(rate ? { overallRate: rate } : {}),
      },
      (err, result) => (err ? reject(err) : resolve({ log, result })),
    )
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode > 299) log.non2xx++
      log.push(performance.now(), responseTime)
    })
    instance.on('reqError', () => log.errors++)
    onStart?.()
  })
}

function runWrk({ port, body, seconds }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'))
  writeFileSync(join(dir, 'body'), body)
  writeFileSync(
    join(dir, 'post.lua'),
    `wrk.method = "POST"\nlocal f = io.open("${join(dir, 'body')}", "rb")\nwrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "application/octet-stream"\n`,
  )
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '30s', '--latency', '-s', join(dir, 'post.lua'), `http://127.0.0.1:${port}${PATH}`])
    children.add(child)
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('exit', (code) => {
      children.delete(child)
      rmSync(dir, { recursive: true, force: true })
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`))
      const ms = (text) => {
        const m = /([\d.]+)(us|ms|s)\b/.exec(text)
        return m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : NaN
      }
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN)
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
      const errors = /Socket errors: (.*)/.exec(out)?.[1]
      resolve({
        requests,
        non2xx,
        errors: errors ? errors.match(/\d+/g).reduce((a, b) => a + Number(b), 0) : 0,
        p50: ms(/50%\s+(\S+)/.exec(out)?.[1] ?? ''),
        p99: ms(/99%\s+(\S+)/.exec(out)?.[1] ?? ''),
      })
    })
  })
}

// ---- one run -------------------------------------------------------------------

/** Measures one target at one body size: load, latency, flush-window p99, peak RSS, CPU per request. */
export async function runOne(target, sizeName, options) {
  const body = jsonBody(BODY_SIZES[sizeName], 7)
  const server = await startTarget(target, options)
  const { pid } = server
  let peakSampledKiB = 0
  const sampler = setInterval(() => {
    const m = memory(pid)
    if (m) peakSampledKiB = Math.max(peakSampledKiB, m.rssKiB)
  }, 100)
  const row = { target, size: sizeName, bodyBytes: body.byteLength, pid }
  try {
    if (options.loader === 'wrk') {
      await runWrk({ port: server.port, body, seconds: options.warmup })
      const cpu0 = cpuMs(pid)
      const r = await runWrk({ port: server.port, body, seconds: options.duration })
      const cpu1 = cpuMs(pid)
      Object.assign(row, {
        requests: r.requests,
        reqPerSec: r.requests / options.duration,
        p50Ms: r.p50,
        p99Ms: r.p99,
        errors: r.errors,
        non2xx: r.non2xx,
        cpuUsPerReq: ((cpu1 - cpu0) * 1000) / r.requests,
      })
    } else {
      const started = performance.now()
      const windowStart = started + options.warmup * 1000
      const windowEnd = windowStart + options.duration * 1000
      let cpu0, cpu1
      const marks = [
        setTimeout(() => (cpu0 = cpuMs(pid)), options.warmup * 1000),
        setTimeout(() => (cpu1 = cpuMs(pid)), (options.warmup + options.duration) * 1000),
      ]
      const { log } = await runAutocannon({ port: server.port, body, seconds: options.warmup + options.duration, rate: options.rate })
      marks.forEach(clearTimeout)
      cpu1 ??= cpuMs(pid)
      // Flush windows, in the loader's clock: from 1 s before the store began to 1 s after it ended.
      const flushWindows = server.flushes
        .map((f) => [f.storedAt - performance.timeOrigin - f.ms - 1000, f.storedAt - performance.timeOrigin + 1000])
        .filter(([a, b]) => b > windowStart && a < windowEnd)
      const all = []
      const inFlush = []
      const steady = []
      for (let i = 0; i < log.length; i++) {
        const t = log.times[i]
        if (t < windowStart || t > windowEnd) continue
        const latency = log.latencies[i]
        all.push(latency)
        if (flushWindows.some(([a, b]) => t >= a && t <= b)) inFlush.push(latency)
        else steady.push(latency)
      }
      const sort = (a) => Float64Array.from(a).sort()
      const sAll = sort(all)
      const sFlush = sort(inFlush)
      const sSteady = sort(steady)
      Object.assign(row, {
        requests: all.length,
        reqPerSec: all.length / options.duration,
        p50Ms: percentile(sAll, 50),
        p99Ms: percentile(sAll, 99),
        maxMs: sAll[sAll.length - 1],
        flushes: flushWindows.length,
        flushRequests: sFlush.length,
        flushP99Ms: sFlush.length >= 100 ? percentile(sFlush, 99) : NaN,
        steadyP99Ms: sSteady.length ? percentile(sSteady, 99) : NaN,
        errors: log.errors,
        non2xx: log.non2xx,
        cpuUsPerReq: ((cpu1 - cpu0) * 1000) / all.length,
      })
    }
  } finally {
    clearInterval(sampler)
    const m = memory(pid)
    row.peakRssMB = Math.max(peakSampledKiB, m?.hwmKiB ?? 0) / 1024
    // A cluster: the largest single process (a worker), next to the sum above.
    row.peakProcessRssMB = (m?.maxHwmKiB ?? 0) / 1024
    const loadEnded = Date.now()
    row.batchesDuringLoad = server.flushes.length
    await server.stop()
    row.batchesAfterLoad = server.flushes.filter((f) => f.storedAt > loadEnded).length
    row.batches = server.flushes.length
    row.batchEvents = server.flushes.reduce((a, f) => a + (f.events ?? 0), 0)
    // How late the batches sealed while under load were stored, past their due time (start + batch interval).
    const due = target === 'serve-s3' ? S3_ACK_BATCH_SECONDS : options.batchSeconds
    // Only batches that fell due while the load ran: the last one, sealed early by the SIGTERM, is not late.
    row.storeLagsMs = server.flushes
      .filter((f) => f.startTime !== undefined && f.startTime + due * 1000 < loadEnded)
      .map((f) => f.storedAt - f.startTime - due * 1000)
    row.maxStoreLagMs = row.storeLagsMs.length ? Math.max(...row.storeLagsMs) : NaN
  }
  return row
}

// ---- the whole matrix ------------------------------------------------------------

function fmt(n, digits = 0) {
  return Number.isFinite(n) ? n.toFixed(digits) : '–'
}

export function summarise(runs, options) {
  const rows = []
  for (const size of options.sizes) {
    for (const target of options.targets) {
      const mine = runs.filter((r) => r.target === target && r.size === size)
      if (mine.length === 0) continue
      // Ratio per round against the baseline of the same round and size, then the median.
      const ratios = mine.map((r) => {
        const base = runs.find((b) => b.target === 'baseline' && b.size === size && b.round === r.round)
        return base ? r.reqPerSec / base.reqPerSec : NaN
      })
      const m = (key) => median(mine.map((r) => r[key]))
      const flushP99 = m('flushP99Ms')
      const steadyP99 = m('steadyP99Ms')
      rows.push({
        target,
        size,
        rounds: mine.length,
        reqPerSec: m('reqPerSec'),
        ratio: median(ratios),
        ratios,
        p50Ms: m('p50Ms'),
        p99Ms: m('p99Ms'),
        steadyP99Ms: steadyP99,
        flushP99Ms: flushP99,
        flushRatio: median(mine.map((r) => r.flushP99Ms / r.steadyP99Ms)),
        peakRssMB: Math.max(...mine.map((r) => r.peakRssMB)),
        peakProcessRssMB: Math.max(...mine.map((r) => r.peakProcessRssMB)),
        cpuUsPerReq: m('cpuUsPerReq'),
        maxStoreLagMs: Math.max(...mine.map((r) => (Number.isFinite(r.maxStoreLagMs) ? r.maxStoreLagMs : -Infinity))),
        flushesInWindow: mine.map((r) => r.flushes ?? 0),
        errors: mine.reduce((a, r) => a + (r.errors ?? 0), 0),
        non2xx: mine.reduce((a, r) => a + (r.non2xx ?? 0), 0),
      })
    }
  }
  return rows
}

export function formatTable(rows) {
  const lines = [
    '| target | body | req/s | × baseline | p50 ms | p99 ms | steady p99 ms | flush p99 ms (× steady) | peak RSS MB (largest process) | CPU µs/req | batch store lag, max ms | errors / non-2xx |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of rows) {
    const flush = Number.isFinite(r.flushP99Ms) ? `${fmt(r.flushP99Ms, 1)} (${fmt(r.flushRatio, 2)}×)` : r.target.startsWith('serve') || r.target === 'handle-request' ? 'no flush in run' : '–'
    lines.push(
      `| ${r.target} | ${r.size} | ${fmt(r.reqPerSec)} | ${fmt(r.ratio, 2)} | ${fmt(r.p50Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${fmt(r.steadyP99Ms, 1)} | ${flush} | ${fmt(r.peakRssMB, 0)} (${fmt(r.peakProcessRssMB, 0)}) | ${fmt(r.cpuUsPerReq, 0)} | ${fmt(r.maxStoreLagMs, 0)} | ${r.errors} / ${r.non2xx} |`,
    )
  }
  return lines.join('\n')
}

export function machine() {
  let model = cpus()[0]?.model ?? 'unknown'
  try {
    model = /Model name:\s*(.*)/.exec(execFileSync('lscpu').toString())?.[1] ?? model
  } catch {}
  return { cores: cpus().length, model, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, platform: `${process.platform} ${process.arch}` }
}

export async function runLoad(options) {
  const runs = []
  const plan = []
  for (let round = 1; round <= options.rounds; round++) {
    for (const size of options.sizes) {
      for (const target of options.targets) {
        if (target === 'serve-s3' && size !== '300B') continue
        plan.push({ round, size, target })
      }
    }
  }
  const perRun = options.warmup + options.duration + 1
  console.error(`load: ${plan.length} runs × ~${perRun} s ≈ ${Math.ceil((plan.length * perRun) / 60)} min (loader ${options.loader}, ${CONNECTIONS} connections, batches ${options.batchSeconds} s)`)
  for (const [i, step] of plan.entries()) {
    const row = await runOne(step.target, step.size, options)
    row.round = step.round
    runs.push(row)
    console.error(
      `  [${i + 1}/${plan.length}] round ${step.round} ${step.target} ${step.size}: ${fmt(row.reqPerSec)} req/s, p99 ${fmt(row.p99Ms, 1)} ms, RSS ${fmt(row.peakRssMB)} MB, ${fmt(row.cpuUsPerReq)} µs/req` +
        (row.flushes ? `, flush p99 ${fmt(row.flushP99Ms, 1)} ms vs ${fmt(row.steadyP99Ms, 1)}` : '') +
        (row.errors || row.non2xx ? `, ${row.errors} errors, ${row.non2xx} non-2xx` : ''),
    )
  }
  return { runs, rows: summarise(runs, options) }
}

export function resultsPath(out) {
  if (out) return out
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '')
  mkdirSync(join(HERE, 'results'), { recursive: true })
  return join(HERE, 'results', `${stamp}.json`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = parseLoadOptions(process.argv.slice(2))
  const started = new Date()
  const { runs, rows } = await runLoad(options)
  console.log(`\nLoad (${options.loader}, ${CONNECTIONS} connections, keep-alive, medians of ${options.rounds} interleaved round(s) of ${options.duration} s after ${options.warmup} s warm-up)\n`)
  console.log(formatTable(rows))
  const file = resultsPath(options.out)
  writeFileSync(file, JSON.stringify({ date: started.toISOString(), machine: machine(), options, load: { rows, runs } }, null, 2))
  console.error(`\nraw figures: ${file}`)
  process.exit(0)
}
