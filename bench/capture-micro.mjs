// CPU of the capture path alone (RequestCapture begin + one 300 B chunk + end into a BatchWriter), no HTTP:
//   node capture-micro.mjs   (node --cpu-prof capture-micro.mjs for a profile)
import { RequestCapture } from '../dist/capture/request-capture.js'
import { BatchWriter } from '../dist/batch/batch-writer.js'
import { jsonBody } from './lib/bodies.mjs'
const writer = new BatchWriter({ serverToken: 'abcdefgh', onSealed: () => {}, batchSeconds: 1000 })
const capture = new RequestCapture({}, writer)
const body = jsonBody(300, 7)
const socket = { remoteAddress: '127.0.0.1' }
const raw = ['Host', '127.0.0.1:8080', 'Content-Type', 'application/octet-stream', 'Content-Length', '300', 'User-Agent', 'wrk']
function one() {
  const req = { rawHeaders: raw, socket, url: '/api/post-events?bucket=bench', method: 'POST' }
  const r = capture.begin(req)
  r.data(body)
  r.end(0)
}
for (let round = 0; round < 5; round++) {
  const n = 200000
  const a = process.cpuUsage()
  for (let i = 0; i < n; i++) one()
  const b = process.cpuUsage(a)
  console.log(`capture begin+data+end: ${((b.user + b.system) / n).toFixed(3)} µs/req`)
  await new Promise((r) => setTimeout(r, 50))
}
process.exit(0)
