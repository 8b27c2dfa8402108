/**
 * Picks the analytics-client format of a request by its path alone (a
 * trailing slash is ignored); the format then reads the body by its
 * Content-Encoding and its bytes, never by Content-Type.
 */
import { ClientRequestError } from '../errors.js'
import type { ClientFormat, ClientRequest, DecodedClientRequest } from './client-request.js'
import { grouparooFormat } from './grouparoo.js'
import { mixpanelFormat } from './mixpanel.js'
import { posthogFormat } from './posthog.js'
import { segmentFormat } from './segment.js'

export const CLIENT_FORMATS: readonly ClientFormat[] = [segmentFormat, posthogFormat, mixpanelFormat, grouparooFormat]

// Any origin: only the path and query of the target are used.
const BASE = 'http://client.invalid'

const byPath = new Map<string, ClientFormat>()
for (const format of CLIENT_FORMATS) for (const path of format.paths) byPath.set(path, format)

/** `/batch/` → `/batch`; `/` stays. */
export function withoutTrailingSlash(pathname: string): string {
  return pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname
}

/** Every path a client format reads, with and without the trailing slash. */
export function clientFormatPaths(): string[] {
  return [...byPath.keys()].flatMap((path) => [path, `${path}/`])
}

/** The format that reads this request target, with the parsed target; undefined when none does. */
export function findClientFormat(target: string): { format: ClientFormat; url: URL } | undefined {
  let url: URL
  try {
    url = new URL(target, BASE)
  } catch {
    return undefined
  }
  const format = byPath.get(withoutTrailingSlash(url.pathname))
  return format ? { format, url } : undefined
}

/** Decodes a request of any client format; throws ClientRequestError (404 when no format reads its path, 405 for a wrong method). */
export function decodeClientRequest(request: ClientRequest): DecodedClientRequest & { url: URL; clientFormat: ClientFormat } {
  const found = findClientFormat(request.path)
  if (!found) throw new ClientRequestError('none', 404, `no client format reads ${request.path.split('?')[0]}`)
  const { format, url } = found
  if (!format.methods.includes(request.method.toUpperCase())) {
    throw new ClientRequestError(format.name, 405, `${format.name} reads ${format.methods.join(' or ')} at ${url.pathname}, not ${request.method}`)
  }
  return { ...format.decode(request, url), url, clientFormat: format }
}
