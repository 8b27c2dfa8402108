/**
 * The few request headers the logger needs, read in one pass over
 * `req.rawHeaders`. Touching `req.headers` makes node build a whole headers
 * object per request, which bench/ measured at about a third of a plain
 * node:http request's cost; the raw list is already there.
 */
import type { IncomingMessage } from 'node:http'

export interface RequestHead {
  /** Content-Type (first one); '' when absent. */
  contentType: string
  /** Content-Length as sent (first one), if any. */
  contentLength: string | undefined
  /** Origin (first one), if any: CORS answers reflect it. */
  origin: string | undefined
  /** X-Forwarded-For, repeated ones joined with ', ', if any. */
  forwardedFor: string | undefined
  /** The recorded headers that are present (lower-case names; repeats joined with ', '). */
  recorded: Record<string, string>
}

/**
 * `recordedNames` must be lower case. Header names are compared without
 * allocating unless their length matches a wanted one.
 */
export function readRequestHead(req: IncomingMessage, recordedNames: ReadonlySet<string>, recordedLengths: ReadonlySet<number>): RequestHead {
  const raw = req.rawHeaders
  const head: RequestHead = { contentType: '', contentLength: undefined, origin: undefined, forwardedFor: undefined, recorded: {} }
  let sawContentType = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    const length = name.length
    if (length !== 6 && length !== 12 && length !== 14 && length !== 15 && !recordedLengths.has(length)) continue
    const lower = name.toLowerCase()
    const value = raw[i + 1]!
    if (lower === 'content-type') {
      if (!sawContentType) head.contentType = value
      sawContentType = true
    } else if (lower === 'content-length') head.contentLength ??= value
    else if (lower === 'origin') head.origin ??= value
    else if (lower === 'x-forwarded-for') head.forwardedFor = head.forwardedFor === undefined ? value : `${head.forwardedFor}, ${value}`
    if (recordedNames.has(lower)) {
      const earlier = head.recorded[lower]
      head.recorded[lower] = earlier === undefined ? value : `${earlier}, ${value}`
    }
  }
  return head
}
