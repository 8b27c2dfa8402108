/**
 * What the analytics-client decoders (Segment, PostHog, Mixpanel, Grouparoo)
 * share: the request they read, what they produce, and how they answer. The
 * same decoder runs on a live request at the EventServer and on a logged
 * request read back from batches, so everything it needs is in ClientRequest
 * and nothing it does depends on which path the request took.
 */
import type { EventRecord } from '../model/event-record.js'
import type { DecoderRequest } from './request-decoder.js'

/** One HTTP request, live or logged. */
export interface ClientRequest {
  /** Upper case, e.g. `POST`. */
  method: string
  /** The request-line target: path and query, e.g. `/track?ip=1&data=eyJ...`. */
  path: string
  /** Request headers by lower-case name (repeats joined with `, `); a logged request has the recorded ones. */
  headers: Readonly<Record<string, string>>
  /** Content-Type as sent; '' when absent. Never trusted alone to pick a format. */
  contentType: string
  /** The body bytes as received (possibly gzip). */
  body: Uint8Array
  /** Ms since 1970 when the request was received (a logged request: its REQ_END time). */
  time: number
  /** The client address; null when unknown. */
  ip: string | null
  /** Names the server that received it; with reqId it names the request globally. */
  serverToken: string
  reqId: number
}

/** An event before its write key is resolved: the bucket and producer come from the key. */
export type ClientEvent = Omit<EventRecord, 'bucket' | 'producer'>

export type ClientFormatName = 'segment' | 'posthog' | 'mixpanel' | 'grouparoo'

export interface DecodedClientRequest {
  format: ClientFormatName
  /** The write key the request carries (Basic auth, body field, token ...); null when it carries none. */
  writeKey: string | null
  events: ClientEvent[]
}

/** An HTTP answer in the format's own words. */
export interface ClientAnswer {
  status: number
  contentType: string
  body: string
}

export interface ClientFormat {
  readonly name: ClientFormatName
  /** Paths it reads (without query; a trailing slash is also accepted where `paths` lists both). */
  readonly paths: readonly string[]
  /** Methods it reads. */
  readonly methods: readonly string[]
  /** The request's events, or throws ClientRequestError. Pure: same request, same events. */
  decode(request: ClientRequest, url: URL): DecodedClientRequest
  /** The answer a client of this format takes as success. */
  success(url: URL): ClientAnswer
  /** The answer to a refused request: its status and a message naming what was wrong. */
  failure(url: URL, status: number, message: string): ClientAnswer
}

/** Fills in what the write key decides. */
export function withWriteKey(events: readonly ClientEvent[], bucket: string, producer: string | null): EventRecord[] {
  return events.map((event) => ({ ...event, bucket, producer }))
}

/** The standard JSON error answer: `{"error": code, "message"}`. */
export function jsonFailure(status: number, code: string, message: string): ClientAnswer {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ error: code, message }) }
}

/** The client decoders' view of a logged request (the request decoders' DecoderRequest): the same fields, an empty IP as unknown. */
export function clientRequestFromLogged(request: DecoderRequest): ClientRequest {
  return {
    method: request.method.toUpperCase(),
    path: request.path,
    headers: request.headers,
    contentType: request.contentType,
    body: request.body,
    time: request.time,
    ip: request.ip === '' ? null : request.ip,
    serverToken: request.serverToken,
    reqId: request.reqId,
  }
}
