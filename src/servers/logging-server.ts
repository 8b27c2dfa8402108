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
import type { AddressInfo, Socket } from 'node:net'
import { BatchWriter, type BatchOptions, type OpenBatch, type SealedBatch } from '../batch/batch-writer.js'
import { RequestCapture, type CaptureOptions, type RecordedRequest } from '../capture/request-capture.js'
import { ClosedError, InvalidOptionError, UnsentBatchesError } from '../errors.js'
import { positiveInteger } from '../option-checks.js'
import { randomToken } from '../formats/batch-v1/tokens.js'
import { RequestOutcome } from '../formats/batch-v1/http-events.js'
import { BatchUploader, type UploadReport } from '../sinks/batch-uploader.js'
import { DEFAULT_BATCH_DIRECTORY, DirectorySink } from '../sinks/directory-sink.js'
import type { RetryPolicy } from '../retry-policy.js'
import { checkS3Location, type S3Location } from '../s3/s3-location.js'
import type { Sink } from '../sinks/sink.js'
import { DEFAULT_SPOOL_DIRECTORY, Spool } from '../spool/spool.js'
import { AnswerProfiles, type AnswerProfile } from './answer-profiles.js'
import { recoverLeftovers, saveUnsent, type LeftoverPlaces } from '../spool/leftovers.js'
import { silentLogger, type ServerLogger } from '../logger.js'
import { ANY_ORIGIN, corsHeaderList, preflightHeaders, type CorsOptions } from './cors.js'
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
/** close(): how long answers written at the end get to reach their clients before the connections are cut. */
const CONNECTION_GRACE_MS = 1000

/**
 * When a request is answered:
 * - `immediate`: as soon as it has been read (a crash loses the open batch);
 * - `spool`: once its events are fsynced to the local spool;
 * - `s3`: once the batch holding it is stored in the sink (any sink), up to batchSeconds later.
 */
export type AckMode = 'immediate' | 'spool' | 's3'
export const ACK_MODES: readonly AckMode[] = ['immediate', 'spool', 's3']
export const DEFAULT_ACK_MODE: AckMode = 'immediate'

export type { ServerLogger } from '../logger.js'

export interface LoggingServerOptions extends CaptureOptions, BatchOptions {
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
  /** listen(): check the sink first (a write-and-delete probe, HeadBucket) and refuse to start with SinkUnusableError. Default: true. */
  checkSinkAtStart?: boolean
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

function chooseSink(options: LoggingServerOptions): Sink {
  const given = [options.sink && 'sink', options.directory && 'directory', options.s3 && 's3'].filter(Boolean)
  if (given.length > 1) throw new InvalidOptionError(given.join('/'), 'give only one of sink, directory and s3')
  if (options.sink) return options.sink
  if (options.s3) return deferredS3Sink(options.s3)
  return new DirectorySink(options.directory ?? DEFAULT_BATCH_DIRECTORY)
}

/**
 * An S3Sink whose module (and the AWS SDK, ~24 MB of RSS at import) is loaded at its first use,
 * so a server that stores in a directory never loads it (bench/RESULTS.md, peak RSS).
 */
function deferredS3Sink(location: S3Location): Sink {
  checkS3Location(location)
  let loading: Promise<Sink> | undefined
  const sink = () => (loading ??= import('../sinks/s3-sink.js').then(({ S3Sink }) => new S3Sink(location)))
  return {
    description: `s3://${location.bucket}`,
    put: async (key, body) => (await sink()).put(key, body),
    check: async () => (await sink()).check?.(),
    close: async () => {
      if (loading) await (await loading).close?.()
    },
  }
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
  private readonly checkSinkAtStart: boolean
  private readonly discards = new Set<Promise<void>>()
  /** ack=s3 requests answered 503 after the last seal (shutdown): retracted in one more batch. */
  private readonly retractAtClose: RecordedRequest<OpenBatch>[] = []
  private server: Server | undefined
  /** Open connections of the standalone server, and those whose request waits for durability to be answered. */
  private readonly sockets = new Set<Socket>()
  private readonly awaitingAnswer = new Set<Socket>()
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
    this.checkSinkAtStart = options.checkSinkAtStart ?? true
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
        // Deleting the durable copy (spool segment, unsent file); close() waits for it.
        const discarding = batch.segment?.discard()
        if (discarding) {
          this.discards.add(discarding)
          void discarding.finally(() => this.discards.delete(discarding))
        }
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
    const { keyPrefix, batchSeconds, maxBatchBytes, gzipLevel, compressionBacklogBytes } = options
    this.writer = new BatchWriter({
      serverToken: this.serverToken,
      ...{ keyPrefix, batchSeconds, maxBatchBytes, gzipLevel, compressionBacklogBytes },
      ...(this.spool ? { journal: this.spool } : {}),
      onJournalError: (err) => this.logger.error({ err }, 'batch journal failed: requests waiting for durability get 503'),
      onSealed: (batch) => this.uploader.enqueue(batch),
    })
    // Nothing is allocated for the event while nobody listens (no metrics).
    this.capture = new RequestCapture(options, this.writer, (outcome, bytes) => {
      if (this.listenerCount('request') > 0) this.emit('request', { outcome, bytes })
    })
    this.recovered = recoverLeftovers(this.leftovers).catch((err) => this.logger.error({ err }, 'could not recover batches left by an earlier process'))
  }

  /** What the recovery and the saving of left-over batches work on (src/spool/leftovers.ts). */
  private get leftovers(): LeftoverPlaces {
    return { spool: this.spool, unsentDirectory: this.settings.unsentDirectory, uploader: this.uploader, sinkDescription: this.sink.description, logger: this.logger }
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
      // Spared when close() cuts connections at its deadline: this one gets an answer (503 if need be).
      const socket = req.socket
      this.awaitingAnswer.add(socket)
      whenDurable(recorded.batches, this.ack, (err) => {
        this.awaitingAnswer.delete(socket)
        if (!err) return this.answer(req, res, origin)
        // After the last seal, the retraction goes into one more batch written at the end of close().
        if (!this.finalSeal) recorded.retract()
        else this.retractAtClose.push(recorded)
        this.reject(res, origin, 503, `not persisted: ${err.message}`)
      })
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
    // A sink that cannot store is found now, not at the first batch while clients already got 200.
    if (this.checkSinkAtStart) await this.sink.check?.()
    await this.recovered
    const { requestTimeoutMs, headersTimeoutMs } = this.settings
    const server = (this.server = createServer(
      {
        requestTimeout: requestTimeoutMs,
        headersTimeout: headersTimeoutMs,
        keepAliveTimeout: this.settings.keepAliveTimeoutMs,
        // Node checks both timeouts every 30 s by default, which let a slow client stay ~29 s
        // past a 10 s limit: check often enough that each limit holds within a quarter of itself.
        connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(Math.min(requestTimeoutMs, headersTimeoutMs) / 4))),
      },
      this.handleRequest,
    ))
    // A client that half-closes after sending a whole request still gets its answer (ack=spool|s3
    // answer later); by default node would abort the request and end the socket unanswered.
    ;(server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
    })
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
    try {
      await this.uploader.drain(deadline)
    } catch (err) {
      if (!(err instanceof UnsentBatchesError)) throw err
      this.uploader.stop()
      const unsent = this.uploader.pending()
      try {
        // Settles the batches: clients waiting on them (ack=s3) are answered 503 before their connections go.
        await saveUnsent(this.leftovers, unsent)
      } finally {
        await this.saveRetractions(new Set(unsent.map((batch) => batch.key)))
      }
    } finally {
      await Promise.all(this.discards)
      await this.sink.close?.()
      await this.closeConnections(listenerClosed)
    }
  }

  /**
   * ack=s3 requests answered 503 at close sit in the unsent batches as complete: their
   * retractions (formats/batch-v1.md §3.3) go into one more batch of this server, saved beside
   * them, so a replay of the unsent batches does not deliver what the clients were told failed.
   */
  private async saveRetractions(alreadySaved: Set<string>): Promise<void> {
    // The 503 answers run on the batches' settle: let them run first.
    await new Promise((resolve) => setImmediate(resolve))
    const retracted = this.retractAtClose.splice(0)
    if (retracted.length === 0) return
    for (const recorded of retracted) recorded.retract()
    await this.writer.seal()
    for (const batch of this.uploader.pending().filter((batch) => !alreadySaved.has(batch.key))) {
      await new DirectorySink(this.settings.unsentDirectory)
        .put(batch.key, batch.body)
        .then(() => this.logger.warn({ key: batch.key, requests: retracted.length }, 'saved the retractions of requests answered 503 at close beside the unsent batches'))
        .catch((err) => this.logger.error({ key: batch.key, err }, 'could not save the retractions of requests answered 503 at close'))
    }
  }

  private stopListening(server: Server, deadline: number): Promise<void> {
    return new Promise((resolve) => {
      // In-flight requests get until the deadline; then their connections are cut (logged as aborted),
      // except those whose whole request waits for its answer: shutDown() answers them first.
      const cut = setTimeout(() => {
        for (const socket of this.sockets) if (!this.awaitingAnswer.has(socket)) socket.destroy()
      }, Math.max(0, deadline - Date.now()))
      server.close(() => {
        clearTimeout(cut)
        resolve()
      })
      server.closeIdleConnections()
    })
  }

  /** After the last answers are written: idle connections close now, the rest after a short grace. */
  private async closeConnections(listenerClosed: Promise<void>): Promise<void> {
    const server = this.server
    if (!server) return
    await new Promise((resolve) => setImmediate(resolve))
    server.closeIdleConnections()
    let grace: NodeJS.Timeout | undefined
    await Promise.race([listenerClosed, new Promise((resolve) => (grace = setTimeout(resolve, CONNECTION_GRACE_MS)))])
    clearTimeout(grace)
    server.closeAllConnections()
    await listenerClosed
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
      this.sendFixed(res, origin, 200, PIXEL_HEADERS, TRANSPARENT_GIF)
      return
    }
    const profiled = this.answerProfiles.answerFor(req.url)
    if (profiled) return this.send(res, origin, profiled.status, profiled.headers, profiled.body)
    this.sendFixed(res, origin, this.settings.responseStatus, OK_HEADERS, OK_BODY)
  }

  /** Writes a whole answer; `headers` is a flat [name, value, ...] list without CORS and length. */
  private send(res: ServerResponse, origin: string | undefined, status: number, headers: readonly string[], body: string | Buffer): void {
    this.sendFixed(res, origin, status, [...headers, 'content-length', String(Buffer.byteLength(body))], body)
  }

  /** Writes a whole answer; `headers` is a flat list with the length, without CORS (no copy when no CORS header is added). */
  private sendFixed(res: ServerResponse, origin: string | undefined, status: number, headers: readonly string[], body: string | Buffer): void {
    if (res.headersSent) return
    const cors = this.settings.cors
    res.writeHead(status, (cors ? withCors(headers, corsHeaderList(origin, cors)) : headers) as string[])
    res.end(body)
  }
}

/**
 * Calls `done` once, when every batch a request wrote into is durable for `ack` (spool: fsynced in
 * the journal; s3: stored), or with the first error. Callbacks, not a promise chain per request:
 * bench/RESULTS.md measured the chain as most of what ack=spool added to the main thread.
 */
function whenDurable(batches: readonly OpenBatch[], ack: 'spool' | 's3', done: (error?: Error) => void): void {
  let pending = batches.length
  let settled = false
  const one = (error?: Error): void => {
    if (settled) return
    if (error) {
      settled = true
      return done(error)
    }
    if (--pending === 0) {
      settled = true
      done()
    }
  }
  for (const batch of batches) {
    if (ack === 'spool') batch.whenCommitted(one)
    else batch.stored.then(() => one(), one)
  }
}

/** Fixed header lists with `access-control-allow-origin: *` appended, built once each (the common answer). */
const withAnyOrigin = new WeakMap<readonly string[], readonly string[]>()

function withCors(headers: readonly string[], cors: readonly string[]): readonly string[] {
  if (cors !== ANY_ORIGIN) return headers.concat(cors)
  let joined = withAnyOrigin.get(headers)
  if (!joined) withAnyOrigin.set(headers, (joined = headers.concat(cors)))
  return joined
}

// Answers are fixed: their headers are built once (flat lists are the cheapest form for writeHead).
const OK_BODY = 'OK\n'
const OK_HEADERS: readonly string[] = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(OK_BODY))]
const PIXEL_HEADERS: readonly string[] = ['content-type', 'image/gif', ...Object.entries(NO_CACHE_HEADERS).flat(), 'content-length', String(TRANSPARENT_GIF.byteLength)]
