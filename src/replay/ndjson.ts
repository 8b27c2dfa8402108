/** The NDJSON lines of `replay --output requests|events`: one JSON object per line. */
import type { ReplayedEvent } from '../reader/decoders/request-decoder.js'
import type { LoggedRequest } from '../reader/request-assembler.js'

/** `{serverToken, reqId, time, ip, method, path, contentType, headers, body}`; body in standard base64. */
export function requestToNdjson(request: LoggedRequest): string {
  return (
    JSON.stringify({
      serverToken: request.serverToken,
      reqId: request.reqId,
      time: request.time,
      ip: request.ip,
      method: request.method,
      path: request.path,
      contentType: request.contentType,
      headers: request.headers,
      body: request.body.toString('base64'),
    }) + '\n'
  )
}

/** `{bucket, key, type, value, clientTime, serverTime, serverToken, reqId}`. */
export function eventToNdjson(event: ReplayedEvent): string {
  return (
    JSON.stringify({
      bucket: event.bucket,
      key: event.key,
      type: event.type,
      value: event.value,
      clientTime: event.clientTime,
      serverTime: event.serverTime,
      serverToken: event.serverToken,
      reqId: event.reqId,
    }) + '\n'
  )
}
