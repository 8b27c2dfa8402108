/**
 * `logging-system gen`: seed 003's random event generator (reg.sh). Sends
 * `--total` random events with random types, users and times between
 * `--startTime` and `--endTime`, `--concurrency` requests at a time, and
 * prints what was sent, what failed, and the rate.
 */
import { randomUUID } from 'node:crypto'
import { Agent } from 'undici'
import { CliUsageError } from '../errors.js'
import { EVENT_FORMATS, postEvents, postEventsUrl, type EventFormat, type PostResult } from '../client/post-events.js'
import { randomEvents, seededRandom } from '../client/random-events.js'
import { DEFAULT_SEND_RETRY_POLICY, normalizeRetryPolicy } from '../retry-policy.js'
import type { CliCommand, ParsedCommandLine, CliIo } from './command-line.js'

const DAY_SECONDS = 86_400

export interface GenSummary {
  sentEvents: number
  sentRequests: number
  failedEvents: number
  failedRequests: number
  stored: number | undefined
  duplicates: number | undefined
  seconds: number
}

function integerFlag(args: ParsedCommandLine, name: string, min: number): number | undefined {
  const value = args.values[name]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || value < min) throw new CliUsageError(`--${name} must be an integer >= ${min}, got ${String(value)}`)
  return value
}

export function formatGenSummary(summary: GenSummary): string {
  const rate = (n: number): string => (summary.seconds > 0 ? (n / summary.seconds).toFixed(1) : '∞')
  const lines = [
    `sent:   ${summary.sentEvents} events in ${summary.sentRequests} requests`,
    `failed: ${summary.failedEvents} events in ${summary.failedRequests} requests`,
  ]
  if (summary.stored !== undefined) lines.push(`server: ${summary.stored} stored, ${summary.duplicates ?? 0} duplicates`)
  lines.push(`time:   ${summary.seconds.toFixed(3)} s, ${rate(summary.sentRequests + summary.failedRequests)} req/s, ${rate(summary.sentEvents)} events/s`)
  return lines.join('\n') + '\n'
}

async function run(args: ParsedCommandLine, io: CliIo): Promise<number> {
  if (args.values.ws !== undefined) return (await import('./gen-ws.js')).runOverWebSocket(args, io)
  const uri = args.values.uri
  if (typeof uri !== 'string' || uri === '') throw new CliUsageError('--uri is required, e.g. --uri http://127.0.0.1:7007')
  const bucket = String(args.values.bucket)
  const format = String(args.values.format) as EventFormat
  if (!EVENT_FORMATS.includes(format)) throw new CliUsageError(`--format must be one of ${EVENT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`)
  const total = integerFlag(args, 'total', 0)!
  const concurrency = integerFlag(args, 'concurrency', 1)!
  const batch = integerFlag(args, 'batch', 1)!
  const nowSeconds = Math.floor(Date.now() / 1000)
  const endTime = integerFlag(args, 'endTime', 0) ?? nowSeconds
  const startTime = integerFlag(args, 'startTime', 0) ?? endTime - DAY_SECONDS
  if (startTime > endTime) throw new CliUsageError(`--startTime (${startTime}) is after --endTime (${endTime})`)
  const seed = integerFlag(args, 'seed', 0) ?? Math.floor(Math.random() * 2 ** 32)
  const retry = normalizeRetryPolicy({ maxRetries: integerFlag(args, 'retries', 0)! }, DEFAULT_SEND_RETRY_POLICY)
  const endpoint = postEventsUrl(uri, bucket)

  const random = seededRandom(seed)
  const options = { startMs: startTime * 1000, endMs: endTime * 1000 + 999, keyPrefix: `gen-${randomUUID().slice(0, 8)}` }
  const requests = Math.ceil(total / batch)
  const dispatcher = new Agent({ connections: concurrency })
  const summary: GenSummary = { sentEvents: 0, sentRequests: 0, failedEvents: 0, failedRequests: 0, stored: undefined, duplicates: undefined, seconds: 0 }
  const errors = new Map<string, number>()
  let next = 0
  const started = process.hrtime.bigint()

  async function worker(): Promise<void> {
    while (next < requests) {
      const index = next++
      const count = Math.min(batch, total - index * batch)
      const events = randomEvents(random, index * batch, count, options)
      let result: PostResult
      try {
        result = await postEvents(events, { endpoint, format, retry, dispatcher })
      } catch (err) {
        summary.failedEvents += count
        summary.failedRequests++
        const message = (err as Error).message
        errors.set(message, (errors.get(message) ?? 0) + 1)
        continue
      }
      summary.sentEvents += count
      summary.sentRequests++
      if (result.stored !== undefined) summary.stored = (summary.stored ?? 0) + result.stored
      if (result.duplicates !== undefined) summary.duplicates = (summary.duplicates ?? 0) + result.duplicates
    }
  }

  io.stderr.write(`sending ${total} events (${format}, ${batch} per request, ${concurrency} at a time) to ${endpoint.href}\n`)
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(requests, 1)) }, worker))
  } finally {
    await dispatcher.close()
  }
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9
  for (const [message, count] of errors) io.stderr.write(`${count} × ${message}\n`)
  io.stdout.write(formatGenSummary(summary))
  return summary.failedRequests === 0 ? 0 : 1
}

export const command: CliCommand = {
  name: 'gen',
  envPrefix: 'GEN_',
  summary: 'Send random events (types, users, times between two dates) to a DevServer or LoggingServer.',
  flags: [
    { name: 'uri', short: 'u', type: 'string', description: 'Server base URL, or its full /api/post-events URL (required).' },
    { name: 'total', type: 'integer', default: 100, description: 'How many events to send.' },
    { name: 'startTime', type: 'integer', description: 'Earliest event time, Unix seconds (default: endTime - 1 day).' },
    { name: 'endTime', type: 'integer', description: 'Latest event time, Unix seconds (default: now).' },
    { name: 'concurrency', type: 'integer', default: 100, description: 'Requests in flight at once.' },
    { name: 'bucket', type: 'string', default: 'gen', description: 'Bucket token the events go to.' },
    { name: 'format', type: 'string', default: 'json', description: 'Wire format: json or eventbuf-v2.' },
    { name: 'batch', type: 'integer', default: 1, description: 'Events per request.' },
    { name: 'retries', type: 'integer', default: 2, description: 'Retries of a request after a network error or 5xx.' },
    { name: 'seed', type: 'integer', description: 'Seed of the random generator, for repeatable runs (default: random).' },
    { name: 'ws', type: 'string', description: 'Send over the EventServer\'s WebSocket JSON-RPC instead, e.g. ws://127.0.0.1:8090/rpc (docs/rpc.md; --uri and --format are not used).' },
    { name: 'write-key', type: 'string', description: 'With --ws: the write key (logging-system keys create); its bucket is where the events go.' },
  ],
  run,
}
