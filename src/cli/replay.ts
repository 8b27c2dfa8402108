/**
 * `logging-system replay`: reads stored batches back (a directory, an S3
 * bucket, or named files/keys), rejoins requests, and writes them (or their
 * events) as NDJSON and/or re-sends them to a target.
 */
import { once } from 'node:events'
import { CliUsageError } from '../errors.js'
import { BatchReader, somethingSkipped, type ReadProblem, type ReadReport } from '../reader/batch-reader.js'
import type { BatchSource } from '../reader/batch-source.js'
import { DirectorySource } from '../reader/directory-source.js'
import { FileSource } from '../reader/file-source.js'
import { S3Source } from '../reader/s3-source.js'
import { DEFAULT_RANGE_MARGIN_MS, parseTime } from '../reader/time-range.js'
import { eventToNdjson, requestToNdjson } from '../replay/ndjson.js'
import { DEFAULT_REPLAY_CONCURRENCY, DEFAULT_REPLAY_MAX_ATTEMPTS, RequestSender, type SendStats } from '../replay/request-sender.js'
import { excludeEachOther, S3_FLAGS, type CliCommand, type CliIo, type ParsedCommandLine } from './command-line.js'

/** Exit codes of `replay` (documented in docs/replay.md). */
export const REPLAY_EXIT = {
  /** Everything listed was read, and every request sent was taken by the target. */
  ok: 0,
  /** A request failed to send (retries exhausted) or was refused (4xx); or the source could not be listed; or interrupted. */
  failed: 1,
  /** Bad command line. */
  usage: 2,
  /** Something stored was skipped: damaged, unreadable or missing batches, incomplete or possibly partial requests, undecodable bodies. */
  skipped: 3,
} as const

const OUTPUTS = ['requests', 'events', 'none'] as const
type Output = (typeof OUTPUTS)[number]

export const command: CliCommand = {
  name: 'replay',
  summary: 'Read stored batches back, rejoin requests, and write them (or their events) as NDJSON or re-send them.',
  positionals: '[FILES or KEYS...]',
  // Its own variables (LOGGING_SYSTEM_REPLAY_DIR, ..._REPLAY_S3_BUCKET): a bucket exported for `serve` must not redirect a replay.
  envPrefix: 'REPLAY_',
  flags: [
    { name: 'dir', type: 'string', description: 'Read the batches under this directory (excludes --s3-bucket).' },
    ...S3_FLAGS,
    { name: 'from', type: 'string', description: 'Only requests that ended at or after this time: ISO 8601 (with a zone) or unix seconds.' },
    { name: 'to', type: 'string', description: 'Only requests that ended at or before this time: ISO 8601 (with a zone) or unix seconds.' },
    { name: 'margin-seconds', type: 'number', default: DEFAULT_RANGE_MARGIN_MS / 1000, description: 'Batches are listed this long before --from and after --to: at least a batch plus the longest request.' },
    { name: 'output', type: 'string', description: 'NDJSON on stdout: requests, events or none (default: requests, or none with --post).' },
    { name: 'post', type: 'string', description: 'Re-send each complete request to this base URL (method, path and query, content type, body).' },
    { name: 'concurrency', type: 'integer', default: DEFAULT_REPLAY_CONCURRENCY, description: 'Requests in flight at once with --post.' },
    { name: 'max-attempts', type: 'integer', default: DEFAULT_REPLAY_MAX_ATTEMPTS, description: 'Attempts per request with --post (network errors and 5xx are retried).' },
    { name: 'path-prefix', type: 'string', description: 'Only requests whose path (with query) starts with this, e.g. /api/post-events.' },
  ],
  async run(parsed, io) {
    const { values } = parsed
    const source = openSource(parsed, io.env)
    const output = (values['output'] ?? (values['post'] !== undefined ? 'none' : 'requests')) as Output
    if (!OUTPUTS.includes(output)) throw new CliUsageError(`--output must be one of ${OUTPUTS.join(', ')}, got ${JSON.stringify(output)}`)
    const from = values['from'] !== undefined ? parseTime(String(values['from']), '--from') : undefined
    const to = values['to'] !== undefined ? parseTime(String(values['to']), '--to') : undefined
    const progress = new Progress(io.stderr)
    const sender =
      values['post'] !== undefined
        ? new RequestSender({
            target: String(values['post']),
            concurrency: values['concurrency'] as number,
            maxAttempts: values['max-attempts'] as number,
            onResult: ({ error }) => error && progress.line(`replay: ${error.message}`),
          })
        : undefined
    const reader = new BatchReader({
      source,
      from,
      to,
      marginMs: (values['margin-seconds'] as number) * 1000,
      pathPrefix: values['path-prefix'] as string | undefined,
      onProblem: (problem) => progress.line(`replay: ${describeProblem(problem)}`),
      onBatch: (_batch, index, total) => progress.update(`batch ${index + 1}/${total}`, reader.report, sender?.stats),
    })
    let stopped = false
    void io.stopSignal.then(() => (stopped = true))
    let fatal: Error | undefined
    try {
      for await (const request of reader.requests()) {
        if (output === 'requests') await write(io.stdout, requestToNdjson(request))
        else if (output === 'events') for (const event of reader.decode(request)) await write(io.stdout, eventToNdjson(event))
        await sender?.send(request)
        if (stopped) break
      }
    } catch (err) {
      fatal = err as Error
    } finally {
      await sender?.close()
      await source.close?.()
    }
    progress.clear()
    io.stderr.write(summary(reader.report, sender?.stats, output))
    if (fatal) {
      io.stderr.write(`replay: stopped: ${fatal.message}\n`)
      return REPLAY_EXIT.failed
    }
    if (stopped) {
      io.stderr.write('replay: interrupted\n')
      return REPLAY_EXIT.failed
    }
    if (sender && sender.stats.failed + sender.stats.rejected > 0) return REPLAY_EXIT.failed
    return somethingSkipped(reader.report) ? REPLAY_EXIT.skipped : REPLAY_EXIT.ok
  },
}

function openSource(parsed: ParsedCommandLine, env: NodeJS.ProcessEnv): BatchSource {
  const { values, positionals } = parsed
  const dir = values['dir'] as string | undefined
  const bucket = values['s3-bucket'] as string | undefined
  excludeEachOther(parsed, 'dir', 's3-bucket')
  if (bucket !== undefined) {
    return new S3Source({
      bucket,
      prefix: values['s3-prefix'] as string | undefined,
      ...(values['s3-endpoint'] !== undefined ? { endpoint: String(values['s3-endpoint']) } : {}),
      ...(values['s3-region'] !== undefined ? { region: String(values['s3-region']) } : {}),
      ...(positionals.length > 0 ? { keys: positionals } : {}),
    }, undefined, env)
  }
  if (dir !== undefined) {
    if (positionals.length > 0) throw new CliUsageError('give either --dir or FILES, not both')
    return new DirectorySource(dir, { prefix: values['s3-prefix'] as string | undefined })
  }
  if (positionals.length > 0) return new FileSource(positionals)
  throw new CliUsageError('nothing to read: give --dir DIR, --s3-bucket BUCKET or batch FILES')
}

async function write(stream: NodeJS.WritableStream, line: string): Promise<void> {
  if (!stream.write(line)) await once(stream, 'drain')
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`

export function describeProblem(problem: ReadProblem): string {
  switch (problem.kind) {
    case 'foreign-key':
      return `ignored ${problem.key}: not a batch key`
    case 'unreadable-batch':
      return `skipped batch ${problem.key}: ${problem.reason}`
    case 'damaged-batch':
      return `damaged batch ${problem.key} at byte ${problem.offset}: ${problem.reason} (kept the ${plural(problem.eventsKept, 'event')} before it)`
    case 'batch-gap': {
      const [first, last] = problem.missing
      return `server ${problem.serverToken}: batch${first === last ? ` ${first} is` : `es ${first}-${last} are`} missing`
    }
    case 'incomplete-requests': {
      const shown = problem.reqIds.slice(0, 10).join(', ') + (problem.reqIds.length > 10 ? ', ...' : '')
      return `server ${problem.serverToken}: ${plural(problem.reqIds.length, 'incomplete request')} (${problem.reason}): reqId ${shown}`
    }
    case 'possibly-partial-request':
      return `skipped ${problem.serverToken}:${problem.reqId} ${problem.path}: it may miss body chunks of a lost batch`
    case 'undecodable-request':
      return `skipped ${problem.serverToken}:${problem.reqId} ${problem.path}: ${problem.decoder}: ${problem.reason}`
  }
}

export function summary(report: ReadReport, stats: SendStats | undefined, output: Output): string {
  const skippedRequests = report.incomplete + report.possiblyPartial + report.undecodable
  const skippedBatches = report.damagedBatches + report.unreadableBatches + report.missingBatches
  const failed = stats ? stats.failed + stats.rejected : 0
  const notComplete = Object.entries(report.notComplete).map(([name, count]) => `${name} ${count}`).join(', ')
  const lines = [
    `replay: ${report.batches} batches, ${report.requests} requests, ${report.events} events, ` +
      `${skippedBatches + skippedRequests} skipped (${skippedBatches} batches, ${skippedRequests} requests), ${failed} failed`,
    `  batches: ${report.batchesRead} read, ${report.damagedBatches} damaged, ${report.unreadableBatches} unreadable, ${report.missingBatches} missing, ${report.foreignKeys} other files ignored`,
    `  requests: ${report.requests} complete, ${report.incomplete} incomplete${report.droppedOpen ? ` (${report.droppedOpen} dropped: too many open)` : ''}, ${report.possiblyPartial} possibly partial, ${report.filteredOut} filtered out, not complete (never replayed): ${notComplete || 'none'}`,
  ]
  if (output === 'events') lines.push(`  events: ${report.events} from requests, ${report.undecodable} undecodable requests, ${report.withoutDecoder} requests without a decoder`)
  if (stats) lines.push(`  post: ${stats.sent} sent, ${stats.rejected} rejected (4xx), ${stats.failed} failed, ${stats.retries} retries`)
  return lines.join('\n') + '\n'
}

/** A one-line progress bar on stderr, only when stderr is a terminal; other lines print above it. */
class Progress {
  private readonly tty: boolean
  private shown = ''

  constructor(private readonly stream: NodeJS.WritableStream & { isTTY?: boolean }) {
    this.tty = stream.isTTY === true
  }

  update(where: string, report: ReadReport, stats: SendStats | undefined): void {
    if (!this.tty) return
    this.shown = `${where} · ${report.requests} requests · ${report.events} events${stats ? ` · ${stats.sent} sent · ${stats.failed + stats.rejected} failed` : ''}`
    this.stream.write(`\r\x1b[K${this.shown}`)
  }

  line(text: string): void {
    this.stream.write(`${this.tty && this.shown ? '\r\x1b[K' : ''}${text}\n${this.tty && this.shown ? this.shown : ''}`)
  }

  clear(): void {
    if (this.tty && this.shown) this.stream.write('\r\x1b[K')
    this.shown = ''
  }
}

export type { CliIo }
