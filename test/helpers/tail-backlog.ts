// A backlog of LoggingServer batches for tailing tests: one server, `batches`
// batches of `perBatch` whole post-events requests each, plus one request
// split over every two consecutive batches. Returns every key posted.
import { jsonBody, rawEvents, writeBatch } from './replay.js'

export function writeTailBacklog(dir: string, options: { serverToken: string; batches: number; perBatch: number; startTime: number; bucket?: string }): string[] {
  const { serverToken, batches, perBatch, startTime } = options
  const path = `/api/post-events?bucket=${options.bucket ?? 'b'}`
  const keys: string[] = []
  let carry: Buffer | undefined
  for (let n = 1; n <= batches; n++) {
    const time = startTime + n * 1000
    const parts: Buffer[] = []
    if (carry) parts.push(rawEvents([{ reqId: n * 1000 - 1, time, path, body: carry }]))
    for (let i = 0; i < perBatch; i++) {
      const key = `k-${n}-${i}`
      keys.push(key)
      parts.push(rawEvents([{ reqId: n * 1000 + i, time, path, body: jsonBody([{ key, type: 'e', value: { n, i }, clientTime: time }]) }]))
    }
    carry = undefined
    if (n < batches) {
      const key = `split-${n}`
      keys.push(key)
      const body = jsonBody([{ key, type: 's', value: { n }, clientTime: time }])
      parts.push(rawEvents([{ reqId: (n + 1) * 1000 - 1, time, path, body: body.subarray(0, 20), noEnd: true }]))
      carry = body.subarray(20)
    }
    writeBatch(dir, { serverToken, batchNumber: n, startTime: time }, Buffer.concat(parts))
  }
  return keys
}
