// A writer process for the ClickHouse store tests (runs the build in dist/): node clickhouse-store-child.mjs URL DATABASE
// Opens the store, then writes batches of 50 events with a checkpoint each (as a tailer does), printing
// {"acked":N} after each write resolves, until it is killed.
import { ClickHouseEventStore } from '../../dist/store/clickhouse/clickhouse-store.js'

const [url, database] = process.argv.slice(2)
const print = (line) => process.stdout.write(JSON.stringify(line) + '\n')
const store = new ClickHouseEventStore({ url, database })
await store.open()
print({ opened: true, pid: process.pid })
for (let batch = 0; ; batch++) {
  await store.write({ events: durableBatch(batch), checkpoints: [{ name: 'child', position: String(batch) }] })
  print({ acked: batch })
}

/** Batch `batch`: 50 events, keys batch * 50 + i (the test rebuilds the same batches to replay them). */
function durableBatch(batch) {
  const events = []
  for (let i = 0; i < 50; i++) {
    const n = batch * 50 + i
    events.push({
      bucket: 'durable', key: Uint8Array.of(0x34, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255), type: 't',
      value: `{"batch":${batch},"i":${i}}`, clientTime: n, serverTime: n, originalClientTime: null,
      userId: null, anonymousId: null, producer: null, ip: null, source: 'test',
    })
  }
  return events
}
