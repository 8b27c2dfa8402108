/**
 * The LoggingServer: logs every request it is handed, unparsed, into gzipped
 * batch V1 objects, and stores them in a sink (a directory or S3).
 *
 *   capture (RequestCapture) → batch (BatchWriter) → store (BatchUploader → Sink)
 *
 * It runs standalone (`listen`) or embedded (`handleRequest`, `middleware`,
 * `fastifyLogging`).
 */
import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import { BatchWriter, type OpenBatch, type SealedBatch } from '../batch/batch-writer.js'
import { RequestCapture, type CaptureOptions, type RecordedRequest } from '../capture/request-capture.js'
import { ClosedError, InvalidOptionError, UnsentBatchesError } from '../errors.js'
import { randomToken } from '../formats/batch-v1/tokens.js'
import { RequestOutcome } from '../formats/batch-v1/http-events.js'
import { BatchUploader, type UploadReport } from '../sinks/batch-uploader.js'
import { DEFAULT_BATCH_DIRECTORY, DirectorySink } from '../sinks/directory-sink.js'
import type { RetryPolicy } from '../retry-policy.js'
import { S3Sink, type S3Location } from '../sinks/s3-sink.js'
import type { Sink } from '../sinks/sink.js'
import { parseObjectKey } from '../formats/batch-v1/object-key.js'
import { DEFAULT_SPOOL_DIRECTORY, Spool } from '../spool/spool.js'
import { AnswerProfiles, type AnswerProfile } from './answer-profiles.js'
import { corsHeadersFor, preflightHeaders, type CorsOptions } from './cors.js'
import { NO_CACHE_HEADERS, pathOf, TRANSPARENT_GIF } from './responses.js'

export const DEFAULT_RESPONSE_STATUS = 200
export const DEFAULT_PIXEL_PATH = '/i'
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000
export const DEFAULT_UNSENT_DIRECTORY = './unsent-batches'
export const DEFAULT_MAX_BACKLOG_BYTES = 128 * 1024 * 1024
export const DEFAULT_RETRY_AFTER_SECONDS = 5

/**
 * When a request is answered:
 * - `immediate`: as soon as it has been read (a crash loses the open batch);
 * - `spool`: once its events are fsynced to the local spool;
 * - `s3`: once the batch holding it is stored in the sink (any sink), up to batchSeconds later.
 */
export type AckMode = 'immediate' | 'spool' | 's3'
export const ACK_MODES: readonly AckMode[] = ['immediate', 'spool', 's3']
export const DEFAULT_ACK_MODE: AckMode = 'immediate'

const gzipAsync = promisify(gzip)

/** The structured logger the server reports to (pino's shape). */
export interface ServerLogger {
  info(object: object, message?: string): void
  warn(object: object, message?: string): void
  error(object: object, message?: string): void
}

const silentLogger: ServerLogger = { info() {}, warn() {}, error() {} }

export interface LoggingServerOptions extends CaptureOptions {
  /** When requests are answered: 'immediate', 'spool' or 's3'. Default: 'immediate'. */
  ack?: AckMode
  /** Spool directory (ack 'spool'); segments left there by a dead process are delivered at start. Default: './spool'. */
  spoolDirectory?: string
  /** Past this many bytes of batches waiting for the sink, new requests get 503. Default: 128 MiB. */
  maxBacklogBytes?: number
  /** Retry-After of a 503, in seconds. Default: 5. */
  retryAfterSeconds?: number
  /** Where batches go. Default: a DirectorySink on `directory`, or an S3Sink when `s3` is set. */
  sink?: Sink
  /** Directory for batches when neither `sink` nor `s3` is given. Default: './batches'. */
  directory?: string
  /** S3 bucket (and endpoint, region, credentials) for batches. Default: none. */
  s3?: S3Location
  /** Folder in front of every key, e.g. `logs/web`. Default: none. */
  keyPrefix?: string
  /** Seal a batch this many seconds after its first event. Default: 10. */
  batchSeconds?: number
  /** Seal a batch once its raw events reach this many bytes. Default: 16 MiB. */
  maxBatchBytes?: number
  /** gzip level 1-9. Default: 3. */
  gzipLevel?: number
  /** Standalone: request bodies are not read while more raw bytes than this wait for zlib. Default: 8 MiB. */
  compressionBacklogBytes?: number
  /** Answers analytics clients accept, by path (docs/answer-profiles.md); false answers `OK` everywhere. Default: BUILT_IN_ANSWER_PROFILES. */
  answers?: readonly AnswerProfile[] | false
  /** Status of the answer to a logged request (standalone). Default: 200. */
  responseStatus?: number
  /** CORS for standalone answers; false sends no CORS headers. Default: reflect the Origin. */
  cors?: CorsOptions | false
  /** GET/HEAD here answers a 1×1 transparent GIF (and is logged like any request); false turns it off. Default: '/i'. */
  pixelPath?: string | false
  /** Slow clients: time to receive the headers, ms. Default: 10000. */
  headersTimeoutMs?: number
  /** Slow clients: time to receive the whole request, ms. Default: 30000. */
  requestTimeoutMs?: number
  /** Idle keep-alive connections close after this, ms. Default: 5000. */
  keepAliveTimeoutMs?: number
  /** close(): how long to wait for in-flight requests and then for the sink, ms. Default: 30000. */
  closeTimeoutMs?: number
  /** close(): batches the sink could not take by the deadline are written here. Default: './unsent-batches'. */
  unsentDirectory?: string
  /** Backoff between attempts to store a batch. Default: 200 ms doubling to 30 s, full jitter. */
  retryPolicy?: Partial<RetryPolicy>
  /** Structured logger (pino or alike). Default: silent. */
  logger?: ServerLogger
  /** Names this process in every key. Default: 8 random base58 characters. */
  serverToken?: string
}

export interface LoggingServerEvents {
  /** A request was logged to its end (any outcome); `bytes` of body were logged. */
  request: [{ outcome: RequestOutcome; bytes: number }]
  /** A request was refused: 413 (too large) or 503 (backlog full, spool unwritable). */
  rejected: [{ status: 413 | 503; reason: string }]
  /** A batch was stored in the sink. */
  batchStored: [UploadReport]
  /** An attempt to store a batch failed; it will be retried. */
  batchFailed: [{ batch: SealedBatch; error: Error; attempt: number; retryInMs: number }]
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) throw new InvalidOptionError(name, `must be a positive integer, got ${String(value)}`)
  return value
}

function chooseSink(options: LoggingServerOptions): Sink {
  const given = [options.sink && 'sink', options.directory && 'directory', options.s3 && 's3'].filter(Boolean)
  if (given.length > 1) throw new InvalidOptionError(given.join('/'), 'give only one of sink, directory and s3')
  if (options.sink) return options.sink
  if (options.s3) return new S3Sink(options.s3)
  return new DirectorySink(options.directory ?? DEFAULT_BATCH_DIRECTORY)
}

export class LoggingServer extends EventEmitter<LoggingServerEvents> {
  readonly serverToken: string
  readonly sink: Sink
  private readonly capture: RequestCapture<OpenBatch>
  private readonly writer: BatchWriter
  private readonly uploader: BatchUploader
  private readonly logger: ServerLogger
  readonly ack: AckMode
  /** The spool, in ack mode 'spool'. */
  readonly spool: Spool | undefined
  /** Resolves once batches left by an earlier process (spool, unsent directory) are queued. */
  readonly recovered: Promise<void>
  private readonly settings: {
    responseStatus: number
    cors: CorsOptions | false
    pixelPath: string | false
    headersTimeoutMs: number
    requestTimeoutMs: number
    keepAliveTimeoutMs: number
    closeTimeoutMs: number
    unsentDirectory: string
    maxBacklogBytes: number
    retryAfterSeconds: number
  }
  private readonly answerProfiles: AnswerProfiles
  private server: Server | undefined
  private closing: Promise<void> | undefined
  /** Set when close() seals the last batch: nothing may be logged after it. */
  private finalSeal = false

  constructor(options: LoggingServerOptions = {}) {
    super()
    const responseStatus = positiveInteger('responseStatus', options.responseStatus, DEFAULT_RESPONSE_STATUS)
    if (responseStatus < 200 || responseStatus > 599) throw new InvalidOptionError('responseStatus', `must be an HTTP status, got ${responseStatus}`)
    const pixelPath = options.pixelPath ?? DEFAULT_PIXEL_PATH
    if (pixelPath !== false && !pixelPath.startsWith('/')) throw new InvalidOptionError('pixelPath', `must start with '/', got ${JSON.stringify(pixelPath)}`)
    this.answerProfiles = new AnswerProfiles(options.answers === false ? [] : options.answers)
    this.settings = {
      responseStatus,
      cors: options.cors ?? {},
      pixelPath,
      headersTimeoutMs: positiveInteger('headersTimeoutMs', options.headersTimeoutMs, DEFAULT_HEADERS_TIMEOUT_MS),
      requestTimeoutMs: positiveInteger('requestTimeoutMs', options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS),
      keepAliveTimeoutMs: positiveInteger('keepAliveTimeoutMs', options.keepAliveTimeoutMs, DEFAULT_KEEP_ALIVE_TIMEOUT_MS),
      closeTimeoutMs: positiveInteger('closeTimeoutMs', options.closeTimeoutMs, DEFAULT_CLOSE_TIMEOUT_MS),
      unsentDirectory: options.unsentDirectory ?? DEFAULT_UNSENT_DIRECTORY,
      maxBacklogBytes: positiveInteger('maxBacklogBytes', options.maxBacklogBytes, DEFAULT_MAX_BACKLOG_BYTES),
      retryAfterSeconds: positiveInteger('retryAfterSeconds', options.retryAfterSeconds, DEFAULT_RETRY_AFTER_SECONDS),
    }
    this.ack = options.ack ?? DEFAULT_ACK_MODE
    if (!ACK_MODES.includes(this.ack)) throw new InvalidOptionError('ack', `must be one of ${ACK_MODES.join(', ')}, got ${String(this.ack)}`)
    this.serverToken = options.serverToken ?? randomToken()
    this.logger = options.logger ?? silentLogger
    this.sink = chooseSink(options)
    this.uploader = new BatchUploader({
      sink: this.sink,
      ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
      onStored: (report) => {
        const { batch } = report
        this.logger.info(
          { key: batch.key, bytes: batch.body.byteLength, rawBytes: batch.rawBytes, events: batch.events, attempts: report.attempts, ms: report.durationMs },
          'batch stored',
        )
        void batch.segment?.discard()
        this.emit('batchStored', report)
      },
      onAttemptFailed: (batch, error, attempt, retryInMs) => {
        this.logger.error({ key: batch.key, attempt, retryInMs, err: error }, 'batch store failed; will retry')
        this.emit('batchFailed', { batch, error, attempt, retryInMs })
      },
    })
    this.spool =
      this.ack === 'spool'
        ? new Spool(options.spoolDirectory ?? DEFAULT_SPOOL_DIRECTORY, {
            onError: (err, path) => this.logger.error({ err, path }, 'spool write failed: answering 503 until the spool works again'),
          })
        : undefined
    this.writer = new BatchWriter({
      serverToken: this.serverToken,
      keyPrefix: options.keyPrefix,
      batchSeconds: options.batchSeconds,
      maxBatchBytes: options.maxBatchBytes,
      gzipLevel: options.gzipLevel,
      compressionBacklogBytes: options.compressionBacklogBytes,
      ...(this.spool ? { journal: this.spool } : {}),
      onJournalError: (err) => this.logger.error({ err }, 'batch journal failed: requests waiting for durability get 503'),
      onSealed: (batch) => this.uploader.enqueue(batch),
    })
    // Nothing is allocated for the event while nobody listens (no metrics).
    this.capture = new RequestCapture(options, this.writer, (outcome, bytes) => {
      if (this.listenerCount('request') > 0) this.emit('request', { outcome, bytes })
    })
    this.recovered = this.recoverLeftovers().catch((err) => this.logger.error({ err }, 'could not recover batches left by an earlier process'))
  }

  /**
   * Queues what an earlier process left behind: spool segments (ack=spool)
   * and batches written to the unsent directory at a failed shutdown. Both
   * are stored under their original keys, so a batch stored twice (a crash
   * between the store and the delete) overwrites itself instead of doubling.
   */
  private async recoverLeftovers(): Promise<void> {
    // Each source on its own: one that fails must not keep the other from being delivered.
    const spool = this.spool
    if (spool) {
      await this.recoverSpool(spool).catch((err) => this.logger.error({ err, directory: spool.directory }, 'could not recover the spool'))
    }
    await this.recoverUnsent().catch((err) => this.logger.error({ err, directory: this.settings.unsentDirectory }, 'could not recover unsent batches'))
  }

  private async recoverSpool(spool: Spool): Promise<void> {
    for (const segment of await spool.recover()) {
      const parts = parseObjectKey(segment.key)!
      this.logger.warn({ key: segment.key, events: segment.events, tornBytes: segment.tornBytes }, 'recovered a spool segment left by an earlier process')
      if (segment.events === 0) {
        await segment.discard()
        continue
      }
      this.enqueueRecovered(segment.key, parts.startTime, parts.batchNumber, await gzipAsync(segment.frames), segment.events, segment.frames.byteLength, {
        segment: { failed: false, discard: segment.discard },
        keptAt: spool.directory,
      })
    }
  }

  private async recoverUnsent(): Promise<void> {
    const unsent = new DirectorySink(this.settings.unsentDirectory)
    for (const key of await unsent.keys()) {
      const parts = parseObjectKey(key)
      if (!parts) continue
      this.logger.warn({ key, directory: unsent.directory }, 'recovered a batch left unsent by an earlier shutdown')
      this.enqueueRecovered(key, parts.startTime, parts.batchNumber, await unsent.get(key), 0, 0, {
        segment: { failed: false, discard: () => unsent.delete(key).catch(() => {}) },
        keptAt: unsent.directory,
      })
    }
  }

  private enqueueRecovered(
    key: string,
    startTime: number,
    batchNumber: number,
    body: Buffer,
    events: number,
    rawBytes: number,
    copy: Required<Pick<SealedBatch, 'segment' | 'keptAt'>>,
  ): void {
    let settle!: (error?: Error) => void
    const stored = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())))
    stored.catch(() => {})
    this.uploader.enqueue({ key, body, batchNumber, startTime, events, rawBytes, stored, settle, ...copy })
  }

  /** Why new requests are refused right now, if they are. */
  private unavailableReason(): string | undefined {
    if (this.uploader.backlogBytes > this.settings.maxBacklogBytes) {
      return `backlog of ${this.uploader.backlogBytes} bytes waiting for ${this.sink.description} is over the ${this.settings.maxBacklogBytes}-byte limit`
    }
    if (this.spool && !this.spool.available()) return 'the spool is not writable'
    return undefined
  }

  /** Ready to take traffic: the sink is not failing and the backlog is under its limit. */
  get ready(): boolean {
    return !this.uploader.failing && this.unavailableReason() === undefined
  }

  /** Figures for health checks and metrics. */
  status() {
    return {
      sinkFailing: this.uploader.failing,
      backlogBytes: this.uploader.backlogBytes,
      backlogBatches: this.uploader.backlogBatches,
      spoolBytes: this.spool?.bytes ?? 0,
      oldestUnsentStartTime: this.uploader.oldestPendingStartTime,
      unavailable: this.unavailableReason(),
    }
  }

  /** Bytes of sealed batches waiting for the sink. */
  get backlogBytes(): number {
    return this.uploader.backlogBytes
  }

  /**
   * Standalone handling of one request: logs it and answers it (200 `OK`,
   * 204 to a CORS preflight, a GIF on the pixel path, 413 past the body limit).
   */
  handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // Refused before anything is read, so a full backlog cannot grow: not logged, counted.
    const unavailable = this.finalSeal ? 'the server is shutting down' : this.unavailableReason()
    if (unavailable !== undefined) {
      this.reject(res, req.headers.origin, 503, unavailable)
      return
    }
    const recorded = this.capture.begin(req)
    const limit = this.capture.options.maxBodyBytes
    const declared = Number(recorded.head.contentLength)
    if (declared > limit) {
      this.rejectTooLarge(recorded, res)
      return
    }
    req.on('data', (chunk: Buffer) => {
      if (!recorded.data(chunk)) return this.rejectTooLarge(recorded, res)
      // Bodies arriving faster than zlib compresses: stop reading (TCP pushes back on the client).
      if (this.writer.congested && !req.isPaused()) {
        req.pause()
        this.writer.whenUncongested(() => req.resume())
      }
    })
    req.on('end', () => {
      if (recorded.done) return
      recorded.end(RequestOutcome.complete)
      const origin = recorded.head.origin
      if (this.ack === 'immediate') return this.answer(req, res, origin)
      const durable = recorded.batches.map((batch) => (this.ack === 'spool' ? batch.commit() : batch.stored))
      Promise.all(durable).then(
        () => this.answer(req, res, origin),
        (err: Error) => this.reject(res, origin, 503, `not persisted: ${err.message}`),
      )
    })
    // 'close' without 'end': the client went away mid-request. (No 'error' listener is
    // needed: node emits an aborted request's error only to existing listeners.)
    req.on('close', () => recorded.end(RequestOutcome.aborted))
  }

  /**
   * Embedded handling: logs the request while the app reads the body and
   * answers as usual. `(req, res, next)` for Express, Connect and alike.
   */
  middleware(): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
    return (req, _res, next) => {
      this.observe(req)
      next()
    }
  }

  /** Logs a request the caller answers itself (used by the middleware and the fastify plugin). */
  observe(req: IncomingMessage): void {
    // After the last batch is sealed a request can no longer be logged; it is counted instead.
    if (this.finalSeal) {
      this.emit('rejected', { status: 503, reason: 'the server is shutting down' })
      return
    }
    this.capture.observe(req)
  }

  /** Starts a node:http server on `port` that logs every request. */
  async listen(port: number, host?: string | (() => void), callback?: () => void): Promise<AddressInfo> {
    if (typeof host === 'function') [callback, host] = [host, undefined]
    if (this.closing) throw new ClosedError('LoggingServer')
    await this.recovered
    const server = (this.server = createServer(
      {
        requestTimeout: this.settings.requestTimeoutMs,
        headersTimeout: this.settings.headersTimeoutMs,
        keepAliveTimeout: this.settings.keepAliveTimeoutMs,
      },
      this.handleRequest,
    ))
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        const address = server.address() as AddressInfo
        this.logger.info({ address: address.address, port: address.port, sink: this.sink.description, serverToken: this.serverToken }, 'listening')
        callback?.()
        resolve(address)
      })
    })
  }

  /** Seals the open batch now and resolves once every batch so far is stored. */
  async flush(): Promise<void> {
    await this.writer.seal()
    await this.uploader.drain()
  }

  /**
   * Stops accepting connections, lets in-flight requests finish, writes the
   * last batch and waits for the sink, all within closeTimeoutMs. Batches the
   * sink has not taken by then are written to `unsentDirectory` and close()
   * rejects with UnsentBatchesError naming them: nothing is lost silently.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown()
    return this.closing
  }

  private async shutDown(): Promise<void> {
    const deadline = Date.now() + this.settings.closeTimeoutMs
    // 1. Stop accepting; 2. let every request already begun (standalone or embedded) end, up to
    // the deadline; 3. seal the last batch, which with ack=spool|s3 is what their answers wait
    // for; 4. wait for the connections to close; 5. wait for the sink.
    const listenerClosed = this.server ? this.stopListening(this.server, deadline) : Promise.resolve()
    await this.recovered
    const cut = await this.capture.settle(deadline)
    // No I/O callback runs between settle() and here, so no request can begin in between.
    this.finalSeal = true
    const sealed = this.writer.seal()
    if (cut > 0) this.logger.warn({ requests: cut }, 'requests still in flight at the close deadline were logged as aborted')
    await sealed
    await listenerClosed
    try {
      await this.uploader.drain(deadline)
    } catch (err) {
      if (!(err instanceof UnsentBatchesError)) throw err
      this.uploader.stop()
      await this.saveUnsent(this.uploader.pending())
    } finally {
      await this.sink.close?.()
    }
  }

  private stopListening(server: Server, deadline: number): Promise<void> {
    return new Promise((resolve) => {
      // In-flight requests get until the deadline; then their connections are cut (logged as aborted).
      const cut = setTimeout(() => server.closeAllConnections(), Math.max(0, deadline - Date.now()))
      server.close(() => {
        clearTimeout(cut)
        resolve()
      })
      server.closeIdleConnections()
    })
  }

  private async saveUnsent(batches: SealedBatch[]): Promise<never> {
    const fallback = new DirectorySink(this.settings.unsentDirectory)
    const keys = batches.map((batch) => batch.key)
    const failed: string[] = []
    // Batches that already have a durable copy (a whole spool segment, a file in the unsent directory) stay there.
    const kept = new Map<string, number>()
    for (const batch of batches) {
      const keptAt = batch.keptAt ?? (batch.segment && !batch.segment.failed ? this.spool?.directory : undefined)
      if (keptAt !== undefined) {
        kept.set(keptAt, (kept.get(keptAt) ?? 0) + 1)
        continue
      }
      try {
        await fallback.put(batch.key, batch.body)
      } catch (err) {
        failed.push(batch.key)
        this.logger.error({ key: batch.key, err }, 'could not save unsent batch locally either')
      }
    }
    const keptCount = [...kept.values()].reduce((sum, n) => sum + n, 0)
    const saved = keys.length - failed.length - keptCount
    const message =
      `${keys.length} batch(es) not stored in ${this.sink.description} before the close deadline; ` +
      [...kept].map(([directory, n]) => `${n} left in ${directory === this.spool?.directory ? 'the spool ' : ''}${directory}, `).join('') +
      `${saved} saved under ${fallback.directory}` +
      (failed.length ? `, ${failed.length} LOST: ${failed.join(', ')}` : '') +
      '; they are delivered at the next start'
    this.logger.error({ keys, unsentDirectory: fallback.directory, lost: failed }, message)
    const error = new UnsentBatchesError(keys, message)
    for (const batch of batches) batch.settle(error)
    throw error
  }

  private rejectTooLarge(recorded: RecordedRequest<OpenBatch>, res: ServerResponse): void {
    if (recorded.done) return
    recorded.end(RequestOutcome.tooLarge)
    recorded.req.removeAllListeners('data')
    this.reject(res, recorded.head.origin, 413, `request body is larger than ${this.capture.options.maxBodyBytes} bytes`)
  }

  /** 413 or 503 with a message that says why; the connection closes, so an unread body is not read. */
  private reject(res: ServerResponse, origin: string | undefined, status: 413 | 503, reason: string): void {
    this.emit('rejected', { status, reason })
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }
    if (status === 503) headers['retry-after'] = String(this.settings.retryAfterSeconds)
    this.send(res, origin, status, Object.entries(headers).flat(), `${status === 413 ? 'Payload Too Large' : 'Service Unavailable'}: ${reason}\n`)
  }

  private answer(req: IncomingMessage, res: ServerResponse, origin: string | undefined): void {
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined && this.settings.cors) {
      res.writeHead(204, preflightHeaders(req.headers, this.settings.cors)).end()
      return
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && this.settings.pixelPath !== false && pathOf(req.url) === this.settings.pixelPath) {
      this.send(res, origin, 200, PIXEL_HEADERS, TRANSPARENT_GIF)
      return
    }
    const profiled = this.answerProfiles.answerFor(req.url)
    if (profiled) return this.send(res, origin, profiled.status, profiled.headers, profiled.body)
    this.send(res, origin, this.settings.responseStatus, OK_HEADERS, OK_BODY)
  }

  /** Writes a whole answer; `headers` is a flat [name, value, ...] list without CORS and length. */
  private send(res: ServerResponse, origin: string | undefined, status: number, headers: readonly string[], body: string | Buffer): void {
    if (res.headersSent) return
    const raw = [...headers, 'content-length', String(Buffer.byteLength(body))]
    if (this.settings.cors) {
      for (const [name, value] of Object.entries(corsHeadersFor(origin, this.settings.cors))) raw.push(name, value)
    }
    res.writeHead(status, raw)
    res.end(body)
  }
}

// Answers are fixed: their headers are built once (flat lists are the cheapest form for writeHead).
const OK_BODY = 'OK\n'
const OK_HEADERS: readonly string[] = ['content-type', 'text/plain; charset=utf-8']
const PIXEL_HEADERS: readonly string[] = ['content-type', 'image/gif', ...Object.entries(NO_CACHE_HEADERS).flat()]
