/** The NDJSON lines of `replay --output requests|events`: one JSON object per line. */
import type { ReplayedEvent } from '../decoders/request-decoder.js'
import { decodeKey } from '../formats/keyjson.js'
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

/**
 * `{bucket, key, type, value, clientTime, serverTime, serverToken, reqId}`: the
 * key decoded from its keyjson bytes, the value embedded as the exact text
 * received (built as text, so no value is too deep to print).
 */
export function eventToNdjson(event: ReplayedEvent): string {
  return (
    `{"bucket":${JSON.stringify(event.bucket)},"key":${JSON.stringify(decodeKey(event.key))},"type":${JSON.stringify(event.type)},` +
    `"value":${event.value},"clientTime":${event.clientTime},"serverTime":${event.serverTime},` +
    `"serverToken":${JSON.stringify(event.serverToken)},"reqId":${event.reqId}}\n`
  )
}
