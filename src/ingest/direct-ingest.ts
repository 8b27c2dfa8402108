/**
 * Direct posts: a request the EventServer received itself is decoded by the
 * same decoders the tailer uses and written in one store write, all or
 * nothing. It resolves only once the store has committed, which is what lets
 * the server answer 2xx; a bad body throws the decoder's error (the server
 * answers 4xx and nothing is stored), a failed commit StoreCommitError (503).
 */
import { BadRequestError, StoreUnavailableError } from '../errors.js'
import { RequestOutcome } from '../formats/batch-v1/http-events.js'
import type { LoggedRequest } from '../reader/request-assembler.js'
import { RequestDecoderRegistry } from '../reader/decoders/registry.js'
import type { EventStore, WriteResult } from '../store/event-store.js'
import type { IngestObserver } from './ingest-observer.js'
import { requestEvents } from './request-events.js'

/** A request as the EventServer received it. */
export interface LiveRequest {
  method: string
  /** Path with query string, as sent. */
  path: string
  contentType: string
  body: Buffer
  /** The client address; empty when unknown. */
  ip: string
  headers: Record<string, string>
  /** Ms since 1970 when it was received: the events' serverTime. */
  time: number
}

export interface DirectIngestOptions {
  store: EventStore
  /** Decoders. Default: the built-in ones. */
  decoders?: RequestDecoderRegistry
  observer?: IngestObserver
  /** Most events in one request; more is a 413. Default: no limit. */
  maxEvents?: number
}

export class DirectIngest {
  private readonly store: EventStore
  private readonly decoders: RequestDecoderRegistry
  private readonly observer: IngestObserver | undefined
  private readonly maxEvents: number

  constructor(options: DirectIngestOptions) {
    this.store = options.store
    this.decoders = options.decoders ?? new RequestDecoderRegistry()
    this.observer = options.observer
    this.maxEvents = options.maxEvents ?? Infinity
  }

  /** Whether a decoder reads this path (without query) and content type. */
  accepts(request: Pick<LiveRequest, 'method' | 'path' | 'contentType'>): boolean {
    return this.decoders.find(asLogged({ ...request, body: Buffer.alloc(0), ip: '', headers: {}, time: 0 })) !== undefined
  }

  /** Decodes the request and stores its events; resolves once they are committed. */
  async post(request: LiveRequest): Promise<WriteResult & { events: number }> {
    const decoded = requestEvents(this.decoders, asLogged(request))
    if (decoded.kind === 'no-decoder') {
      throw new BadRequestError(415, `nothing here reads ${JSON.stringify(request.contentType || '(no content type)')} bodies at ${request.path.split('?')[0]}`)
    }
    if (decoded.kind === 'undecodable') throw decoded.error
    if (decoded.events.length > this.maxEvents) throw new BadRequestError(413, `${decoded.events.length} events in one request; the limit is ${this.maxEvents}`)
    const started = performance.now()
    let result: WriteResult
    try {
      result = await this.store.write({ events: decoded.events })
    } catch (err) {
      this.observer?.commitFailed?.('direct', err as Error)
      throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError((err as Error).message, { cause: err })
    }
    this.observer?.committed?.('direct', result, (performance.now() - started) / 1000)
    return { ...result, events: decoded.events.length }
  }
}

function asLogged(request: LiveRequest): LoggedRequest {
  return {
    serverToken: '',
    reqId: 0,
    time: request.time,
    ip: request.ip,
    method: request.method,
    path: request.path,
    contentType: request.contentType,
    headers: request.headers,
    outcome: RequestOutcome.complete,
    outcomeName: 'complete',
    body: request.body,
  }
}
