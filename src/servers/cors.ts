/**
 * CORS headers shared by the LoggingServer and the DevServer. Browsers send
 * events cross-origin, so every answer allows it; a preflight is answered
 * without touching the app.
 */
import type { IncomingHttpHeaders } from 'node:http'

export interface CorsOptions {
  /** `true` reflects the request's Origin (or `*` when there is none); a string is sent as is. Default: `true`. */
  origin?: true | string
  /** Access-Control-Max-Age of a preflight, in seconds. Default: 86400. */
  maxAgeSeconds?: number
}

export const DEFAULT_CORS_MAX_AGE_SECONDS = 86_400
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS'
const DEFAULT_ALLOWED_HEADERS = 'Content-Type'

function allowOrigin(requestOrigin: string | undefined, options: CorsOptions): string {
  if (typeof options.origin === 'string') return options.origin
  return requestOrigin ?? '*'
}

/** Headers for any non-preflight answer, given the request's Origin header. */
export function corsHeadersFor(requestOrigin: string | undefined, options: CorsOptions = {}): Record<string, string> {
  return Object.fromEntries(pairs(corsHeaderList(requestOrigin, options)))
}

/** The answer headers when any origin is allowed: one shared list, so callers may cache what they build on it. */
export const ANY_ORIGIN: readonly string[] = ['access-control-allow-origin', '*']

/** The same headers as a flat [name, value, ...] list (what writeHead takes cheapest); '*' needs no allocation. */
export function corsHeaderList(requestOrigin: string | undefined, options: CorsOptions = {}): readonly string[] {
  const origin = allowOrigin(requestOrigin, options)
  return origin === '*' ? ANY_ORIGIN : ['access-control-allow-origin', origin, 'vary', 'Origin']
}

function pairs(list: readonly string[]): Array<[string, string]> {
  const result: Array<[string, string]> = []
  for (let i = 0; i < list.length; i += 2) result.push([list[i]!, list[i + 1]!])
  return result
}

/** Headers for any non-preflight answer. */
export function corsHeaders(headers: IncomingHttpHeaders, options: CorsOptions = {}): Record<string, string> {
  return corsHeadersFor(headers.origin, options)
}

/** Headers for the 204 answer to an OPTIONS preflight. */
export function preflightHeaders(headers: IncomingHttpHeaders, options: CorsOptions = {}): Record<string, string> {
  const requested = headers['access-control-request-headers']
  return {
    ...corsHeaders(headers, options),
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-allow-headers': requested && requested.trim() !== '' ? requested : DEFAULT_ALLOWED_HEADERS,
    'access-control-max-age': String(options.maxAgeSeconds ?? DEFAULT_CORS_MAX_AGE_SECONDS),
  }
}
