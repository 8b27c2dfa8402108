/**
 * Cuts the stream of framed events into batches. Each batch is gzipped as its
 * events arrive (zlib works off the main thread), so memory holds compressed
 * bytes, not raw ones. A batch is sealed when it is `batchSeconds` old or holds
 * `maxBatchBytes` of raw events; an empty batch is never sealed.
 */
import { createGzip, type Gzip } from 'node:zlib'
import { InvalidOptionError } from '../errors.js'
import { formatObjectKey, normalizeKeyPrefix } from '../formats/batch-v1/object-key.js'
import { randomToken } from '../formats/batch-v1/tokens.js'

export const DEFAULT_BATCH_SECONDS = 10
export const DEFAULT_MAX_BATCH_BYTES = 32 * 1024 * 1024
export const DEFAULT_GZIP_LEVEL = 6

export interface BatchWriterOptions {
  /** Names this process in every key. */
  serverToken: string
  /** Folder in front of `v1/` in every key. Default: none. */
  keyPrefix?: string
  /** Seal a batch this many seconds after its first event. Default: 10. */
  batchSeconds?: number
  /** Seal a batch once its raw (uncompressed) events reach this many bytes. Default: 32 MiB. */
  maxBatchBytes?: number
  /** zlib level 1 (fast) to 9 (small). Default: 6. */
  gzipLevel?: number
  /** Receives each sealed batch, in batch-number order. */
  onSealed: (batch: SealedBatch) => void
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
  /** Resolves once the batch is stored; rejects if it never can be. */
  readonly stored: Promise<void>
  settle(error?: Error): void
}

/** The batch events are currently written into. */
export class OpenBatch {
  readonly startTime: number
  events = 0
  rawBytes = 0
  readonly stored: Promise<void>
  settle!: (error?: Error) => void
  private readonly gzip: Gzip
  private readonly chunks: Buffer[] = []
  private readonly compressed: Promise<Buffer>

  constructor(startTime: number, gzipLevel: number) {
    this.startTime = startTime
    this.stored = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error ? reject(error) : resolve())
    })
    // Nobody may be waiting on `stored` (ack=immediate); a failure is reported elsewhere.
    this.stored.catch(() => {})
    this.gzip = createGzip({ level: gzipLevel })
    this.gzip.on('data', (chunk: Buffer) => this.chunks.push(chunk))
    this.compressed = new Promise((resolve, reject) => {
      this.gzip.once('end', () => resolve(Buffer.concat(this.chunks)))
      this.gzip.once('error', reject)
    })
  }

  write(frame: Uint8Array): void {
    this.events++
    this.rawBytes += frame.byteLength
    this.gzip.write(frame)
  }

  finish(): Promise<Buffer> {
    this.gzip.end()
    return this.compressed
  }
}

function positive(name: string, value: number | undefined, fallback: number, integer = false): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new InvalidOptionError(name, `must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`)
  }
  return value
}

export class BatchWriter {
  private readonly options: Required<Omit<BatchWriterOptions, 'keyPrefix'>> & { keyPrefix: string | undefined }
  private current: OpenBatch | undefined
  private timer: NodeJS.Timeout | undefined
  private sealedCount = 0
  // Sealed batches are handed on in number order even if gzip finishes out of order.
  private handOff: Promise<void> = Promise.resolve()

  constructor(options: BatchWriterOptions) {
    const gzipLevel = positive('gzipLevel', options.gzipLevel, DEFAULT_GZIP_LEVEL, true)
    if (gzipLevel > 9) throw new InvalidOptionError('gzipLevel', `must be 1 to 9, got ${gzipLevel}`)
    this.options = {
      serverToken: options.serverToken,
      keyPrefix: normalizeKeyPrefix(options.keyPrefix),
      batchSeconds: positive('batchSeconds', options.batchSeconds, DEFAULT_BATCH_SECONDS),
      maxBatchBytes: positive('maxBatchBytes', options.maxBatchBytes, DEFAULT_MAX_BATCH_BYTES, true),
      gzipLevel,
      onSealed: options.onSealed,
      now: options.now ?? Date.now,
    }
  }

  /** Batches sealed so far; the last batch number used. */
  get batchesSealed(): number {
    return this.sealedCount
  }

  /** The batch events go into now, if one is open. */
  get openBatch(): OpenBatch | undefined {
    return this.current
  }

  /** Appends one framed event; returns the batch it went into. */
  append(frame: Uint8Array): OpenBatch {
    let batch = this.current
    if (!batch) {
      batch = this.current = new OpenBatch(this.options.now(), this.options.gzipLevel)
      this.timer = setTimeout(() => void this.seal(), this.options.batchSeconds * 1000)
      this.timer.unref()
    }
    batch.write(frame)
    if (batch.rawBytes >= this.options.maxBatchBytes) void this.seal()
    return batch
  }

  /** Seals the open batch, if any; resolves once it has been handed on. */
  seal(): Promise<void> {
    const batch = this.current
    if (!batch) return this.handOff
    this.current = undefined
    clearTimeout(this.timer)
    const batchNumber = ++this.sealedCount
    const key = formatObjectKey({
      prefix: this.options.keyPrefix,
      startTime: batch.startTime,
      serverToken: this.options.serverToken,
      randomToken: randomToken(),
      batchNumber,
    })
    const body = batch.finish()
    this.handOff = this.handOff.then(async () => {
      this.options.onSealed({
        key,
        body: await body,
        batchNumber,
        startTime: batch.startTime,
        events: batch.events,
        rawBytes: batch.rawBytes,
        stored: batch.stored,
        settle: batch.settle,
      })
    })
    return this.handOff
  }
}
