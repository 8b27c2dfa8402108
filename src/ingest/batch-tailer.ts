/**
 * Tails the LoggingServer's batches (a directory or S3, the sources `replay`
 * reads) into an EventStore, exactly once across restarts:
 *
 * - batches are read per serverToken in batch-number order, with the reader's
 *   pieces (planBatches, readBatchBody, RequestAssembler, the shared decoders);
 * - each batch's events, rejects and the server's checkpoint go in ONE store
 *   write, so a crash leaves either all of a batch or none of it;
 * - a request split over batches is joined; the checkpoint keeps the earliest
 *   batch holding an open request, and a restart re-reads from there without
 *   handing out again what ended in a batch already done (keys are
 *   deterministic and the store deduplicates them anyway);
 * - a missing batch number is waited for (uploads can land out of order), then
 *   reported; damaged, unreadable batches and undecodable requests are
 *   skipped, reported and counted; undecodable requests are kept as rejects.
 */
import { BatchDecodeError, BatchReadError, InvalidOptionError, StoreUnavailableError } from '../errors.js'
import { OUTCOME_NAMES, REQ_DATA_EVENT, REQ_END_EVENT, RequestOutcome, type HttpEvent } from '../formats/batch-v1/http-events.js'
import type { EventRecord } from '../model/event-record.js'
import { readBatchBody, type BatchBodyOptions } from '../reader/batch-body.js'
import { planBatches, type PlannedBatch } from '../reader/batch-plan.js'
import type { BatchSource } from '../reader/batch-source.js'
import { RequestAssembler, type LoggedRequest } from '../reader/request-assembler.js'
import { DEFAULT_RANGE_MARGIN_MS, requestInRange } from '../reader/time-range.js'
import { RequestDecoderRegistry } from '../decoders/registry.js'
import type { EventStore, RejectedRequest } from '../store/event-store.js'
import type { IngestObserver, BatchResult, TailProblem } from './ingest-observer.js'
import { clientRequestFromLogged } from '../decoders/client-request.js'
import type { ClientIngest } from './client-ingest.js'
import { checkpointPrefix, decodeTailPosition, encodeTailCheckpoint, type TailPosition } from './tail-checkpoint.js'
import { DEFAULT_MAX_REJECT_BODY_BYTES, rejectedRequest, requestEvents } from './request-events.js'

/** Time between two looks at the source. Default: 10 s. */
/** readBatch could not consult the store (write keys): like a failed commit. */
const STORE_FAILED = Symbol('store failed')

export const DEFAULT_TAIL_INTERVAL_MS = 10_000
/** How long a missing batch number is waited for before it is reported and skipped. Default: 5 minutes. */
export const DEFAULT_TAIL_GAP_WAIT_MS = 5 * 60_000
/** Polls a batch that cannot be read is tried in before it is skipped as unreadable. Default: 3. */
export const DEFAULT_TAIL_READ_ATTEMPTS = 3
/** After the first look, later looks list the day folders from this long ago. Default: 1 day. */
export const DEFAULT_TAIL_RELIST_MS = 86_400_000
/**
 * While a backlog is worked through, batches are committed together up to
 * this many events in one store write (a commit has a fixed cost, and DuckDB
 * writes a commit of 122,880 rows or more straight to its file instead of
 * its log). Default: 150,000.
 */
export const DEFAULT_TAIL_WRITE_EVENTS = 150_000
/** ... and up to this many bytes of event values in one write (bounds memory). Default: 64 MiB. */
export const DEFAULT_TAIL_WRITE_BYTES = 64 * 1024 * 1024

export interface BatchTailerOptions extends BatchBodyOptions {
  store: EventStore
  source: BatchSource
  /** The tailed stream's name in checkpoint names (`tail:<stream>/<serverToken>`). Default: source.description. */
  stream?: string
  /** Ingest requests that ended at or after this time (ms since 1970). Default: everything listed. */
  since?: number
  /** Ms between two looks at the source. Default: DEFAULT_TAIL_INTERVAL_MS. */
  intervalMs?: number
  /** Longest a request's events are spread over batches, ms. Default: DEFAULT_RANGE_MARGIN_MS (60 s). */
  marginMs?: number
  /** Ms a missing batch number is waited for. Default: DEFAULT_TAIL_GAP_WAIT_MS. */
  gapWaitMs?: number
  /** Looks a batch is tried in before it is skipped as unreadable. Default: DEFAULT_TAIL_READ_ATTEMPTS. */
  readAttempts?: number
  /** Decoders. Default: the built-in ones. */
  decoders?: RequestDecoderRegistry
  /** Longest body kept with a reject. Default: DEFAULT_MAX_REJECT_BODY_BYTES. */
  maxRejectBodyBytes?: number
  /** Analytics-client requests (Segment, PostHog, Mixpanel, Grouparoo) with their write keys. Default: none. */
  clientIngest?: ClientIngest
  /** Most events of several batches committed in one write while behind. Default: DEFAULT_TAIL_WRITE_EVENTS; 1 = a write per batch. */
  writeEvents?: number
  /** Most bytes of event values in one write while behind. Default: DEFAULT_TAIL_WRITE_BYTES. */
  writeBytes?: number
  observer?: IngestObserver
  /** The clock, ms since 1970. Default: Date.now. */
  now?: () => number
}

/** Counts since the tailer started. */
export interface TailReport {
  polls: number
  batches: number
  damagedBatches: number
  unreadableBatches: number
  missingBatches: number
  requests: number
  events: number
  stored: number
  duplicates: number
  rejects: number
  withoutDecoder: number
  notComplete: number
  incomplete: number
  possiblyPartial: number
  filteredOut: number
}

/** One batch read and decoded, waiting for its write. */
interface TailedBatch {
  batch: PlannedBatch
  result: BatchResult
  events: EventRecord[]
  rejects: RejectedRequest[]
  requests: number
  /** The server's checkpoint once this batch is committed. */
  position: TailPosition
  /** UTF-16 length of its event values (bounds a write). */
  valueBytes: number
}

/** What is known about one LoggingServer's batches. */
interface ServerState {
  serverToken: string
  /** The next batch number to handle; undefined before the first one (with --tail-since, it may start anywhere). */
  next: number | undefined
  /** From the checkpoint: batches reread..next-1 must be re-read to rebuild the open requests (false once done). */
  cold: boolean
  reread: number
  /** Open requests: the batch and time of their first chunk. */
  openFirstBatch: Map<number, { batch: number; firstTime: number }>
  dropped: Set<number>
  suspects: Set<number>
  lossUntil: number
  /** When a missing batch number was first noticed (this process's clock). */
  gapSeenAt: number | undefined
  /** Failed reads of the next batch. */
  readFailures: number
}

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw new InvalidOptionError(name, `must be a number ${allowZero ? '>= 0' : '> 0'}, got ${String(value)}`)
  return value
}

export class BatchTailer {
  readonly report: TailReport = {
    polls: 0,
    batches: 0,
    damagedBatches: 0,
    unreadableBatches: 0,
    missingBatches: 0,
    requests: 0,
    events: 0,
    stored: 0,
    duplicates: 0,
    rejects: 0,
    withoutDecoder: 0,
    notComplete: 0,
    incomplete: 0,
    possiblyPartial: 0,
    filteredOut: 0,
  }
  readonly stream: string
  private readonly options: BatchTailerOptions
  private readonly intervalMs: number
  private readonly marginMs: number
  private readonly gapWaitMs: number
  private readonly readAttempts: number
  private readonly writeEvents: number
  private readonly writeBytes: number
  private readonly decoders: RequestDecoderRegistry
  private readonly now: () => number
  private readonly assembler = new RequestAssembler()
  private readonly servers = new Map<string, ServerState>()
  private readonly reportedForeignKeys = new Set<string>()
  private listedOnce = false
  /** Start time of the oldest batch the last look listed and left for later, if any. */
  private oldestPendingStart: number | undefined
  private stopped = false
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private readonly waiters: Array<() => void> = []

  constructor(options: BatchTailerOptions) {
    if (!options.store) throw new InvalidOptionError('store', 'an EventStore is required')
    if (!options.source) throw new InvalidOptionError('source', 'a BatchSource is required')
    if (options.since !== undefined && !Number.isFinite(options.since)) throw new InvalidOptionError('since', `must be ms since 1970, got ${String(options.since)}`)
    this.options = options
    this.stream = options.stream ?? options.source.description
    this.intervalMs = positive('intervalMs', options.intervalMs, DEFAULT_TAIL_INTERVAL_MS)
    this.marginMs = positive('marginMs', options.marginMs, DEFAULT_RANGE_MARGIN_MS, true)
    this.gapWaitMs = positive('gapWaitMs', options.gapWaitMs, DEFAULT_TAIL_GAP_WAIT_MS, true)
    this.readAttempts = positive('readAttempts', options.readAttempts, DEFAULT_TAIL_READ_ATTEMPTS)
    this.writeEvents = positive('writeEvents', options.writeEvents, DEFAULT_TAIL_WRITE_EVENTS)
    this.writeBytes = positive('writeBytes', options.writeBytes, DEFAULT_TAIL_WRITE_BYTES)
    this.decoders = options.decoders ?? new RequestDecoderRegistry()
    this.now = options.now ?? Date.now
  }

  /** Looks at the source now, then every interval after each look ends, until stop(). */
  start(): void {
    if (this.running || this.timer) return
    this.stopped = false
    this.schedule(0)
  }

  /** Stops looking; waits for the batch being handled to be committed. Does not close the store or the source. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    await this.running
  }

  /** Resolves after the next look that starts after this call has ended (for tests and tools). */
  nextPoll(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** One look: lists the source and handles every batch it can. Safe to call by hand when not started. */
  async poll(): Promise<void> {
    if (this.running) return this.running
    const waiting = this.waiters.splice(0)
    this.running = this.pollOnce().finally(() => {
      this.running = undefined
      for (const resolve of waiting) resolve()
    })
    return this.running
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.poll()
        .catch((err: Error) => this.problem({ kind: 'tail-failed', serverToken: '', reason: err.message }))
        .then(() => {
          if (!this.stopped) this.schedule(this.intervalMs)
        })
    }, delayMs)
  }

  private async pollOnce(): Promise<void> {
    this.report.polls++
    const { since } = this.options
    // The first look lists everything in range; later ones the recent day folders (a batch landing more than a day late is found at the next start),
    // and never less than reaches the oldest batch the last look left pending (one waiting for a gap would otherwise drop out of sight a day after it started).
    const recent = Math.min(this.now() - DEFAULT_TAIL_RELIST_MS, this.oldestPendingStart ?? Infinity)
    const from = this.listedOnce ? Math.max(since ?? 0, recent) : since
    let batches: PlannedBatch[]
    try {
      const plan = await planBatches(this.options.source, { ...(from !== undefined ? { from } : {}), marginMs: this.marginMs })
      batches = plan.batches
      for (const key of plan.foreignKeys) {
        if (this.reportedForeignKeys.has(key)) continue
        this.reportedForeignKeys.add(key)
        this.problem({ kind: 'foreign-key', key })
      }
      this.listedOnce = true
    } catch (err) {
      this.problem({ kind: 'list-failed', source: this.options.source.description, reason: (err as Error).message })
      return
    }
    let oldestPending: number | undefined
    for (let i = 0; i < batches.length; ) {
      let j = i
      while (j < batches.length && batches[j]!.serverToken === batches[i]!.serverToken) j++
      let pending: PlannedBatch[]
      try {
        pending = this.stopped ? batches.slice(i, j) : await this.tailServer(batches.slice(i, j))
      } catch (err) {
        // Anything unexpected (a source or store error of another kind): this server starts over from its checkpoint at the next look.
        const serverToken = batches[i]!.serverToken
        this.problem({ kind: 'tail-failed', serverToken, reason: (err as Error).message })
        this.forgetServer(serverToken)
        pending = batches.slice(i, j)
      }
      for (const batch of pending) oldestPending = Math.min(oldestPending ?? batch.startTime, batch.startTime)
      i = j
    }
    this.oldestPendingStart = oldestPending
    this.options.observer?.tailLag?.(oldestPending === undefined ? 0 : Math.max(0, (this.now() - oldestPending) / 1000))
  }

  /** Handles what it can of one server's listed batches (in number order); returns the ones left for a later look. */
  private async tailServer(batches: PlannedBatch[]): Promise<PlannedBatch[]> {
    const serverToken = batches[0]!.serverToken
    let state = this.servers.get(serverToken)
    if (!state) {
      try {
        state = await this.loadServer(serverToken)
      } catch (err) {
        this.problem({ kind: 'tail-failed', serverToken, reason: `cannot read its checkpoint: ${(err as Error).message}` })
        return batches
      }
      this.servers.set(serverToken, state)
    }
    if (state.cold && !(await this.rejoin(state, batches))) return batches
    // Batches read but not yet committed: they go in one write, flushed when big enough, at the end, or before leaving.
    const group: TailedBatch[] = []
    let groupStart = 0
    let groupEvents = 0
    let groupBytes = 0
    /** Commits the group; false when the store failed (this server then starts over from its checkpoint). */
    const flush = async (more: boolean): Promise<boolean> => {
      if (group.length === 0) return true
      const done = await this.commit(state, group.splice(0), more)
      groupEvents = 0
      groupBytes = 0
      return done
    }
    /** What is left for a later look when stopping at `index`. */
    const leave = async (index: number): Promise<PlannedBatch[]> => {
      const first = groupStart
      return (await flush(false)) ? batches.slice(index) : batches.slice(first)
    }
    for (const [index, batch] of batches.entries()) {
      if (state.next !== undefined && batch.batchNumber < state.next) continue
      if (this.stopped) return leave(index)
      if (state.next !== undefined && batch.batchNumber > state.next) {
        const now = this.now()
        state.gapSeenAt ??= now
        if (now - state.gapSeenAt < this.gapWaitMs) return leave(index)
        this.report.missingBatches += batch.batchNumber - state.next
        this.problem({ kind: 'batch-gap', serverToken, missing: [state.next, batch.batchNumber - 1] })
        this.lose(state, batch.startTime)
      }
      state.gapSeenAt = undefined
      const tailed = await this.readBatch(state, batch)
      // The server's state is forgotten: the next look starts again from its checkpoint, unflushed batches too.
      if (tailed === STORE_FAILED) return batches.slice(group.length > 0 ? groupStart : index)
      if (!tailed) return leave(index)
      if (group.length === 0) groupStart = index
      group.push(tailed)
      groupEvents += tailed.events.length
      groupBytes += tailed.valueBytes
      // Handled as far as this process goes; committed by the flush (a failed flush forgets the server's state).
      state.next = batch.batchNumber + 1
      const last = index === batches.length - 1
      if (last || groupEvents >= this.writeEvents || groupBytes >= this.writeBytes) {
        if (!(await flush(!last))) return batches.slice(groupStart)
      }
    }
    return []
  }

  private async loadServer(serverToken: string): Promise<ServerState> {
    const checkpoints = await this.options.store.checkpoints(checkpointPrefix(this.stream) + serverToken)
    const name = checkpointPrefix(this.stream) + serverToken
    const checkpoint = checkpoints.find((c) => c.name === name)
    const state: ServerState = {
      serverToken,
      // Without a checkpoint and without --tail-since the whole history is read, from batch 1.
      next: this.options.since === undefined ? 1 : undefined,
      cold: false,
      reread: 0,
      openFirstBatch: new Map(),
      dropped: new Set(),
      suspects: new Set(),
      lossUntil: 0,
      gapSeenAt: undefined,
      readFailures: 0,
    }
    if (checkpoint) {
      const position = decodeTailPosition(checkpoint)
      state.next = position.batch + 1
      state.reread = position.reread
      state.cold = position.reread <= position.batch
      state.dropped = new Set(position.dropped)
      state.lossUntil = position.lossUntil
    }
    return state
  }

  /**
   * After a restart: the batches from the checkpoint's `reread` up to the last
   * batch done are read again to rebuild the requests still open; what ended in
   * them was handled before the restart and is not handed out again. False
   * when a read failed (tried again at the next look).
   */
  private async rejoin(state: ServerState, listed: PlannedBatch[]): Promise<boolean> {
    const next = state.next!
    const needed = listed.filter((batch) => batch.batchNumber >= state.reread && batch.batchNumber < next)
    let expected = state.reread
    for (const batch of needed) {
      if (batch.batchNumber > expected) this.lose(state, batch.startTime)
      let body: Uint8Array
      try {
        body = await this.options.source.read(batch.key)
      } catch (err) {
        if (!(err instanceof BatchReadError)) throw err
        if (++state.readFailures < this.readAttempts) {
          this.problem({ kind: 'read-retry', key: batch.key, attempt: state.readFailures, reason: err.message })
          return false
        }
        state.readFailures = 0
        this.problem({ kind: 'unreadable-batch', key: batch.key, reason: err.message })
        this.lose(state, batch.startTime)
        expected = batch.batchNumber + 1
        continue
      }
      state.readFailures = 0
      try {
        for (const { event } of readBatchBody(body, this.options)) {
          // Requests that end here were handled before the restart: only what stays open matters.
          this.feed(state, batch, event, true)
        }
      } catch (err) {
        if (!(err instanceof BatchDecodeError)) throw err
        this.lose(state, batch.startTime)
      }
      expected = batch.batchNumber + 1
    }
    // A batch missing at the end of the re-read range cut the requests it held.
    if (expected < next) this.lose(state, this.now())
    state.cold = false
    return true
  }

  /**
   * Reads and decodes one batch: its events, rejects and the server's
   * checkpoint after it, for the next write. Undefined when the read must be
   * tried again at the next look.
   */
  private async readBatch(state: ServerState, batch: PlannedBatch): Promise<TailedBatch | undefined | typeof STORE_FAILED> {
    let body: Uint8Array | undefined
    let result: BatchResult = 'read'
    try {
      body = await this.options.source.read(batch.key)
      state.readFailures = 0
    } catch (err) {
      if (!(err instanceof BatchReadError)) throw err
      if (++state.readFailures < this.readAttempts) {
        this.problem({ kind: 'read-retry', key: batch.key, attempt: state.readFailures, reason: err.message })
        return undefined
      }
      state.readFailures = 0
      result = 'unreadable'
      this.problem({ kind: 'unreadable-batch', key: batch.key, reason: err.message })
    }
    const events: EventRecord[] = []
    const rejects: RejectedRequest[] = []
    let requests = 0
    if (body) {
      let eventsKept = 0
      try {
        for (const { event } of readBatchBody(body, this.options)) {
          eventsKept++
          const request = this.feed(state, batch, event, false)
          if (request) {
            requests++
            await this.handle(request, events, rejects)
          }
        }
      } catch (err) {
        if (err instanceof StoreUnavailableError) {
          // The write keys could not be read: like a failed commit, the batch is tried again at the next look.
          this.options.observer?.commitFailed?.('tail', err)
          this.problem({ kind: 'store-failed', key: batch.key, reason: err.message })
          this.forgetServer(state.serverToken)
          return STORE_FAILED
        }
        if (!(err instanceof BatchDecodeError)) throw err
        result = 'damaged'
        this.problem({ kind: 'damaged-batch', key: batch.key, offset: err.offset, reason: err.reason, eventsKept })
      }
    }
    if (result !== 'read') this.lose(state, batch.startTime)
    this.dropStale(state, batch.startTime)
    const position: TailPosition = {
      batch: batch.batchNumber,
      reread: Math.min(batch.batchNumber + 1, ...[...state.openFirstBatch.values()].map((open) => open.batch)),
      dropped: [...state.dropped],
      lossUntil: state.lossUntil,
    }
    let valueBytes = 0
    for (const event of events) valueBytes += event.value.length
    return { batch, result, events, rejects, requests, position, valueBytes }
  }

  /**
   * Commits the events and rejects of read batches, with the server's
   * checkpoint after the last of them, in ONE write: a crash leaves all of
   * them or none. `more`: batches are waiting (the store may put off its own
   * upkeep). False when the store failed: the server's state is forgotten and
   * rebuilt from its checkpoint at the next look.
   */
  private async commit(state: ServerState, group: TailedBatch[], more: boolean): Promise<boolean> {
    const events = group.length === 1 ? group[0]!.events : group.flatMap((tailed) => tailed.events)
    const rejects = group.flatMap((tailed) => tailed.rejects)
    const last = group[group.length - 1]!
    const started = performance.now()
    try {
      const written = await this.options.store.write({ events, rejects, checkpoints: [encodeTailCheckpoint(this.stream, state.serverToken, last.position)], ...(more ? { more } : {}) })
      this.options.observer?.committed?.('tail', written, (performance.now() - started) / 1000)
      this.report.stored += written.stored
      this.report.duplicates += written.duplicates
    } catch (err) {
      this.options.observer?.commitFailed?.('tail', err as Error)
      this.problem({ kind: 'store-failed', key: group[0]!.batch.key, reason: (err as Error).message })
      // What this process holds went past what is committed: start over from the checkpoint.
      this.forgetServer(state.serverToken)
      return false
    }
    for (const { batch, result, requests, events, rejects } of group) {
      this.report.batches++
      if (result === 'damaged') this.report.damagedBatches++
      if (result === 'unreadable') this.report.unreadableBatches++
      this.report.requests += requests
      this.report.events += events.length
      this.report.rejects += rejects.length
      this.options.observer?.batchTailed?.({ key: batch.key, serverToken: batch.serverToken, batchNumber: batch.batchNumber, startTime: batch.startTime, result, requests, events: events.length, rejects: rejects.length })
    }
    // While a backlog is worked through, the lag is the age of the batch just done (the end of the look says exactly).
    this.options.observer?.tailLag?.(Math.max(0, (this.now() - last.batch.startTime) / 1000))
    return true
  }

  /**
   * Feeds one logged event; returns the request it completes when that is to
   * be handed out. `replaying`: the batch was handled before a restart, so a
   * request ending in it is neither handed out nor counted again.
   */
  private feed(state: ServerState, batch: PlannedBatch, event: HttpEvent, replaying: boolean): LoggedRequest | undefined {
    const { reqId } = event
    if (state.dropped.has(reqId)) {
      if (event.type === REQ_END_EVENT) state.dropped.delete(reqId)
      return undefined
    }
    const open = this.assembler.has(state.serverToken, reqId)
    if (!open && event.serverTime <= state.lossUntil) state.suspects.add(reqId)
    if (!open && event.type === REQ_DATA_EVENT) state.openFirstBatch.set(reqId, { batch: batch.batchNumber, firstTime: event.serverTime })
    const request = this.assembler.push(state.serverToken, event)
    if (!request) return undefined
    state.openFirstBatch.delete(reqId)
    const suspect = state.suspects.delete(reqId)
    if (replaying) return undefined
    if (this.options.since !== undefined && !requestInRange(request.time, { from: this.options.since })) {
      this.report.filteredOut++
      return undefined
    }
    if (request.outcome !== RequestOutcome.complete) {
      this.report.notComplete++
      this.skipped(`not-complete:${OUTCOME_NAMES[request.outcome]}`)
      return undefined
    }
    if (suspect) {
      this.report.possiblyPartial++
      this.skipped('possibly-partial')
      this.problem({ kind: 'possibly-partial-request', serverToken: state.serverToken, reqId, path: request.path })
      return undefined
    }
    return request
  }

  /** A complete request: its events, or a reject when its decoder refuses it. */
  private async handle(request: LoggedRequest, events: EventRecord[], rejects: RejectedRequest[]): Promise<void> {
    if (this.options.clientIngest?.reads(request.path)) {
      // A bad write key is counted and kept as a reject, like an undecodable body.
      // Throws StoreUnavailableError when the keys cannot be read: tailBatch then retries the batch.
      const client = await this.options.clientIngest.decode(clientRequestFromLogged(request))
      if (client.kind === 'events') events.push(...client.events)
      else {
        this.skipped(client.code === 'LS_WRITE_KEY' ? 'bad-write-key' : 'undecodable')
        rejects.push(rejectedRequest(`tail:${request.serverToken}/${request.reqId}`, request, client.code, client.message, this.options.maxRejectBodyBytes ?? DEFAULT_MAX_REJECT_BODY_BYTES))
      }
      return
    }
    const decoded = requestEvents(this.decoders, request)
    if (decoded.kind === 'events') {
      for (const event of decoded.events) events.push(event)
      return
    }
    if (decoded.kind === 'no-decoder') {
      this.report.withoutDecoder++
      return
    }
    const reason = decoded.error.message ?? String(decoded.error)
    this.skipped('undecodable')
    this.problem({ kind: 'undecodable-request', serverToken: request.serverToken, reqId: request.reqId, path: request.path, decoder: decoded.decoder, reason })
    rejects.push(rejectedRequest(`tail:${request.serverToken}/${request.reqId}`, request, decoded.error.code ?? 'LS_EVENT_INVALID', reason, this.options.maxRejectBodyBytes ?? DEFAULT_MAX_REJECT_BODY_BYTES))
  }

  /** Events of this server were lost up to about `lostAt`: drop its open requests and watch the next ones. */
  private lose(state: ServerState, lostAt: number): void {
    const cut = this.assembler.takeServer(state.serverToken).map(({ reqId }) => reqId)
    for (const reqId of cut) {
      state.dropped.add(reqId)
      state.suspects.delete(reqId)
      state.openFirstBatch.delete(reqId)
    }
    if (cut.length > 0) {
      this.report.incomplete += cut.length
      for (let i = 0; i < cut.length; i++) this.skipped('incomplete')
      this.problem({ kind: 'incomplete-requests', serverToken: state.serverToken, reqIds: cut, reason: 'cut by a lost batch' })
    }
    state.lossUntil = Math.max(state.lossUntil, lostAt + this.marginMs)
  }

  /**
   * Requests open for longer than the margin will not end (their server
   * stopped mid-request): give up on them so the checkpoint can move on.
   */
  private dropStale(state: ServerState, batchStart: number): void {
    const stale: number[] = []
    for (const [reqId, open] of state.openFirstBatch) if (open.firstTime < batchStart - this.marginMs) stale.push(reqId)
    if (stale.length === 0) return
    for (const reqId of stale) {
      // The assembler forgets a request when it ends: end it with an outcome that is never handed out.
      this.assembler.push(state.serverToken, { type: REQ_END_EVENT, reqId, serverTime: batchStart, ip: '', contentType: '', path: '', method: '', headers: {}, outcome: RequestOutcome.aborted })
      state.openFirstBatch.delete(reqId)
      state.dropped.add(reqId)
    }
    this.report.incomplete += stale.length
    for (let i = 0; i < stale.length; i++) this.skipped('incomplete')
    this.problem({ kind: 'stale-requests', serverToken: state.serverToken, reqIds: stale })
  }

  private forgetServer(serverToken: string): void {
    this.assembler.takeServer(serverToken)
    this.servers.delete(serverToken)
  }

  private skipped(reason: string): void {
    this.options.observer?.requestSkipped?.(reason)
  }

  private problem(problem: TailProblem): void {
    this.options.observer?.problem?.(problem)
  }
}
