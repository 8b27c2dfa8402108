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
import { RequestDecoderRegistry } from '../decoders/registry.js'
import type { EventStore, WriteResult } from '../store/event-store.js'
import type { EventRecord } from '../model/event-record.js'
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
  private readonly pending: PendingPost[] = []
  private writing = false

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
    const result = await this.commit(decoded.events)
    return { ...result, events: decoded.events.length }
  }

  /**
   * Group commit: posts that arrive while a write is under way are written
   * together in the next one (a DuckDB commit costs about as much for 1 event
   * as for 1000). Each post still gets its own counts, and resolves only once
   * the write holding it has committed.
   */
  private commit(events: EventRecord[]): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ events, resolve, reject })
      this.pump()
    })
  }

  private pump(): void {
    if (this.writing || this.pending.length === 0) return
    this.writing = true
    const group: PendingPost[] = []
    let size = 0
    while (this.pending.length > 0 && (group.length === 0 || size + this.pending[0]!.events.length <= MAX_GROUP_EVENTS)) {
      const post = this.pending.shift()!
      group.push(post)
      size += post.events.length
    }
    void this.writeGroup(group).finally(() => {
      this.writing = false
      this.pump()
    })
  }

  private async writeGroup(group: PendingPost[]): Promise<void> {
    if (group.length === 1) {
      const [post] = group
      try {
        post!.resolve(await this.write(post!.events))
      } catch (err) {
        post!.reject(err)
      }
      return
    }
    const all = group.flatMap((post) => post.events)
    let result: WriteResult
    try {
      result = await this.write(all)
    } catch {
      // One bad post must not fail the others: write them one by one, each with its own fate.
      for (const post of group) {
        try {
          post.resolve(await this.write(post.events))
        } catch (err) {
          post.reject(err)
        }
      }
      return
    }
    // Within the group the first of each key wins, in arrival order.
    const seen = new Set<string>()
    const firsts = group.map((post) => post.events.map((event) => {
      const id = eventId(event)
      if (seen.has(id)) return false
      seen.add(id)
      return true
    }))
    let counts = firsts.map((flags) => ({ stored: flags.filter(Boolean).length, duplicates: flags.length - flags.filter(Boolean).length }))
    const predicted = counts.reduce((sum, c) => sum + c.stored, 0)
    if (predicted !== result.stored) {
      // Some keys were already stored: which post each one counts against is read back from the rows.
      try {
        counts = await this.countsFromRows(group, firsts)
      } catch (err) {
        this.observer?.problem?.({ kind: 'count-mismatch', expected: predicted, stored: result.stored })
        void err
      }
    }
    group.forEach((post, index) => post.resolve(counts[index]!))
  }

  /**
   * After a group write that found keys already stored: an event was stored
   * by its post when it was the group's first of its key and the stored row
   * is that event (same serverTime and value text).
   */
  private async countsFromRows(group: PendingPost[], firsts: boolean[][]): Promise<WriteResult[]> {
    const { sql } = this.store
    const byBucket = new Map<string, Set<string>>()
    for (const post of group) for (const event of post.events) {
      let keys = byBucket.get(event.bucket)
      if (!keys) byBucket.set(event.bucket, (keys = new Set()))
      keys.add(Buffer.from(event.key).toString('hex'))
    }
    const rows = new Map<string, { serverTime: number; value: string }>()
    for (const [bucket, keys] of byBucket) {
      const list = [...keys].map((hex) => sql.literal(Buffer.from(hex, 'hex'))).join(', ')
      const found = await sql.query<{ k: string; t: number; v: string }>(`SELECT lower(hex(key)) AS k, server_time AS t, value AS v FROM events WHERE bucket = ${sql.literal(bucket)} AND key IN (${list})`)
      for (const row of found) rows.set(`${bucket}\u0000${row.k}`, { serverTime: Number(row.t), value: row.v })
    }
    return group.map((post, p) => {
      let stored = 0
      post.events.forEach((event, i) => {
        const row = rows.get(eventId(event))
        if (firsts[p]![i] && row && row.serverTime === event.serverTime && row.value === event.value) stored++
      })
      return { stored, duplicates: post.events.length - stored }
    })
  }

  /** One store write, timed and reported; a failure is LS_STORE_UNAVAILABLE (answered 503). */
  private async write(events: EventRecord[]): Promise<WriteResult> {
    const started = performance.now()
    let result: WriteResult
    try {
      result = await this.store.write({ events })
    } catch (err) {
      this.observer?.commitFailed?.('direct', err as Error)
      if ((err as { code?: string }).code === 'LS_EVENT_INVALID') throw err
      throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError((err as Error).message, { cause: err })
    }
    this.observer?.committed?.('direct', result, (performance.now() - started) / 1000)
    return result
  }
}

function eventId(event: EventRecord): string {
  return `${event.bucket}\u0000${Buffer.from(event.key).toString('hex')}`
}

interface PendingPost {
  events: EventRecord[]
  resolve(result: WriteResult): void
  reject(error: unknown): void
}

/** Most events written in one group commit. */
const MAX_GROUP_EVENTS = 50_000

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
