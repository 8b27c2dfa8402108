#!/usr/bin/env node
// Everything in one go: the load matrix (interleaved rounds), then the micro-benchmarks.
// Prints the tables and writes results/<date>.json with the raw numbers.
//   node run-all.mjs [--quick] [--rounds N] [--duration S] [--warmup S] [--targets ...] [--sizes ...] [--loader autocannon|wrk]
import { writeFileSync } from 'node:fs'
import { formatTable, machine, parseLoadOptions, resultsPath, runLoad } from './load.mjs'
import { formatMicro, runMicro } from './micro.mjs'

const options = parseLoadOptions(process.argv.slice(2))
const started = new Date()
const env = machine()
console.log(`logging-system benchmarks — ${started.toISOString()} — ${env.cores} × ${env.model}, ${env.memoryGiB} GiB, Node ${env.node}\n`)
const load = await runLoad(options)
console.log(`## Load (${options.loader}, 64 connections, keep-alive, medians of ${options.rounds} interleaved round(s) of ${options.duration} s after ${options.warmup} s warm-up, ${options.batchSeconds} s batches)\n`)
console.log(formatTable(load.rows))
console.error('\nmicro-benchmarks…')
const micro = runMicro({ encodeRequests: options.quick ? 20_000 : 100_000, requests: 20_000, minMs: options.quick ? 300 : 1500 })
console.log('\n## Micro-benchmarks\n')
console.log(formatMicro(micro))
const file = resultsPath(options.out)
writeFileSync(file, JSON.stringify({ date: started.toISOString(), machine: env, options, load, micro }, null, 2))
console.error(`\nraw figures: ${file}`)
process.exit(0)
