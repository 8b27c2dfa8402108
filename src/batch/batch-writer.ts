/**
 * Cuts the stream of framed events into batches. A batch's body is a series of
 * gzip members (formats/batch-v1.md §1): frames are staged into a buffer, and each
 * full buffer is compressed as a complete member of its own in the libuv thread
 * pool, so several members compress at once on different cores and memory holds
 * compressed bytes, not raw ones. A batch is sealed when it is `batchSeconds` old
 * or holds `maxBatchBytes` of raw events; an empty batch is never sealed.
 */
import { createGzip, constants as zlibConstants, type Gzip, type ZlibReset } from 'node:zlib'
import { availableParallelism } from 'node:os'
import { InvalidOptionError, LoggingSystemError } from '../errors.js'
import { positiveInteger, positiveNumber } from '../option-checks.js'
import type { BatchJournal, JournalSegment } from './batch-journal.js'
import type { Frame } from '../formats/batch-v1/encode.js'
import { formatObjectKey, normalizeKeyPrefix } from '../formats/batch-v1/object-key.js'
import { randomToken } from '../formats/batch-v1/tokens.js'

export const DEFAULT_BATCH_SECONDS = 10
export const DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024
export const DEFAULT_GZIP_LEVEL = 3
/**
 * Frames are written straight into a staging buffer of this size; each full buffer
 * becomes one gzip member (no event gets a buffer of its own; a 64 KiB body chunk,
 * ~87 KiB as base64, fits too). Measured (bench/results/2026-11-26-members-misc.json):
 * members of 512 KiB, two at a time, compress at 1.7x one stream's rate for 1-4 % more
 * CPU and 1.2 % more bytes (18 bytes of header and trailer, and a first 32 KiB
 * without history, per member); 256 KiB members cost 8-14 % more CPU.
 */
export const DEFAULT_STAGING_BYTES = 512 * 1024
/** Staging buffers whose member is compressed are kept for reuse, up to this many (per writer). */
const SPARE_STAGING_BUFFERS = 8
/** zlib's output buffer: one output chunk per member in the usual case, not several. */
const GZIP_OUTPUT_CHUNK_BYTES = 64 * 1024
/**
 * Raw bytes waiting for zlib past which the writer reports congestion: the
 * standalone server then stops reading request bodies until zlib catches up,
 * so memory stays bounded when bodies arrive faster than they compress.
 */
export const GZIP_BACKLOG_HIGH_WATER_BYTES = 2 * 1024 * 1024
/**
 * Members compressing at once: twice the cores (at least 2), so every core has zlib work while the
 * main thread fills the next buffer (measured on 2 cores at 64 KiB bodies: 2 in flight 3,900 req/s,
 * 3 4,300, 4 4,450; bench/results/2026-11-26-members-misc.json). The compression backlog (2 MiB,
 * 4 members) bounds memory.
 */
export const DEFAULT_MAX_MEMBERS_IN_FLIGHT = Math.max(2, 2 * availableParallelism())

/** How batches are cut and compressed: declared once, taken by the BatchWriter and the LoggingServer. */
export interface BatchOptions {
  /** Folder in front of `v1/` in every key. Default: none. */
  keyPrefix?: string
  /** Seal a batch this many seconds after its first event. Default: 10. */
  batchSeconds?: number
  /** Seal a batch once its raw (uncompressed) events reach this many bytes. Default: 16 MiB. */
  maxBatchBytes?: number
  /** zlib level 1 (fast) to 9 (small). Default: 3 (bench/RESULTS.md: as fast as 1, 8% smaller). */
  gzipLevel?: number
  /** Raw bytes waiting for zlib past which `congested` turns true (standalone: request bodies are not read meanwhile). Default: 2 MiB (reading resumes at half of it). */
  compressionBacklogBytes?: number
}

export interface BatchWriterOptions extends BatchOptions {
  /** Names this process in every key. */
  serverToken: string
  /** Receives each sealed batch, in batch-number order. */
  onSealed: (batch: SealedBatch) => void
  /** Write-ahead journal (the spool) for crash safety. Default: none. */
  journal?: BatchJournal
  /** Called when the journal fails, with the error (the batch goes on in memory). */
  onJournalError?: (error: Error) => void
  /** Clock, for tests. Default: Date.now. */
  now?: () => number
  /**
   * Size of a staging buffer: the raw bytes of one gzip member (a frame larger than this is a
   * member of its own). Default: 512 KiB (DEFAULT_STAGING_BYTES).
   */
  stagingBytes?: number
  /** Gzip members compressing at once in the thread pool, over all of this writer's batches. Default: twice the cores (os.availableParallelism()), at least 2. */
  maxMembersInFlight?: number
}

/** A batch ready to store. `settle` is called once by whoever stores it. */
export interface SealedBatch {
  key: string
  body: Buffer
  batchNumber: number
  startTime: number
  events: number
  rawBytes: number
  /** Its journal segment, if any: discarded once the batch is stored. */
  segment?: Pick<JournalSegment, 'discard' | 'failed'>
  /** A directory that already holds a durable copy (a spool, an unsent directory), for reports. */
  keptAt?: string
  /** Resolves once the batch is stored; rejects if it never can be. */
  readonly stored: Promise<void>
  settle(error?: Error): void
}

/** The journal could not take a batch's events: requests waiting for durability get 503. */
export class JournalUnavailableError extends LoggingSystemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LS_SPOOL_UNAVAILABLE', message, options)
    this.name = 'JournalUnavailableError'
  }
}

/**
 * Compresses gzip members in the libuv thread pool, at most `maxInFlight` at once (one zlib engine
 * each); the others wait in hand-off order. An engine is kept and reset between members: a fresh
 * one per member (zlib's one-shot gzip) cost ~12-20 % more CPU (bench/results/2026-11-26-members-misc.json). The cap
 * bounds zlib's threads and memory (an engine holds ~300 KB of deflate state); file writes (the
 * spool) share libuv's pool (4 threads unless UV_THREADPOOL_SIZE says otherwise) and may wait for a
 * member (~1.5 ms for 512 KiB) when all its threads compress.
 */
export class MemberCompressor {
  private readonly idle: MemberEngine[] = []
  private engines = 0
  private readonly waiting: MemberJob[] = []

  constructor(
    private readonly level: number,
    private readonly maxInFlight: number,
  ) {}

  compress(raw: Buffer, done: MemberJob['done']): void {
    this.waiting.push({ raw, done })
    this.startWaiting()
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && (this.idle.length > 0 || this.engines < this.maxInFlight)) {
      this.run(this.idle.pop() ?? this.newEngine(), this.waiting.shift()!)
    }
  }

  private newEngine(): MemberEngine {
    this.engines++
    const engine: MemberEngine = { gzip: createGzip({ level: this.level, chunkSize: GZIP_OUTPUT_CHUNK_BYTES }) as Gzip & ZlibReset, chunks: [], job: undefined }
    engine.gzip.on('data', (chunk: Buffer) => engine.chunks.push(chunk))
    let failed = false
    engine.gzip.on('error', (error: Error) => {
      // The engine is done for (zlib destroys the stream); its member fails, the next gets a new engine.
      if (failed) return
      failed = true
      this.engines--
      const idleAt = this.idle.indexOf(engine)
      if (idleAt >= 0) this.idle.splice(idleAt, 1)
      const job = engine.job
      engine.job = undefined
      job?.done(error, EMPTY)
      this.startWaiting()
    })
    return engine
  }

  private run(engine: MemberEngine, job: MemberJob): void {
    engine.job = job
    engine.gzip.write(job.raw)
    // Z_FINISH ends the member (trailer included); reset() starts the next one with a new header.
    engine.gzip.flush(zlibConstants.Z_FINISH, () => {
      // Output the stream had to buffer reaches 'data' on a later tick: collect it before reading.
      setImmediate(() => {
        if (engine.job !== job) return
        engine.job = undefined
        const member = engine.chunks.length === 1 ? engine.chunks[0]! : Buffer.concat(engine.chunks)
        engine.chunks = []
        engine.gzip.reset()
        this.idle.push(engine)
        job.done(null, member)
        this.startWaiting()
      })
    })
  }
}

interface MemberJob {
  raw: Buffer
  done: (error: Error | null, member: Buffer) => void
}

interface MemberEngine {
  // reset() works on gzip as on deflate (deflateReset); @types/node lists it for Deflate only.
  gzip: Gzip & ZlibReset
  chunks: Buffer[]
  job: MemberJob | undefined
}

/** What the batches of one writer share. */
interface SharedCompression {
  compressor: MemberCompressor
  stagingBytes: number
  /**
   * Staging buffers whose member is compressed. Reusing them keeps ~100 MB/s of short-lived
   * buffers away from the GC at saturation, which bench/ measured as tens of MB of peak RSS.
   * Not used with a journal: the spool keeps views until it has written them.
   */
  spare: Buffer[]
}

/** The batch events are currently written into. */
export class OpenBatch {
  readonly key: string
  readonly batchNumber: number
  readonly startTime: number
  events = 0
  rawBytes = 0
  readonly stored: Promise<void>
  settle!: (error?: Error) => void
  /** The journal segment, when a journal is in use and could open one. */
  readonly segment: JournalSegment | undefined
  private readonly journalError: Error | undefined
  private finished: Promise<void> | undefined
  private sealing = false
  // Frames go into staging[0, used); allocated when the first frame of a member comes.
  private staging: Buffer | undefined
  private used = 0
  // Compressed members by hand-off index (the body's order, whatever order they finish in).
  private readonly members: Buffer[] = []
  private membersPending = 0
  private handedRawBytes = 0
  private compressionError: Error | undefined
  private onAllCompressed: (() => void) | undefined
  // Readers paused until the backlog is down to backlogLimit (one list, not a listener each).
  private backlogWaiters: Array<() => void> = []
  private backlogLimit = 0

  constructor(
    identity: { key: string; batchNumber: number; startTime: number },
    private readonly shared: SharedCompression,
    journal: { segment?: JournalSegment; error?: Error },
  ) {
    this.key = identity.key
    this.batchNumber = identity.batchNumber
    this.startTime = identity.startTime
    this.segment = journal.segment
    this.journalError = journal.error
    this.stored = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error ? reject(error) : resolve())
    })
    // Nobody may be waiting on `stored` (ack=immediate); a failure is reported elsewhere.
    this.stored.catch(() => {})
  }

  /** Raw bytes written to this batch but not yet compressed: staged, plus handed to zlib. */
  get uncompressedBacklog(): number {
    return this.used + this.handedRawBytes
  }

  /**
   * Calls `callback` once no more than `limit` raw bytes wait for zlib (at once if so), or the
   * batch is sealed. Checked after each member is compressed, so readers resume while zlib
   * still has work queued instead of after it ran dry.
   */
  onceBacklogAtMost(limit: number, callback: () => void): void {
    if (this.uncompressedBacklog <= limit) return callback()
    this.backlogLimit = limit
    this.backlogWaiters.push(callback)
    this.releaseBacklogWaiters()
  }

  private releaseBacklogWaiters(): void {
    if (this.backlogWaiters.length === 0) return
    if (this.uncompressedBacklog > this.backlogLimit && !this.sealing && !this.compressionError) {
      // Only staged bytes stand between the readers and their limit, and they are paused, so the
      // buffer would not fill: cut the member now, and the wait ends when it is compressed.
      if (this.handedRawBytes <= this.backlogLimit) this.cutMember()
      return
    }
    const waiters = this.backlogWaiters
    this.backlogWaiters = []
    for (const waiter of waiters) waiter()
  }

  write(frame: Frame): void {
    const size = frame.byteLength
    this.events++
    this.rawBytes += size
    const stagingBytes = this.shared.stagingBytes
    if (size > stagingBytes - this.used) {
      this.cutMember()
      if (size > stagingBytes) {
        // Larger than a staging buffer (a big body chunk): a buffer and a member of its own.
        const own = Buffer.allocUnsafe(size)
        frame.writeInto(own, 0)
        this.segment?.append(own, 0, size)
        this.compressMember(own, undefined)
        return
      }
    }
    this.staging ??= (!this.segment && this.shared.spare.pop()) || Buffer.allocUnsafeSlow(stagingBytes)
    frame.writeInto(this.staging, this.used)
    if (this.segment) this.segment.append(this.staging, this.used, this.used + size)
    this.used += size
  }

  /** Hands the staged frames to zlib as one member; the next frame starts a new staging buffer. */
  private cutMember(): void {
    const staging = this.staging
    if (!staging || this.used === 0) return
    const raw = staging.subarray(0, this.used)
    this.staging = undefined
    this.used = 0
    this.compressMember(raw, staging)
  }

  /**
   * Compresses `raw` as the next member. zlib (and the spool) keep views of a staging buffer, so
   * it is reused only once its member is compressed, and never with a journal (see `spare`).
   */
  private compressMember(raw: Buffer, staging: Buffer | undefined): void {
    const index = this.members.length
    this.members.push(EMPTY)
    this.membersPending++
    this.handedRawBytes += raw.byteLength
    this.shared.compressor.compress(raw, (error, member) => {
      this.membersPending--
      this.handedRawBytes -= raw.byteLength
      if (error) this.compressionError ??= error
      else this.members[index] = member
      const spare = this.shared.spare
      if (staging && !this.segment && spare.length < SPARE_STAGING_BUFFERS) spare.push(staging)
      this.releaseBacklogWaiters()
      if (this.membersPending === 0) this.onAllCompressed?.()
    })
  }

  /** True when the batch has a journal but its events can no longer be made durable there. */
  get journalFailed(): boolean {
    return this.journalError !== undefined || this.segment?.failed === true
  }

  /**
   * Calls `done` once every event written to this batch so far is durable in the journal (at once
   * without a journal), or with the error if it cannot be. A callback, not a promise: it runs per
   * request on ack=spool's hot path.
   */
  whenCommitted(done: (error?: Error) => void): void {
    if (this.journalError) return done(this.journalError)
    const segment = this.segment
    if (!segment) return done()
    if (this.finished) {
      this.finished.then(() => segment.whenDurable(done), done)
      return
    }
    segment.whenDurable(done)
  }

  /**
   * Cuts the last member and starts closing the journal segment. `body` resolves to every member
   * concatenated in hand-off order once all are compressed, or rejects with zlib's error.
   */
  finish(): { body: Promise<Buffer> } {
    this.cutMember()
    this.sealing = true
    // Readers waiting on this batch's zlib go on: new events go to the next batch.
    this.releaseBacklogWaiters()
    this.finished = this.segment?.finish()
    const body = new Promise<Buffer>((resolve, reject) => {
      const settle = () => (this.compressionError ? reject(this.compressionError) : resolve(Buffer.concat(this.members)))
      if (this.membersPending === 0) settle()
      else this.onAllCompressed = settle
    })
    return { body }
  }
}

const EMPTY = Buffer.alloc(0)

export class BatchWriter {
  private readonly options: Required<Omit<BatchWriterOptions, 'keyPrefix' | 'journal' | 'onJournalError'>> & {
    keyPrefix: string | undefined
    journal: BatchJournal | undefined
    onJournalError: (error: Error) => void
  }
  private current: OpenBatch | undefined
  private timer: NodeJS.Timeout | undefined
  private openedCount = 0
  // Sealed batches are handed on in number order even if gzip finishes out of order.
  private handOff: Promise<void> = Promise.resolve()
  private readonly compression: SharedCompression

  constructor(options: BatchWriterOptions) {
    const gzipLevel = positiveInteger('gzipLevel', options.gzipLevel, DEFAULT_GZIP_LEVEL)
    if (gzipLevel > 9) throw new InvalidOptionError('gzipLevel', `must be 1 to 9, got ${gzipLevel}`)
    this.options = {
      serverToken: options.serverToken,
      keyPrefix: normalizeKeyPrefix(options.keyPrefix),
      batchSeconds: positiveNumber('batchSeconds', options.batchSeconds, DEFAULT_BATCH_SECONDS),
      maxBatchBytes: positiveInteger('maxBatchBytes', options.maxBatchBytes, DEFAULT_MAX_BATCH_BYTES),
      gzipLevel,
      compressionBacklogBytes: positiveInteger('compressionBacklogBytes', options.compressionBacklogBytes, GZIP_BACKLOG_HIGH_WATER_BYTES),
      onSealed: options.onSealed,
      journal: options.journal,
      onJournalError: options.onJournalError ?? (() => {}),
      now: options.now ?? Date.now,
      stagingBytes: positiveInteger('stagingBytes', options.stagingBytes, DEFAULT_STAGING_BYTES),
      maxMembersInFlight: positiveInteger('maxMembersInFlight', options.maxMembersInFlight, DEFAULT_MAX_MEMBERS_IN_FLIGHT),
    }
    this.compression = {
      compressor: new MemberCompressor(gzipLevel, this.options.maxMembersInFlight),
      stagingBytes: this.options.stagingBytes,
      spare: [],
    }
  }

  /** Batches opened so far; the last batch number used. */
  get batchesOpened(): number {
    return this.openedCount
  }

  /** The batch events go into now, if one is open. */
  get openBatch(): OpenBatch | undefined {
    return this.current
  }

  /** True while more raw bytes wait for zlib (staged or compressing) than compressionBacklogBytes. */
  get congested(): boolean {
    return (this.current?.uncompressedBacklog ?? 0) > this.options.compressionBacklogBytes
  }

  /** Calls `callback` once the open batch's zlib backlog is down to half of compressionBacklogBytes (at once when there is no open batch). */
  whenUncongested(callback: () => void): void {
    if (!this.current) callback()
    else this.current.onceBacklogAtMost(this.options.compressionBacklogBytes / 2, callback)
  }

  /** Appends one framed event; returns the batch it went into. */
  append(frame: Frame): OpenBatch {
    let batch = this.current
    // A batch whose journal failed is cut short once the journal may work again,
    // so new requests get a fresh segment instead of 503s until the batch ends.
    if (batch?.journalFailed && this.options.journal?.available()) {
      void this.seal()
      batch = undefined
    }
    batch ??= this.open()
    batch.write(frame)
    if (batch.rawBytes >= this.options.maxBatchBytes) void this.seal()
    return batch
  }

  // The key is fixed when the batch opens, so its journal segment can name it.
  private open(): OpenBatch {
    const startTime = this.options.now()
    const batchNumber = ++this.openedCount
    const key = formatObjectKey({
      prefix: this.options.keyPrefix,
      startTime,
      serverToken: this.options.serverToken,
      randomToken: randomToken(),
      batchNumber,
    })
    let segment: JournalSegment | undefined
    let error: Error | undefined
    const journal = this.options.journal
    if (journal) {
      if (!journal.available()) {
        error = new JournalUnavailableError('the spool is not writable (retrying shortly)')
      } else {
        try {
          segment = journal.open(key)
        } catch (err) {
          error = new JournalUnavailableError(`cannot open a spool segment: ${(err as Error).message}`, { cause: err })
          this.options.onJournalError(error)
        }
      }
    }
    const batch = (this.current = new OpenBatch({ key, batchNumber, startTime }, this.compression, {
      ...(segment ? { segment } : {}),
      ...(error ? { error } : {}),
    }))
    this.timer = setTimeout(() => void this.seal(), this.options.batchSeconds * 1000)
    this.timer.unref()
    return batch
  }

  /** Seals the open batch, if any; resolves once it has been handed on. */
  seal(): Promise<void> {
    const batch = this.current
    if (!batch) return this.handOff
    this.current = undefined
    clearTimeout(this.timer)
    const { body } = batch.finish()
    this.handOff = this.handOff.then(async () => {
      let compressed: Buffer
      try {
        compressed = await body
      } catch (err) {
        // zlib failed (out of memory, in practice): the batch cannot be written. Its waiters get the
        // error (503 in ack modes), the journal keeps its events for the next start, and it is reported.
        const error = new JournalUnavailableError(`could not compress batch ${batch.key}: ${(err as Error).message}`, { cause: err })
        batch.settle(error)
        this.options.onJournalError(error)
        return
      }
      this.options.onSealed({
        key: batch.key,
        body: compressed,
        batchNumber: batch.batchNumber,
        startTime: batch.startTime,
        events: batch.events,
        rawBytes: batch.rawBytes,
        ...(batch.segment ? { segment: batch.segment } : {}),
        stored: batch.stored,
        settle: batch.settle,
      })
    })
    return this.handOff
  }
}
