/**
 * Turns node:http requests into framed REQ_DATA / REQ_END events, without
 * parsing anything: each body chunk is logged as it arrives, and the request
 * line's target, content-type, method, remote IP and a few chosen headers are
 * logged when it ends.
 */
import type { IncomingMessage } from 'node:http'
import { InvalidOptionError } from '../errors.js'
import { BODY_ENCODINGS, DEFAULT_BODY_ENCODING, reqDataFrame, reqEndFrame, type BodyEncoding, type Frame } from '../formats/batch-v1/encode.js'
import { RequestOutcome } from '../formats/batch-v1/http-events.js'
import { clientAddress, IP_MODES, type IpMode, type TrustProxy } from './client-address.js'
import { readRequestHead, type RequestHead } from './request-head.js'

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
// authorization and content-encoding: the client decoders read the write key (RudderStack sends it only
// as Basic auth) and gzip from them when the EventServer tails the batches (docs/clients.md).
export const DEFAULT_RECORDED_HEADERS: readonly string[] = ['user-agent', 'referer', 'origin', 'authorization', 'content-encoding']

export interface CaptureOptions {
  /** Which X-Forwarded-For entry to believe for the remote IP. Default: false (the socket's address). */
  trustProxy?: TrustProxy
  /** Keep, truncate or drop remote IPs. Default: 'full'. */
  ipMode?: IpMode
  /** Request headers logged with REQ_END (lower-case names). Default: user-agent, referer, origin, authorization, content-encoding. */
  headers?: readonly string[]
  /** Body bytes logged per request; standalone answers 413 past it, embedded logs the first part. Default: 1 MiB. */
  maxBodyBytes?: number
  /** Bodies as base64 text (the seed's format) or msgpack bin (less CPU, fewer bytes; every reader accepts it). Default: 'base64'. */
  bodyEncoding?: BodyEncoding
}

/** What the events go into: the batch writer, or anything with the same shape. */
export interface FrameWriter<Batch> {
  append(frame: Frame): Batch
}

export function normalizeCaptureOptions(options: CaptureOptions): Required<CaptureOptions> {
  const trustProxy = options.trustProxy ?? false
  if (typeof trustProxy === 'number' && (!Number.isInteger(trustProxy) || trustProxy < 0)) {
    throw new InvalidOptionError('trustProxy', `must be true, false or a number of proxy hops, got ${trustProxy}`)
  }
  const ipMode = options.ipMode ?? 'full'
  if (!IP_MODES.includes(ipMode)) throw new InvalidOptionError('ipMode', `must be one of ${IP_MODES.join(', ')}, got ${String(ipMode)}`)
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0) {
    throw new InvalidOptionError('maxBodyBytes', `must be a non-negative integer, got ${String(maxBodyBytes)}`)
  }
  const headers = (options.headers ?? DEFAULT_RECORDED_HEADERS).map((name) => name.toLowerCase())
  // Readers reject the map key __proto__ (formats/batch-v1.md §3.6), so it is never written.
  if (headers.includes('__proto__')) throw new InvalidOptionError('headers', '__proto__ cannot be recorded (formats/batch-v1.md §3.6)')
  const bodyEncoding = options.bodyEncoding ?? DEFAULT_BODY_ENCODING
  if (!BODY_ENCODINGS.includes(bodyEncoding)) throw new InvalidOptionError('bodyEncoding', `must be one of ${BODY_ENCODINGS.join(', ')}, got ${String(bodyEncoding)}`)
  return {
    trustProxy,
    ipMode,
    headers,
    maxBodyBytes,
    bodyEncoding,
  }
}

/** One request being logged. */
export class RecordedRequest<Batch> {
  readonly reqId: number
  bodyBytes = 0
  /** Every batch this request wrote into, oldest first (almost always one). */
  readonly batches: Batch[] = []
  /** The headers the logger reads, taken once. */
  readonly head: RequestHead
  private finished = false
  private readonly ip: string

  constructor(
    private readonly capture: RequestCapture<Batch>,
    readonly req: IncomingMessage,
    reqId: number,
  ) {
    this.reqId = reqId
    this.head = readRequestHead(req, capture.recordedNames, capture.recordedLengths)
    // Taken now: the socket may be gone by the time an aborted request ends.
    this.ip = clientAddress(req, this.head.forwardedFor, capture.options.trustProxy, capture.options.ipMode)
  }

  get done(): boolean {
    return this.finished
  }

  /** Logs a body chunk. Returns false, logging nothing, once the body would pass maxBodyBytes. */
  data(chunk: Uint8Array): boolean {
    if (this.finished) return false
    if (this.bodyBytes + chunk.byteLength > this.capture.options.maxBodyBytes) return false
    this.bodyBytes += chunk.byteLength
    if (chunk.byteLength > 0) this.wroteInto(this.capture.writer.append(reqDataFrame(this.reqId, this.capture.now(), chunk, this.capture.options.bodyEncoding)))
    return true
  }

  private wroteInto(batch: Batch): void {
    if (this.batches[this.batches.length - 1] !== batch) this.batches.push(batch)
  }

  /** Logs REQ_END once; later calls do nothing. */
  end(outcome: RequestOutcome): void {
    if (this.finished) return
    this.finished = true
    const req = this.req
    this.capture.active.delete(this)
    this.wroteInto(this.capture.writer.append(
      reqEndFrame({
        reqId: this.reqId,
        serverTime: this.capture.now(),
        ip: this.ip,
        contentType: this.head.contentType,
        path: req.url ?? '',
        method: req.method ?? '',
        headers: this.head.recorded,
        outcome,
      }),
    ))
    this.capture.onEnd(outcome, this.bodyBytes)
  }

  /**
   * The request was logged complete but then answered 503 (its events could
   * not be made durable): a second REQ_END with outcome `unavailable` tells
   * readers not to replay it (formats/batch-v1.md §3.3).
   */
  retract(): void {
    if (!this.finished) return
    this.capture.writer.append(
      reqEndFrame({ reqId: this.reqId, serverTime: this.capture.now(), ip: '', contentType: '', path: '', method: '', headers: {}, outcome: RequestOutcome.unavailable }),
    )
  }
}

export class RequestCapture<Batch> {
  readonly options: Required<CaptureOptions>
  readonly recordedNames: ReadonlySet<string>
  readonly recordedLengths: ReadonlySet<number>
  /** Requests begun and not yet ended. */
  readonly active = new Set<RecordedRequest<Batch>>()
  private lastReqId = 0

  constructor(
    options: CaptureOptions,
    readonly writer: FrameWriter<Batch>,
    /** Told of every request that ended, with its outcome and logged body bytes. */
    readonly onEnd: (outcome: RequestOutcome, bodyBytes: number) => void = () => {},
    readonly now: () => number = Date.now,
  ) {
    this.options = normalizeCaptureOptions(options)
    this.recordedNames = new Set(this.options.headers)
    this.recordedLengths = new Set(this.options.headers.map((name) => name.length))
  }

  /** Starts logging a request; reqIds count from 1 and are unique within the process. */
  begin(req: IncomingMessage): RecordedRequest<Batch> {
    const recorded = new RecordedRequest(this, req, ++this.lastReqId)
    this.active.add(recorded)
    return recorded
  }

  /**
   * Shutdown: waits until every begun request has ended, up to `deadline`
   * (ms since 1970), then ends the rest as aborted, so that nothing is
   * appended after the last batch is sealed.
   */
  async settle(deadline: number): Promise<number> {
    while (this.active.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    const cut = this.active.size
    for (const recorded of [...this.active]) recorded.end(RequestOutcome.aborted)
    return cut
  }

  /**
   * Embedded mode: logs the body as the app reads it, without changing how the
   * app reads it. Every read path of a Readable (flowing or `read()`) emits
   * 'data', so watching `emit` sees each chunk exactly once; node dumps an
   * unread body after the response, which logs it too.
   */
  observe(req: IncomingMessage): RecordedRequest<Batch> {
    const recorded = this.begin(req)
    let truncated = false
    const emit = req.emit
    req.emit = function observedEmit(this: IncomingMessage, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'data') {
        if (!truncated && !recorded.data(args[0] as Uint8Array)) truncated = true
      } else if (event === 'end') {
        recorded.end(truncated ? RequestOutcome.truncated : RequestOutcome.complete)
      } else if (event === 'close' && !recorded.done) {
        recorded.end(RequestOutcome.aborted)
      }
      return emit.call(this, event, ...args)
    } as typeof req.emit
    return recorded
  }
}
