#!/usr/bin/env node
// CPU profile of `logging-system serve --ack immediate` under the 300 B load (64 connections),
// then its top self-time functions.   node profile.mjs [--duration 10] [--ack immediate] [--size 300B]
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runOne } from './load.mjs'
import { formatProfile, summariseProfile } from './lib/cpuprofile-summary.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, ack: { type: 'string', default: 'immediate' }, size: { type: 'string', default: '300B' } } })
const dir = join(HERE, 'profiles', new Date().toISOString().replace(/[:.]/g, '-'))
mkdirSync(dir, { recursive: true })
const row = await runOne(`serve-${values.ack}`, values.size, {
  loader: 'autocannon',
  warmup: 1,
  duration: Number(values.duration),
  batchSeconds: 10,
  extraNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
})
console.log(`serve --ack ${values.ack}, ${values.size}, profiled: ${row.reqPerSec.toFixed(0)} req/s, p99 ${row.p99Ms.toFixed(1)} ms (profiling slows it down)\n`)
const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))
if (!file) throw new Error(`no .cpuprofile written in ${dir}`)
console.log(`${join(dir, file)}\n`)
console.log(formatProfile(summariseProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')), 25)))
process.exit(0)
