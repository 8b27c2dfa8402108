/**
 * Cuts the stream of framed events into batches. Each batch is gzipped as its
 * events arrive (zlib works off the main thread), so memory holds compressed
 * bytes, not raw ones. A batch is sealed when it is `batchSeconds` old or holds
 * `maxBatchBytes` of raw events; an empty batch is never sealed.
 */
import { createGzip, type Gzip } from 'node:zlib'
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
 * Frames are written straight into a staging buffer of this size and handed to
 * zlib when it is full or GZIP_CHUNK_MS after the first unhanded frame: each
 * zlib write is a thread-pool job, and no event gets a buffer of its own
 * (a 64 KiB body chunk, ~87 KiB as base64, fits too).
 */
const STAGING_BYTES = 256 * 1024
/** Staging buffers zlib is done with are kept for reuse, up to this many (per writer). */
const SPARE_STAGING_BUFFERS = 16
const GZIP_CHUNK_MS = 20
/** zlib's output buffer: fewer, larger output callbacks than its 16 KiB default. */
const GZIP_OUTPUT_CHUNK_BYTES = 64 * 1024
/**
 * Raw bytes waiting for zlib past which the writer reports congestion: the
 * standalone server then stops reading request bodies until zlib catches up,
 * so memory stays bounded when bodies arrive faster than they compress.
 */
export const GZIP_BACKLOG_HIGH_WATER_BYTES = 2 * 1024 * 1024

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

/** A staging buffer: zlib writes of parts of it still pending, and whether frames still go into it. */
interface Staging {
  bytes: Buffer
  pendingWrites: number
  retired: boolean
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
  private readonly gzip: Gzip
  private readonly chunks: Buffer[] = []
  private readonly compressed: Promise<Buffer>
  private finished: Promise<void> | undefined
  // Frames are written into `staging`; [handedUpTo, used) is not yet handed to zlib.
  private staging: Staging
  private used = 0
  private handedUpTo = 0
  private flushScheduled = false
  // Readers paused until the zlib backlog is down to backlogLimit (one list, not a listener each).
  private backlogWaiters: Array<() => void> = []
  private backlogLimit = 0
  private readonly flushPending = () => {
    this.flushScheduled = false
    if (this.used === this.handedUpTo) return
    // zlib (and the spool) keep views of the staging buffer: a part handed on is not written again
    // until zlib has taken it and the buffer is recycled (never with a journal, see `spare`).
    const staging = this.staging
    staging.pendingWrites++
    this.gzip.write(staging.bytes.subarray(this.handedUpTo, this.used), () => {
      staging.pendingWrites--
      this.recycle(staging)
      this.releaseBacklogWaiters()
    })
    this.handedUpTo = this.used
  }

  constructor(
    identity: { key: string; batchNumber: number; startTime: number },
    gzipLevel: number,
    journal: { segment?: JournalSegment; error?: Error },
    /**
     * Staging buffers zlib has finished with (shared by the writer's batches). Reusing them keeps
     * ~100 MB/s of short-lived buffers away from the GC at saturation, which bench/ measured as
     * tens of MB of peak RSS. Not used with a journal: the spool keeps views until it has written them.
     */
    private readonly spare: Buffer[] = [],
  ) {
    this.key = identity.key
    this.batchNumber = identity.batchNumber
    this.startTime = identity.startTime
    this.segment = journal.segment
    this.journalError = journal.error
    this.staging = this.newStaging()
    this.stored = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error ? reject(error) : resolve())
    })
    // Nobody may be waiting on `stored` (ack=immediate); a failure is reported elsewhere.
    this.stored.catch(() => {})
    this.gzip = createGzip({ level: gzipLevel, chunkSize: GZIP_OUTPUT_CHUNK_BYTES })
    this.gzip.on('data', (chunk: Buffer) => this.chunks.push(chunk))
    this.compressed = new Promise((resolve, reject) => {
      this.gzip.once('end', () => resolve(Buffer.concat(this.chunks)))
      this.gzip.once('error', reject)
    })
    this.gzip.once('error', () => this.releaseBacklogWaiters())
  }

  /** Raw bytes handed to this batch but not yet compressed. */
  get uncompressedBacklog(): number {
    return this.used - this.handedUpTo + this.gzip.writableLength
  }

  /**
   * Calls `callback` once no more than `limit` raw bytes wait for zlib (at once if so), or the
   * batch is sealed. Checked after each zlib write completes, so readers resume while zlib still
   * has work queued instead of after it ran dry.
   */
  onceBacklogAtMost(limit: number, callback: () => void): void {
    if (this.uncompressedBacklog <= limit) return callback()
    this.backlogLimit = limit
    this.backlogWaiters.push(callback)
  }

  private releaseBacklogWaiters(): void {
    if (this.backlogWaiters.length === 0 || (this.uncompressedBacklog > this.backlogLimit && !this.gzip.writableEnded && !this.gzip.destroyed)) return
    const waiters = this.backlogWaiters
    this.backlogWaiters = []
    for (const waiter of waiters) waiter()
  }

  write(frame: Frame): void {
    const size = frame.byteLength
    this.events++
    this.rawBytes += size
    if (size > this.staging.bytes.byteLength - this.used) {
      this.flushPending()
      if (size > STAGING_BYTES) {
        // Larger than a staging buffer (a big body chunk): a buffer of its own, straight to zlib.
        const own = Buffer.allocUnsafe(size)
        frame.writeInto(own, 0)
        this.segment?.append(own, 0, size)
        this.gzip.write(own, () => this.releaseBacklogWaiters())
        return
      }
      this.retireStaging()
      this.staging = this.newStaging()
      this.used = this.handedUpTo = 0
    }
    frame.writeInto(this.staging.bytes, this.used)
    if (this.segment) this.segment.append(this.staging.bytes, this.used, this.used + size)
    this.used += size
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setTimeout(this.flushPending, GZIP_CHUNK_MS).unref()
    }
  }

  private newStaging(): Staging {
    const bytes = (!this.segment && this.spare.pop()) || Buffer.allocUnsafeSlow(STAGING_BYTES)
    return { bytes, pendingWrites: 0, retired: false }
  }

  /** No more frames go into the current staging buffer. */
  private retireStaging(): void {
    this.staging.retired = true
    this.recycle(this.staging)
  }

  /** A retired staging buffer is reusable once zlib has taken every part of it (this happens once). */
  private recycle(staging: Staging): void {
    if (!staging.retired || staging.pendingWrites > 0) return
    if (!this.segment && this.spare.length < SPARE_STAGING_BUFFERS) this.spare.push(staging.bytes)
  }

  /** True when the batch has a journal but its events can no longer be made durable there. */
  get journalFailed(): boolean {
    return this.journalError !== undefined || this.segment?.failed === true
  }

  /**
   * Resolves once every event written to this batch so far is durable in the
   * journal. Without a journal there is nothing to wait for.
   */
  commit(): Promise<void> {
    return new Promise((resolve, reject) => this.whenCommitted((error) => (error ? reject(error) : resolve())))
  }

  /** commit() as a callback (no promise per request): called once, with the error if the events cannot be made durable. */
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

  /** Ends the gzip stream and starts closing the journal segment. */
  finish(): { body: Promise<Buffer> } {
    this.flushPending()
    this.retireStaging()
    this.gzip.end()
    // Readers waiting on this batch's zlib go on: new events go to the next batch.
    this.releaseBacklogWaiters()
    this.finished = this.segment?.finish()
    return { body: this.compressed }
  }
}

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
  private readonly spareStaging: Buffer[] = []

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

  /** True while more raw bytes wait for zlib than compressionBacklogBytes. */
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
    const batch = (this.current = new OpenBatch({ key, batchNumber, startTime }, this.options.gzipLevel, {
      ...(segment ? { segment } : {}),
      ...(error ? { error } : {}),
    }, this.spareStaging))
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
