/** Builds the decoder's request shape from a live HTTP request, so live posts and logged ones go through the same decoders. */
import type { IncomingHttpHeaders } from 'node:http'
import type { DecoderRequest } from './request-decoder.js'

export interface LiveRequestParts {
  method: string
  /** The request target as received: path and query. */
  url: string
  headers: IncomingHttpHeaders
  /** Client address; undefined when unknown. */
  ip: string | undefined
  body: Buffer
  /** When it was received, ms since 1970: the events' serverTime. */
  time: number
}

/** Node's headers as the decoders' `headers`: lower-case names, a repeated header joined with ", ". */
export function headerRecord(incoming: IncomingHttpHeaders): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return headers
}

/** A live request as a DecoderRequest (serverToken '' and reqId 0: it was not logged). */
export function liveDecoderRequest(parts: LiveRequestParts): DecoderRequest {
  const headers = headerRecord(parts.headers)
  return {
    method: parts.method.toUpperCase(),
    path: parts.url,
    headers,
    contentType: headers['content-type'] ?? '',
    body: parts.body,
    time: parts.time,
    ip: parts.ip ?? '',
    serverToken: '',
    reqId: 0,
  }
}
