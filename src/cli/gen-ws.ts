/**
 * `logging-system gen --ws URL`: the random events of `gen`, sent as
 * JSON-RPC `batch` calls over the EventServer's WebSocket (seed 001's client
 * mode). Each call's result comes after the server's commit, so the summary's
 * stored/duplicates are what the store took.
 */
import { randomUUID } from 'node:crypto'
import { RpcClient } from '../client/rpc-client.js'
import { randomEvents, seededRandom } from '../client/random-events.js'
import { CliUsageError } from '../errors.js'
import type { CliIo, ParsedCommandLine } from './command-line.js'
import { formatGenSummary, type GenSummary } from './gen.js'

const DAY_SECONDS = 86_400

function integer(args: ParsedCommandLine, name: string, min: number): number | undefined {
  const value = args.values[name]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || value < min) throw new CliUsageError(`--${name} must be an integer >= ${min}, got ${String(value)}`)
  return value
}

export async function runOverWebSocket(args: ParsedCommandLine, io: CliIo): Promise<number> {
  const url = String(args.values.ws)
  if (!/^wss?:\/\//.test(url)) throw new CliUsageError(`--ws must be a ws:// or wss:// URL, e.g. ws://127.0.0.1:8090/rpc, got ${JSON.stringify(url)}`)
  const writeKey = args.values['write-key'] as string | undefined
  const total = integer(args, 'total', 0)!
  const concurrency = integer(args, 'concurrency', 1)!
  const batch = integer(args, 'batch', 1)!
  const nowSeconds = Math.floor(Date.now() / 1000)
  const endTime = integer(args, 'endTime', 0) ?? nowSeconds
  const startTime = integer(args, 'startTime', 0) ?? endTime - DAY_SECONDS
  if (startTime > endTime) throw new CliUsageError(`--startTime (${startTime}) is after --endTime (${endTime})`)
  const random = seededRandom(integer(args, 'seed', 0) ?? Math.floor(Math.random() * 2 ** 32))
  const options = { startMs: startTime * 1000, endMs: endTime * 1000 + 999, keyPrefix: `gen-${randomUUID().slice(0, 8)}` }
  const calls = Math.ceil(total / batch)
  const summary: GenSummary = { sentEvents: 0, sentRequests: 0, failedEvents: 0, failedRequests: 0, stored: 0, duplicates: 0, seconds: 0 }
  const errors = new Map<string, number>()
  const client = new RpcClient(url, writeKey)
  io.stderr.write(`sending ${total} events (JSON-RPC batch, ${batch} per call, ${concurrency} at a time) to ${url}\n`)
  const started = process.hrtime.bigint()
  let next = 0
  async function worker(): Promise<void> {
    while (next < calls) {
      const index = next++
      const count = Math.min(batch, total - index * batch)
      const events = randomEvents(random, index * batch, count, options).map((event) => ({ key: event.key, type: event.type, value: event.value as Record<string, unknown>, clientTime: event.clientTime }))
      try {
        const result = await client.batch(events)
        summary.sentEvents += count
        summary.sentRequests++
        summary.stored! += result.stored
        summary.duplicates! += result.duplicates
      } catch (err) {
        summary.failedEvents += count
        summary.failedRequests++
        const message = (err as Error).message
        errors.set(message, (errors.get(message) ?? 0) + 1)
      }
    }
  }
  try {
    await client.opened
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(calls, 1)) }, worker))
  } catch (err) {
    io.stderr.write(`could not connect to ${url}: ${(err as Error).message}\n`)
    return 1
  } finally {
    await client.close()
  }
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9
  for (const [message, count] of errors) io.stderr.write(`${count} × ${message}\n`)
  io.stdout.write(formatGenSummary(summary))
  return summary.failedRequests === 0 ? 0 : 1
}
