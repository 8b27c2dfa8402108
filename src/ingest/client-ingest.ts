/**
 * Analytics-client requests (Segment, PostHog, Mixpanel, Grouparoo) to stored
 * events, the same way on both paths: the EventServer's client routes call it
 * on a live request, the tailer on a logged one. Decode, then check the write
 * key (its bucket and name become the events' bucket and producer).
 */
import { decodeClientRequest, findClientFormat } from '../decoders/client-formats.js'
import { withWriteKey, type ClientFormat, type ClientRequest } from '../decoders/client-request.js'
import { ClientRequestError, WriteKeyError } from '../errors.js'
import type { EventRecord } from '../model/event-record.js'
import type { EventStore } from '../store/event-store.js'
import { WriteKeys, type WriteKeysOptions } from './write-keys.js'

export type ClientIngestResult =
  | { kind: 'events'; format: ClientFormat; url: URL; events: EventRecord[] }
  /** Refused: `code` is LS_WRITE_KEY (401) or LS_CLIENT_REQUEST; nothing of the request is to be stored. */
  | { kind: 'refused'; format: ClientFormat | undefined; url: URL | undefined; status: number; code: 'LS_WRITE_KEY' | 'LS_CLIENT_REQUEST'; message: string }

export class ClientIngest {
  readonly writeKeys: WriteKeys

  constructor(store: EventStore, options: WriteKeysOptions = {}) {
    this.writeKeys = new WriteKeys(store, options)
  }

  /** Whether a client format reads this request target (path and query). */
  reads(target: string): boolean {
    return findClientFormat(target) !== undefined
  }

  /** The request's events with bucket and producer, or why it is refused. Throws only for store failures. */
  async decode(request: ClientRequest): Promise<ClientIngestResult> {
    const found = findClientFormat(request.path)
    try {
      const decoded = decodeClientRequest(request)
      const key = await this.writeKeys.check(decoded.writeKey)
      return { kind: 'events', format: decoded.clientFormat, url: decoded.url, events: withWriteKey(decoded.events, key.bucket, key.name) }
    } catch (err) {
      if (err instanceof WriteKeyError) return { kind: 'refused', format: found?.format, url: found?.url, status: 401, code: 'LS_WRITE_KEY', message: err.message }
      if (err instanceof ClientRequestError) return { kind: 'refused', format: found?.format, url: found?.url, status: err.statusCode, code: 'LS_CLIENT_REQUEST', message: err.message }
      throw err
    }
  }
}
