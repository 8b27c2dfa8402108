/**
 * Reads stored batches back as whole requests, and requests as events:
 * source → batch plan → one batch body at a time → rejoined requests →
 * decoders. Memory holds one batch and the requests still open, whatever the
 * number of batches.
 *
 * Damage never stops the reader: a batch that cannot be read, or that breaks
 * at some offset, is reported with its key; the events before the break are
 * kept and reading goes on with the next batch. A request must never come out
 * with part of its body missing, so after a loss (a damaged batch, a gap in a
 * server's batch numbers) the requests it may have cut are skipped and counted
 * (see `possiblyPartial`).
 */
import { BatchDecodeError, BatchReadError, type LoggingSystemError } from '../errors.js'
import { OUTCOME_NAMES, REQ_END_EVENT, RequestOutcome } from '../formats/batch-v1/http-events.js'
import { readBatchBody, type BatchBodyOptions } from './batch-body.js'
import { planBatches, type PlannedBatch } from './batch-plan.js'
import type { BatchSource } from './batch-source.js'
import { RequestDecoderRegistry } from '../decoders/registry.js'
import type { ReplayedEvent } from '../decoders/request-decoder.js'
import { RequestAssembler, type LoggedRequest } from './request-assembler.js'
import { requestInRange, validateTimeRange, type TimeRange } from './time-range.js'

/** Something the reader could not use, reported as it happens. */
export type ReadProblem =
  | { kind: 'foreign-key'; key: string }
  | { kind: 'unreadable-batch'; key: string; reason: string }
  | { kind: 'damaged-batch'; key: string; offset: number; reason: string; eventsKept: number }
  | { kind: 'batch-gap'; serverToken: string; missing: [first: number, last: number] }
  | { kind: 'incomplete-requests'; serverToken: string; reqIds: number[]; reason: 'no REQ_END in the last batch' | 'cut by a lost batch' }
  | { kind: 'possibly-partial-request'; serverToken: string; reqId: number; path: string }
  | { kind: 'undecodable-request'; serverToken: string; reqId: number; path: string; decoder: string; reason: string }

/** Counts of everything read, kept up to date while reading. */
export interface ReadReport {
  /** Batches in the plan (listed, named by the key grammar, within the range). */
  batches: number
  /** Batches read to the end without damage. */
  batchesRead: number
  /** Batches that broke part way (their events before the damage are used). */
  damagedBatches: number
  /** Batches that could not be read at all. */
  unreadableBatches: number
  /** Batch numbers missing between a server's batches (or before its first one, when reading everything). */
  missingBatches: number
  /** Keys in a listing that are not batch keys (ignored; named files that are not are unreadable batches). */
  foreignKeys: number
  /** Complete requests handed out. */
  requests: number
  /** Requests logged with an outcome other than complete, by outcome name; never replayed. */
  notComplete: Record<string, number>
  /** Requests whose REQ_END never came, or that a lost batch cut. */
  incomplete: number
  /** Requests that started near a lost batch and may miss body chunks: skipped. */
  possiblyPartial: number
  /** Requests whose REQ_END time is outside the range, or whose path is filtered out (whatever their outcome). */
  filteredOut: number
  /** Events handed out by events(). */
  events: number
  /** Requests a decoder claimed but could not decode (events() only). */
  undecodable: number
  /** Requests no decoder reads (events() only): pixels, preflights, other paths. */
  withoutDecoder: number
}

export interface BatchReaderOptions extends TimeRange, BatchBodyOptions {
  source: BatchSource
  /** Only requests whose path (with query) starts with this. Default: every request. */
  pathPrefix?: string
  /** Decoders for events(). Default: the built-in ones. */
  decoders?: RequestDecoderRegistry
  /** Called with every problem as it is found. Default: none (the report counts them). */
  onProblem?: (problem: ReadProblem) => void
  /** Called after each batch. */
  onBatch?: (batch: PlannedBatch, index: number, total: number) => void
}

export function emptyReport(): ReadReport {
  return {
    batches: 0,
    batchesRead: 0,
    damagedBatches: 0,
    unreadableBatches: 0,
    missingBatches: 0,
    foreignKeys: 0,
    requests: 0,
    notComplete: {},
    incomplete: 0,
    possiblyPartial: 0,
    filteredOut: 0,
    events: 0,
    undecodable: 0,
    withoutDecoder: 0,
  }
}

/** Whether the report shows anything skipped: data that was stored but could not be used. */
export function somethingSkipped(report: ReadReport): boolean {
  return (
    report.damagedBatches + report.unreadableBatches + report.missingBatches + report.incomplete + report.possiblyPartial + report.undecodable >
    0
  )
}

/** Per-server state while its batches are read. */
interface ServerState {
  serverToken: string
  previousNumber: number | undefined
  /**
   * After a loss: a request first seen after it, up to `until`, may have had
   * chunks in what was lost. Lost events are no later than the end of the lost
   * batch (its start + a batch's span), and a request lasts no longer than the
   * margin minus a batch's span, so `until` = the lost batch's start + margin
   * (for a gap: the next batch's start + margin).
   */
  loss: { until: number } | undefined
  /** reqIds dropped at a loss: their later events are ignored. */
  dropped: Set<number>
  /** Open requests first seen inside a loss window. */
  suspects: Set<number>
}

export class BatchReader {
  readonly report: ReadReport = emptyReport()
  private readonly options: BatchReaderOptions
  private readonly range: TimeRange & { marginMs: number }
  private readonly assembler = new RequestAssembler()
  private started = false
  private decoders: RequestDecoderRegistry | undefined

  constructor(options: BatchReaderOptions) {
    this.options = options
    this.range = validateTimeRange(options)
  }

  /** Bytes of body held for open requests right now. */
  get bufferedBytes(): number {
    return this.assembler.bufferedBytes
  }

  /** Every complete request within the range, servers one after the other, each in batch order. */
  async *requests(): AsyncGenerator<LoggedRequest> {
    if (this.started) throw new Error('a BatchReader reads once; make a new one')
    this.started = true
    const { source } = this.options
    const plan = await planBatches(source, this.range)
    this.report.batches = plan.batches.length
    for (const key of plan.foreignKeys) {
      // A file asked for by name is skipped data; a stray object in a listing is only noted.
      if (source.explicit) {
        this.report.unreadableBatches++
        this.problem({ kind: 'unreadable-batch', key, reason: 'not a batch key ([prefix/]v1/YYYY-MM-DD/HH-MM-SS-mmm-Z-<serverToken>-<random>-<n>-v1[.gz])' })
      } else {
        this.report.foreignKeys++
        this.problem({ kind: 'foreign-key', key })
      }
    }
    // Without a lower bound the whole history is read, so a server's first batch should be number 1.
    const expectFirst = this.range.from === undefined && !source.explicit
    let state: ServerState | undefined
    for (const [index, batch] of plan.batches.entries()) {
      if (state?.serverToken !== batch.serverToken) {
        if (state) this.endServer(state)
        state = { serverToken: batch.serverToken, previousNumber: expectFirst ? 0 : undefined, loss: undefined, dropped: new Set(), suspects: new Set() }
      }
      if (state.previousNumber !== undefined && batch.batchNumber > state.previousNumber + 1) {
        this.report.missingBatches += batch.batchNumber - state.previousNumber - 1
        this.problem({ kind: 'batch-gap', serverToken: batch.serverToken, missing: [state.previousNumber + 1, batch.batchNumber - 1] })
        this.lose(state, batch.startTime)
      }
      state.previousNumber = batch.batchNumber
      yield* this.readBatch(batch, state)
      this.options.onBatch?.(batch, index, plan.batches.length)
    }
    if (state) this.endServer(state)
  }

  /** Every event the decoders find in the complete requests. */
  async *events(): AsyncGenerator<ReplayedEvent> {
    for await (const request of this.requests()) yield* this.decode(request)
  }

  /**
   * The events of one request (from requests()), counted in the report: none
   * when no decoder reads it, or when its decoder fails (reported as undecodable).
   */
  decode(request: LoggedRequest): ReplayedEvent[] {
    this.decoders ??= this.options.decoders ?? new RequestDecoderRegistry()
    const found = this.decoders.find(request)
    if (!found) {
      this.report.withoutDecoder++
      return []
    }
    let events: ReplayedEvent[]
    try {
      events = found.decoder.decode(request, found.url).map((record) => ({ ...record, serverToken: request.serverToken, reqId: request.reqId }))
    } catch (err) {
      this.report.undecodable++
      const reason = (err as LoggingSystemError).message ?? String(err)
      this.problem({ kind: 'undecodable-request', serverToken: request.serverToken, reqId: request.reqId, path: request.path, decoder: found.decoder.name, reason })
      return []
    }
    this.report.events += events.length
    return events
  }

  private async *readBatch(batch: PlannedBatch, state: ServerState): AsyncGenerator<LoggedRequest> {
    let body: Uint8Array
    try {
      body = await this.options.source.read(batch.key)
    } catch (err) {
      if (!(err instanceof BatchReadError)) throw err
      this.report.unreadableBatches++
      this.problem({ kind: 'unreadable-batch', key: batch.key, reason: err.message })
      this.lose(state, batch.startTime)
      return
    }
    let eventsKept = 0
    try {
      for (const { event } of readBatchBody(body, this.options)) {
        eventsKept++
        const { reqId } = event
        if (state.dropped.has(reqId)) {
          if (event.type === REQ_END_EVENT) state.dropped.delete(reqId)
          continue
        }
        if (state.loss && event.serverTime <= state.loss.until && !this.assembler.has(state.serverToken, reqId)) state.suspects.add(reqId)
        const request = this.assembler.push(state.serverToken, event)
        if (request && this.accept(request, state)) yield request
      }
      this.report.batchesRead++
    } catch (err) {
      if (!(err instanceof BatchDecodeError)) throw err
      this.report.damagedBatches++
      this.problem({ kind: 'damaged-batch', key: batch.key, offset: err.offset, reason: err.reason, eventsKept })
      this.lose(state, batch.startTime)
    }
  }

  /** Counts a finished request; true when it is handed out. */
  private accept(request: LoggedRequest, state: ServerState): boolean {
    const suspect = state.suspects.delete(request.reqId)
    if (!requestInRange(request.time, this.range) || (this.options.pathPrefix !== undefined && !request.path.startsWith(this.options.pathPrefix))) {
      this.report.filteredOut++
      return false
    }
    if (request.outcome !== RequestOutcome.complete) {
      const name = OUTCOME_NAMES[request.outcome]
      this.report.notComplete[name] = (this.report.notComplete[name] ?? 0) + 1
      return false
    }
    if (suspect) {
      this.report.possiblyPartial++
      this.problem({ kind: 'possibly-partial-request', serverToken: request.serverToken, reqId: request.reqId, path: request.path })
      return false
    }
    this.report.requests++
    return true
  }

  /** Events of this server were lost up to about `lostAt`: drop its open requests and watch the next ones. */
  private lose(state: ServerState, lostAt: number): void {
    const cut = this.assembler.takeServer(state.serverToken).map(({ reqId }) => reqId)
    for (const reqId of cut) {
      state.dropped.add(reqId)
      state.suspects.delete(reqId)
    }
    if (cut.length > 0) {
      this.report.incomplete += cut.length
      this.problem({ kind: 'incomplete-requests', serverToken: state.serverToken, reqIds: cut, reason: 'cut by a lost batch' })
    }
    state.loss = { until: Math.max(state.loss?.until ?? 0, lostAt + this.range.marginMs) }
  }

  private endServer(state: ServerState): void {
    const open = this.assembler.takeServer(state.serverToken)
    // With an upper bound, a request that started after it may simply end after the listed batches.
    const to = this.range.to
    const counted = open.filter(({ firstTime }) => to === undefined || firstTime <= to).map(({ reqId }) => reqId)
    if (counted.length === 0) return
    this.report.incomplete += counted.length
    this.problem({ kind: 'incomplete-requests', serverToken: state.serverToken, reqIds: counted, reason: 'no REQ_END in the last batch' })
  }

  private problem(problem: ReadProblem): void {
    this.options.onProblem?.(problem)
  }
}


