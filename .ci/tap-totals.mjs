// Reads raw TAP (files named on the command line, one per CI leg, or stdin)
// and ends with the real totals of leaf assertions over all of them as ONE
// line `N passed, N failed, N skipped`. A subtest's own summary line is not
// counted again, except when it failed with no failing assertion of its own
// (a file that crashed, a timeout): that counts as one failure.
// Exits 1 on any failure, on a bail out, or when no test ran at all.
import { createReadStream } from 'node:fs'
import { Parser } from 'tap-parser'

const totals = { passed: 0, failed: 0, skipped: 0 }
let bailedOut = false

function watch(parser) {
  let childFailures = null
  parser.on('child', (child) => {
    const before = totals.failed
    childFailures = () => totals.failed - before
    watch(child)
  })
  parser.on('assert', (point) => {
    if (childFailures) {
      if (!point.ok && childFailures() === 0) totals.failed++
      childFailures = null
      return
    }
    if (point.skip || point.todo) totals.skipped++
    else if (point.ok) totals.passed++
    else totals.failed++
  })
  parser.on('bailout', () => { bailedOut = true })
}

/** Parses one TAP stream; `echo` copies it to stdout as it is read. */
function count(input, echo) {
  return new Promise((resolve) => {
    const parser = new Parser()
    watch(parser)
    parser.on('complete', resolve)
    if (echo) input.on('data', (chunk) => process.stdout.write(chunk))
    input.pipe(parser)
  })
}

const files = process.argv.slice(2)
if (files.length === 0) await count(process.stdin, true)
else for (const file of files) await count(createReadStream(file), false)
process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`)
process.exitCode = totals.failed > 0 || bailedOut || totals.passed === 0 ? 1 : 0
