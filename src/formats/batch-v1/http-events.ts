/**
 * The two HTTP events of batch format V1 (formats/batch-v1.md) and their
 * field numbers. Field numbers are the map keys written on the wire.
 */

export const REQ_DATA_EVENT = 1
export const REQ_END_EVENT = 2

export const Field = {
  eventType: 1,
  reqId: 2,
  serverTime: 3,
  data: 4,
  ip: 5,
  contentType: 6,
  path: 7,
  // Extension fields (not in the seed; a seed-spec reader ignores them).
  method: 8,
  headers: 9,
  outcome: 10,
} as const

/** How a request ended. Readers replay only `complete` requests. */
export const RequestOutcome = {
  /** The whole body arrived. */
  complete: 0,
  /** The client went away before the body ended. */
  aborted: 1,
  /** Rejected with 413: the body was larger than the server's limit. */
  tooLarge: 2,
  /** Embedded mode: the app got the whole body, but only the first maxBodyBytes were logged. */
  truncated: 3,
  /** Rejected with 503 before the body was read (backlog over its limit). */
  unavailable: 4,
} as const
export type RequestOutcome = (typeof RequestOutcome)[keyof typeof RequestOutcome]

export const OUTCOME_NAMES: Record<RequestOutcome, string> = {
  0: 'complete',
  1: 'aborted',
  2: 'too-large',
  3: 'truncated',
  4: 'unavailable',
}

export interface ReqDataEvent {
  type: typeof REQ_DATA_EVENT
  reqId: number
  /** Milliseconds since 1970 when the server received the chunk. */
  serverTime: number
  data: Uint8Array
}

export interface ReqEndEvent {
  type: typeof REQ_END_EVENT
  reqId: number
  /** Milliseconds since 1970 when the request ended. */
  serverTime: number
  /** Remote address; empty when the server drops IPs. */
  ip: string
  /** Content-Type header; empty when absent. */
  contentType: string
  /** The request target as sent: path and query string, undecoded. */
  path: string
  /** Request method; empty when a writer did not record it (seed-only writers). */
  method: string
  /** The recorded headers that were present, lower-case names. */
  headers: Record<string, string>
  outcome: RequestOutcome
}

export type HttpEvent = ReqDataEvent | ReqEndEvent
