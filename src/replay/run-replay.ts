/**
 * A replay run: reads the batches of a source with a BatchReader, writes the
 * requests (or their events) as NDJSON and/or re-sends them, reports problems
 * and a summary on stderr, and says how it went as an exit code.
 * `logging-system replay` maps its flags to these options.
 */
import { once } from 'node:events'
import { BatchReader, somethingSkipped, type ReadProblem, type ReadReport } from '../reader/batch-reader.js'
import type { BatchSource } from '../reader/batch-source.js'
import { eventToNdjson, requestToNdjson } from './ndjson.js'
import { RequestSender, type SendStats } from './request-sender.js'

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

export const REPLAY_OUTPUTS = ['requests', 'events', 'none'] as const
export type ReplayOutput = (typeof REPLAY_OUTPUTS)[number]

export interface ReplayOptions {
  source: BatchSource
  /** NDJSON on stdout: the requests, their events, or nothing. */
  output: ReplayOutput
  /** Time range and margin, ms since 1970 (see BatchReader). */
  from?: number
  to?: number
  marginMs: number
  pathPrefix?: string
  /** Re-send each complete request (RequestSender). Default: none. */
  post?: { target: string; concurrency: number; maxAttempts: number }
}

export interface ReplayIo {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
  /** Resolves when the run is asked to stop (SIGINT/SIGTERM). */
  stopSignal: Promise<string>
}

/** Runs a replay to its end (or the stop signal); resolves with the exit code. */
export async function runReplay(options: ReplayOptions, io: ReplayIo): Promise<number> {
  const { source, output } = options
  const progress = new Progress(io.stderr)
  const sender = options.post
    ? new RequestSender({ ...options.post, onResult: ({ error }) => error && progress.line(`replay: ${error.message}`) })
    : undefined
  const reader = new BatchReader({
    source,
    from: options.from,
    to: options.to,
    marginMs: options.marginMs,
    pathPrefix: options.pathPrefix,
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

export function summary(report: ReadReport, stats: SendStats | undefined, output: ReplayOutput): string {
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

