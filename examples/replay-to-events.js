// Reading logged requests back as events with the programmatic API: every
// event posted to /api/post-events in a batch directory, counted per bucket.
//   BATCH_DIR=./batches node examples/replay-to-events.js [--from 2026-11-25T00:00:00Z]
import { BatchReader, DirectorySource, decodeKey, parseTime } from 'logging-system'

const fromFlag = process.argv.indexOf('--from')
const reader = new BatchReader({
  source: new DirectorySource(process.env.BATCH_DIR ?? './batches'),
  from: fromFlag > 0 ? parseTime(process.argv[fromFlag + 1]) : undefined,
  // Damage does not stop the reader; it says what it skipped and goes on.
  onProblem: (problem) => console.error('skipped:', JSON.stringify(problem)),
})

const perBucket = {}
// One batch in memory at a time, plus the requests still open across batches.
for await (const event of reader.events()) {
  perBucket[event.bucket] = (perBucket[event.bucket] ?? 0) + 1
  // Keys are keyjson bytes (their order is key order); values are the exact JSON text received.
  console.log(JSON.stringify({ bucket: event.bucket, key: decodeKey(event.key), type: event.type, serverTime: event.serverTime }))
}
console.log(JSON.stringify({ perBucket, report: reader.report }))
