/**
 * What a request decoder is: it turns one logged request into events. The
 * registry picks a decoder by the request's path (without query) and media
 * type; adding a source of events (Mixpanel, Segment, ...) is one more file
 * like post-events-json.ts and one line in registry.ts.
 */
import type { StoredEvent } from '../../formats/json-events.js'
import type { LoggedRequest } from '../request-assembler.js'

/** An event read back from a logged request. */
export interface ReplayedEvent extends StoredEvent {
  /** The bucket the event was posted to. */
  bucket: string
  /** The logged request it came from: serverToken and reqId name it globally. */
  serverToken: string
  reqId: number
}

export interface RequestDecoder {
  /** Short name for messages, e.g. `post-events/json`. */
  readonly name: string
  /** The path it reads, without query string, e.g. `/api/post-events`. */
  readonly path: string
  /** Media types it reads, lower case, without parameters. */
  readonly contentTypes: readonly string[]
  /** Methods it reads. Default: every method. */
  readonly methods?: readonly string[]
  /**
   * The request's events; serverTime is the REQ_END time. Throws (any
   * LoggingSystemError) when the body is not what the path promises.
   */
  decode(request: LoggedRequest, url: URL): ReplayedEvent[]
}
