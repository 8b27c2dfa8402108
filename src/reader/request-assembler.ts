/**
 * Joins REQ_DATA and REQ_END events back into whole requests. Events of one
 * request may sit in different batches of the same server, so the assembler
 * is fed batch after batch (ordered by serverToken, then batchNumber) and
 * keeps open requests between them.
 */
import { OUTCOME_NAMES, REQ_DATA_EVENT, RequestOutcome, type HttpEvent } from '../formats/batch-v1/http-events.js'

export interface LoggedRequest {
  serverToken: string
  reqId: number
  /** REQ_END time, ms since 1970. */
  time: number
  ip: string
  method: string
  /** Path with query string, as sent. */
  path: string
  contentType: string
  headers: Record<string, string>
  outcome: RequestOutcome
  /** 'complete', 'aborted', 'too-large', ... */
  outcomeName: string
  body: Buffer
}

interface OpenRequest {
  chunks: Uint8Array[]
  bytes: number
  /** Server time of its first REQ_DATA. */
  firstTime: number
}

/** A request still waiting for its REQ_END. */
export interface OpenRequestInfo {
  reqId: number
  /** Server time of its first REQ_DATA, ms since 1970. */
  firstTime: number
  /** Body bytes held. */
  bytes: number
}

export class RequestAssembler {
  private readonly open = new Map<string, OpenRequest>()
  private openBytes = 0

  /** Bytes of body held for requests whose REQ_END has not been seen yet. */
  get bufferedBytes(): number {
    return this.openBytes
  }

  get openRequests(): number {
    return this.open.size
  }

  /** Whether a request has events waiting for its REQ_END. */
  has(serverToken: string, reqId: number): boolean {
    return this.open.has(`${serverToken}\u0000${reqId}`)
  }

  /** Feeds one event; returns the request it completes, if any. */
  push(serverToken: string, event: HttpEvent): LoggedRequest | undefined {
    const id = `${serverToken}\u0000${event.reqId}`
    if (event.type === REQ_DATA_EVENT) {
      let request = this.open.get(id)
      if (!request) this.open.set(id, (request = { chunks: [], bytes: 0, firstTime: event.serverTime }))
      request.chunks.push(event.data)
      request.bytes += event.data.byteLength
      this.openBytes += event.data.byteLength
      return undefined
    }
    const request = this.open.get(id)
    if (request) {
      this.open.delete(id)
      this.openBytes -= request.bytes
    }
    return {
      serverToken,
      reqId: event.reqId,
      time: event.serverTime,
      ip: event.ip,
      method: event.method,
      path: event.path,
      contentType: event.contentType,
      headers: event.headers,
      outcome: event.outcome,
      outcomeName: OUTCOME_NAMES[event.outcome],
      body: request ? Buffer.concat(request.chunks, request.bytes) : Buffer.alloc(0),
    }
  }

  /** Forgets the open request seen first (of any server) and returns it. */
  dropOldest(): (OpenRequestInfo & { serverToken: string }) | undefined {
    const first = this.open.entries().next()
    if (first.done) return undefined
    const [id, request] = first.value
    this.open.delete(id)
    this.openBytes -= request.bytes
    const separator = id.indexOf('\u0000')
    return { serverToken: id.slice(0, separator), reqId: Number(id.slice(separator + 1)), firstTime: request.firstTime, bytes: request.bytes }
  }

  /** Forgets every open request of a server (its batches are over); returns how many there were. */
  dropServer(serverToken: string): number {
    return this.takeServer(serverToken).length
  }

  /** Forgets every open request of a server and returns them. */
  takeServer(serverToken: string): OpenRequestInfo[] {
    const taken: OpenRequestInfo[] = []
    const start = `${serverToken}\u0000`
    for (const [id, request] of this.open) {
      if (id.startsWith(start)) {
        this.open.delete(id)
        this.openBytes -= request.bytes
        taken.push({ reqId: Number(id.slice(start.length)), firstTime: request.firstTime, bytes: request.bytes })
      }
    }
    return taken
  }

  /** Ids (`serverToken:reqId`) of requests still waiting for their REQ_END. */
  incomplete(): string[] {
    return [...this.open.keys()].map((id) => id.replace('\u0000', ':'))
  }
}

export { RequestOutcome }
