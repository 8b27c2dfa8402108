/**
 * One request (logged, or live on the EventServer) to events, through the
 * shared decoders: the tailer and direct posts use this one function, so a
 * request gives the same events whichever way it arrives.
 */
import type { DecoderRequest } from '../decoders/request-decoder.js'
import type { RejectedRequest } from '../store/event-store.js'
import type { EventRecord } from '../model/event-record.js'
import { RequestDecoderRegistry } from '../decoders/registry.js'

export type RequestEvents =
  | { kind: 'events'; decoder: string; events: EventRecord[] }
  /** No decoder reads this path and media type (pixels, preflights, other paths). */
  | { kind: 'no-decoder' }
  /** Its decoder refused the body; `error` says why (an LS_* error for bad input). */
  | { kind: 'undecodable'; decoder: string; error: Error & { code?: string } }

export function requestEvents(registry: RequestDecoderRegistry, request: DecoderRequest): RequestEvents {
  const found = registry.find(request)
  if (!found) return { kind: 'no-decoder' }
  try {
    return { kind: 'events', decoder: found.decoder.name, events: found.decoder.decode(request, found.url) }
  } catch (err) {
    return { kind: 'undecodable', decoder: found.decoder.name, error: err as Error & { code?: string } }
  }
}

/** Largest body kept with a rejected request; longer ones are cut (the reject says so). Default: 1 MiB. */
export const DEFAULT_MAX_REJECT_BODY_BYTES = 1024 * 1024

/** A request that gave no events, as kept in the store's rejects for a user to look at. */
export function rejectedRequest(origin: string, request: DecoderRequest, reason: string, message: string, maxBodyBytes = DEFAULT_MAX_REJECT_BODY_BYTES): RejectedRequest {
  const cut = request.body.byteLength > maxBodyBytes
  return {
    origin,
    time: request.time,
    method: request.method,
    path: request.path,
    contentType: request.contentType,
    reason,
    message: cut ? `${message} (body cut to its first ${maxBodyBytes} of ${request.body.byteLength} bytes)` : message,
    body: cut ? request.body.subarray(0, maxBodyBytes) : request.body,
  }
}

