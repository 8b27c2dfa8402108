// How the spool makes a round durable, measured on this disk: write + fdatasync (two thread-pool
// jobs) against one write on an O_DSYNC descriptor (what src/spool does). For each: the latency of
// a round and the main thread's time to hand the jobs to the thread pool (what a round costs the
// process serving requests). Rounds of --bytes, one after another, in a temporary file.
//   node spool-sync.mjs [--rounds 2000] [--bytes 16000] [--dir /tmp] [--repeat 2]
import { openSync, fdatasync, write, constants, closeSync, unlinkSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2000' }, bytes: { type: 'string', default: '16000' }, dir: { type: 'string' }, repeat: { type: 'string', default: '2' } } })
const rounds = Number(values.rounds)
const buffer = Buffer.alloc(Number(values.bytes), 0x61)
const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'spool-sync-'))

function run(mode) {
  return new Promise((resolve) => {
    const path = join(dir, mode)
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (mode === 'O_DSYNC write' ? constants.O_DSYNC : 0)
    const fd = openSync(path, flags)
    const latencies = []
    let submitNs = 0n
    let position = 0
    const round = () => {
      const began = process.hrtime.bigint()
      const done = () => {
        latencies.push(Number(process.hrtime.bigint() - began) / 1e6)
        if (latencies.length < rounds) return round()
        closeSync(fd)
        unlinkSync(path)
        latencies.sort((a, b) => a - b)
        const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(3)
        resolve({ mode, p50: at(0.5), p90: at(0.9), p99: at(0.99), submitUs: (Number(submitNs / BigInt(rounds)) / 1000).toFixed(1) })
      }
      const t0 = process.hrtime.bigint()
      write(fd, buffer, 0, buffer.byteLength, position, () => {
        if (mode === 'O_DSYNC write') return done()
        const t1 = process.hrtime.bigint()
        fdatasync(fd, done)
        submitNs += process.hrtime.bigint() - t1
      })
      submitNs += process.hrtime.bigint() - t0
      position += buffer.byteLength
    }
    round()
  })
}

console.log(`| how | round latency p50 / p90 / p99 ms | main thread µs per round (submitting) |\n| --- | --- | ---: |`)
for (let i = 0; i < Number(values.repeat); i++) {
  for (const mode of ['write + fdatasync', 'O_DSYNC write']) {
    const r = await run(mode)
    console.log(`| ${r.mode} | ${r.p50} / ${r.p90} / ${r.p99} | ${r.submitUs} |`)
  }
}
rmSync(dir, { recursive: true, force: true })
