#!/usr/bin/env node
// CPU per request, not wall time: each target under wrk for a few seconds, then the server's
// CPU (all threads, and its main thread alone) ÷ requests. On a loaded machine these figures
// move far less than req/s, so changes can be compared while other work runs.
//   node cpu.mjs [--targets baseline,serve-immediate] [--sizes 300B] [--duration 4] [--rounds 3] [--profile]
//                [--before DIR]  (targets before-serve-… run from the built checkout DIR) [--node-args '--flag …']
import { readFileSync, mkdirSync, readdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { setBeforeRoot, startTarget } from './load.mjs'
import { BODY_SIZES, jsonBody } from './lib/bodies.mjs'
import { cpuMs } from './lib/proc.mjs'
import { median } from './lib/stats.mjs'
import { formatProfile, summariseProfile } from './lib/cpuprofile-summary.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: 'baseline,serve-immediate' },
    sizes: { type: 'string', default: '300B' },
    duration: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    profile: { type: 'boolean', default: false },
    before: { type: 'string' },
    'node-args': { type: 'string', default: '' },
  },
})
if (values.before) setBeforeRoot(values.before)

/** utime + stime of the main thread of `pid` (its thread id is the pid), in ms. */
function mainThreadMs(pid) {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

function wrk(port, body, seconds) {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-wrk-'))
  writeFileSync(join(dir, 'body'), body)
  writeFileSync(join(dir, 'post.lua'), `wrk.method = "POST"\nlocal f = io.open("${join(dir, 'body')}", "rb")\nwrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "application/octet-stream"\n`)
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', '-c64', `-d${seconds}s`, '-s', join(dir, 'post.lua'), `http://127.0.0.1:${port}/api/post-events?bucket=bench`])
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true })
      if (code !== 0) return reject(new Error(out))
      resolve({ requests: Number(/(\d+) requests in/.exec(out)[1]), non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) })
    })
  })
}

const rows = []
for (const size of values.sizes.split(',')) {
  const body = jsonBody(BODY_SIZES[size], 7)
  for (const target of values.targets.split(',')) {
    const all = [], main = [], rates = []
    for (let round = 0; round < Number(values.rounds); round++) {
      const profDir = join(HERE, 'profiles', `cpu-${target}-${size}-${Date.now()}`)
      if (values.profile) mkdirSync(profDir, { recursive: true })
      const server = await startTarget(target, { batchSeconds: 10, extraNodeArgs: [...values['node-args'].split(' ').filter(Boolean), ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])] })
      await wrk(server.port, body, 1)
      const c0 = cpuMs(server.pid), m0 = mainThreadMs(server.pid)
      const r = await wrk(server.port, body, Number(values.duration))
      const c1 = cpuMs(server.pid), m1 = mainThreadMs(server.pid)
      await server.stop()
      if (r.non2xx) console.error(`${target} ${size}: ${r.non2xx} non-2xx`)
      all.push(((c1 - c0) * 1000) / r.requests)
      main.push(((m1 - m0) * 1000) / r.requests)
      rates.push(r.requests / Number(values.duration))
      if (values.profile) {
        const file = readdirSync(profDir).find((n) => n.endsWith('.cpuprofile'))
        if (file) console.log(`\n${target} ${size}:\n` + formatProfile(summariseProfile(JSON.parse(readFileSync(join(profDir, file), 'utf8')), 30)))
      }
    }
    rows.push({ target, size, cpuUs: median(all), mainUs: median(main), reqPerSec: median(rates), all, main })
    console.error(`${target} ${size}: CPU ${all.map((x) => x.toFixed(1)).join(' ')} µs/req, main thread ${main.map((x) => x.toFixed(1)).join(' ')} µs/req`)
  }
}
console.log('\n| target | body | CPU µs/req (all threads) | main thread µs/req | req/s (loaded machine) |\n| --- | --- | ---: | ---: | ---: |')
for (const r of rows) console.log(`| ${r.target} | ${r.size} | ${r.cpuUs.toFixed(1)} | ${r.mainUs.toFixed(1)} | ${r.reqPerSec.toFixed(0)} |`)
process.exit(0)
