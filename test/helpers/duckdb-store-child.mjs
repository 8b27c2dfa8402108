// A second process for the DuckDB store tests (runs the build in dist/): node duckdb-store-child.mjs PATH MODE
//   open  — open the store, print {"opened":true} or {"error":CODE,"message"}, close, exit
//   hold  — open and keep it open until killed
//   write — open, then write batches of 50 events with a checkpoint each, printing {"acked":N} after each commit
//           (clustering on its own every 1,000 events, so a kill may land in one)
import { DuckDbEventStore } from '../../dist/store/duckdb/duckdb-store.js'

const [path, mode] = process.argv.slice(2)
const print = (line) => process.stdout.write(JSON.stringify(line) + '\n')
const store = new DuckDbEventStore({ path, threads: 1, clusterAfterRows: mode === 'write' ? 1000 : 0 })
try {
  await store.open()
} catch (error) {
  print({ error: error.code ?? 'unknown', message: error.message })
  process.exit(0)
}
print({ opened: true, pid: process.pid })
if (mode === 'open') {
  await store.close()
} else if (mode === 'hold') {
  setInterval(() => {}, 1000)
} else if (mode === 'write') {
  for (let batch = 0; ; batch++) {
    const events = []
    for (let i = 0; i < 50; i++) {
      const n = batch * 50 + i
      events.push({
        bucket: 'durable', key: Uint8Array.of(0x34, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255), type: 't',
        value: `{"batch":${batch},"i":${i}}`, clientTime: n, serverTime: n, originalClientTime: null,
        userId: null, anonymousId: null, producer: null, ip: null, source: 'test',
      })
    }
    await store.write({ events, checkpoints: [{ name: 'child', position: String(batch) }] })
    print({ acked: batch })
  }
}
