/**
 * What a request decoder is: it turns one request into events of the common
 * model (src/model/event-record.ts). The same decoders read logged requests
 * (replay, the EventServer's tailing) and live ones (direct posts), so the
 * request is a plain shape both can fill. Adding a source of events (Segment,
 * PostHog, Mixpanel ...) is one more file like post-events-json.ts and one line
 * in registry.ts.
 */
import type { EventRecord } from '../model/event-record.js'

/**
 * A request as a decoder sees it. The reader's LoggedRequest has this shape;
 * a live request is built into it (see liveDecoderRequest in post-events.ts).
 */
export interface DecoderRequest {
  /** Upper-case method, e.g. `POST` (may be empty for a logged request whose head was not captured). */
  method: string
  /** Path with query string, as sent, e.g. `/api/post-events?bucket=b`. */
  path: string
  /** Header names in lower case. */
  headers: Record<string, string>
  /** The Content-Type header as sent (parameters included); '' when absent. */
  contentType: string
  body: Buffer
  /** When a server of ours received it (the LoggingServer's REQ_END time), ms since 1970: the events' serverTime. */
  time: number
  /** Client address; '' when unknown. */
  ip: string
  /** The LoggingServer that logged it; '' for a live request. */
  serverToken: string
  /** Its request id within serverToken; 0 for a live request. */
  reqId: number
}

/** An event read back from a logged request, with the request it came from (replay's output). */
export interface ReplayedEvent extends EventRecord {
  serverToken: string
  reqId: number
}

export interface RequestDecoder {
  /** Short name for messages and EventRecord.source, e.g. `post-events/json`. */
  readonly name: string
  /** The paths it reads, without query string, e.g. `['/api/post-events']`. */
  readonly paths: readonly string[]
  /**
   * Media types it reads, lower case, without parameters. Omit it for a decoder
   * that sniffs the body (gzip, form or JSON under any type): it is then asked
   * through `accepts` after the decoders that name the request's media type.
   */
  readonly contentTypes?: readonly string[]
  /** Methods it reads, upper case. Default: every method. */
  readonly methods?: readonly string[]
  /** Optional last word once path, method and media type match (e.g. look at the body's first bytes). Default: yes. */
  accepts?(request: DecoderRequest, url: URL): boolean
  /**
   * The request's events, every one with serverTime = request.time. Throws a
   * LoggingSystemError with a clear message when the body is not what the path
   * promises (the caller counts it as undecodable, or answers 4xx).
   */
  decode(request: DecoderRequest, url: URL): EventRecord[]
}
