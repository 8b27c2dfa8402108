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
import { BatchWriter, type OpenBatch, type SealedBatch } from '../batch/batch-writer.js'
import { RequestCapture, type CaptureOptions, type RecordedRequest } from '../capture/request-capture.js'
import { ClosedError, InvalidOptionError, UnsentBatchesError } from '../errors.js'
import { randomToken } from '../formats/batch-v1/tokens.js'
import { RequestOutcome } from '../formats/batch-v1/http-events.js'
import { BatchUploader, type UploadReport } from '../sinks/batch-uploader.js'
import { DEFAULT_BATCH_DIRECTORY, DirectorySink } from '../sinks/directory-sink.js'
import type { RetryPolicy } from '../sinks/retry-policy.js'
import { S3Sink, type S3Location } from '../sinks/s3-sink.js'
import type { Sink } from '../sinks/sink.js'
import { corsHeaders, preflightHeaders, type CorsOptions } from './cors.js'
import { NO_CACHE_HEADERS, pathOf, TRANSPARENT_GIF } from './responses.js'

export const DEFAULT_RESPONSE_STATUS = 200
export const DEFAULT_PIXEL_PATH = '/i'
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000
export const DEFAULT_UNSENT_DIRECTORY = './unsent-batches'

/** The structured logger the server reports to (pino's shape). */
export interface ServerLogger {
  info(object: object, message?: string): void
  warn(object: object, message?: string): void
  error(object: object, message?: string): void
}

const silentLogger: ServerLogger = { info() {}, warn() {}, error() {} }

export interface LoggingServerOptions extends CaptureOptions {
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
  /** Seal a batch once its raw events reach this many bytes. Default: 32 MiB. */
  maxBatchBytes?: number
  /** gzip level 1-9. Default: 6. */
  gzipLevel?: number
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
  retryPolicy?: RetryPolicy
  /** Structured logger (pino or alike). Default: silent. */
  logger?: ServerLogger
  /** Names this process in every key. Default: 8 random base58 characters. */
  serverToken?: string
}

export interface LoggingServerEvents {
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
  private readonly settings: {
    responseStatus: number
    cors: CorsOptions | false
    pixelPath: string | false
    headersTimeoutMs: number
    requestTimeoutMs: number
    keepAliveTimeoutMs: number
    closeTimeoutMs: number
    unsentDirectory: string
  }
  private server: Server | undefined
  private closing: Promise<void> | undefined

  constructor(options: LoggingServerOptions = {}) {
    super()
    const responseStatus = positiveInteger('responseStatus', options.responseStatus, DEFAULT_RESPONSE_STATUS)
    if (responseStatus < 200 || responseStatus > 599) throw new InvalidOptionError('responseStatus', `must be an HTTP status, got ${responseStatus}`)
    const pixelPath = options.pixelPath ?? DEFAULT_PIXEL_PATH
    if (pixelPath !== false && !pixelPath.startsWith('/')) throw new InvalidOptionError('pixelPath', `must start with '/', got ${JSON.stringify(pixelPath)}`)
    this.settings = {
      responseStatus,
      cors: options.cors ?? {},
      pixelPath,
      headersTimeoutMs: positiveInteger('headersTimeoutMs', options.headersTimeoutMs, DEFAULT_HEADERS_TIMEOUT_MS),
      requestTimeoutMs: positiveInteger('requestTimeoutMs', options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS),
      keepAliveTimeoutMs: positiveInteger('keepAliveTimeoutMs', options.keepAliveTimeoutMs, DEFAULT_KEEP_ALIVE_TIMEOUT_MS),
      closeTimeoutMs: positiveInteger('closeTimeoutMs', options.closeTimeoutMs, DEFAULT_CLOSE_TIMEOUT_MS),
      unsentDirectory: options.unsentDirectory ?? DEFAULT_UNSENT_DIRECTORY,
    }
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
        this.emit('batchStored', report)
      },
      onAttemptFailed: (batch, error, attempt, retryInMs) => {
        this.logger.error({ key: batch.key, attempt, retryInMs, err: error }, 'batch store failed; will retry')
        this.emit('batchFailed', { batch, error, attempt, retryInMs })
      },
    })
    this.writer = new BatchWriter({
      serverToken: this.serverToken,
      keyPrefix: options.keyPrefix,
      batchSeconds: options.batchSeconds,
      maxBatchBytes: options.maxBatchBytes,
      gzipLevel: options.gzipLevel,
      onSealed: (batch) => this.uploader.enqueue(batch),
    })
    this.capture = new RequestCapture(options, this.writer)
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
    const recorded = this.capture.begin(req)
    const limit = this.capture.options.maxBodyBytes
    const declared = Number(req.headers['content-length'])
    if (declared > limit) {
      this.rejectTooLarge(recorded, res)
      return
    }
    req.on('data', (chunk: Buffer) => {
      if (!recorded.data(chunk)) this.rejectTooLarge(recorded, res)
    })
    req.on('end', () => {
      if (recorded.done) return
      recorded.end(RequestOutcome.complete)
      this.answer(req, res)
    })
    // 'close' without 'end': the client went away mid-request.
    req.on('close', () => recorded.end(RequestOutcome.aborted))
    req.on('error', () => recorded.end(RequestOutcome.aborted))
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
    if (this.closing) return
    this.capture.observe(req)
  }

  /** Starts a node:http server on `port` that logs every request. */
  listen(port: number, host?: string | (() => void), callback?: () => void): Promise<AddressInfo> {
    if (typeof host === 'function') [callback, host] = [host, undefined]
    if (this.closing) return Promise.reject(new ClosedError('LoggingServer'))
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
    if (this.server) await this.stopListening(this.server, deadline)
    await this.writer.seal()
    try {
      await this.uploader.drain(deadline)
    } catch (err) {
      if (!(err instanceof UnsentBatchesError)) throw err
      this.uploader.stop()
      await this.saveUnsent(this.uploader.pending())
    }
    await this.sink.close?.()
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
    for (const batch of batches) {
      try {
        await fallback.put(batch.key, batch.body)
      } catch (err) {
        failed.push(batch.key)
        this.logger.error({ key: batch.key, err }, 'could not save unsent batch locally either')
      }
    }
    const saved = keys.length - failed.length
    const message =
      `${keys.length} batch(es) not stored in ${this.sink.description} before the close deadline; ` +
      `${saved} saved under ${fallback.directory}` +
      (failed.length ? `, ${failed.length} LOST: ${failed.join(', ')}` : '')
    this.logger.error({ keys, unsentDirectory: fallback.directory, lost: failed }, message)
    const error = new UnsentBatchesError(keys, message)
    for (const batch of batches) batch.settle(error)
    throw error
  }

  private rejectTooLarge(recorded: RecordedRequest<OpenBatch>, res: ServerResponse): void {
    if (recorded.done) return
    recorded.end(RequestOutcome.tooLarge)
    recorded.req.removeAllListeners('data')
    const limit = this.capture.options.maxBodyBytes
    this.send(recorded.req, res, 413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }, `Request body is larger than ${limit} bytes\n`)
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined && this.settings.cors) {
      res.writeHead(204, preflightHeaders(req.headers, this.settings.cors)).end()
      return
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && this.settings.pixelPath !== false && pathOf(req.url) === this.settings.pixelPath) {
      this.send(req, res, 200, { 'content-type': 'image/gif', ...NO_CACHE_HEADERS }, TRANSPARENT_GIF)
      return
    }
    this.send(req, res, this.settings.responseStatus, { 'content-type': 'text/plain; charset=utf-8' }, 'OK\n')
  }

  private send(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
    if (res.headersSent) return
    const cors = this.settings.cors ? corsHeaders(req.headers, this.settings.cors) : {}
    res.writeHead(status, { ...cors, ...headers, 'content-length': String(Buffer.byteLength(body)) })
    res.end(body)
  }
}
