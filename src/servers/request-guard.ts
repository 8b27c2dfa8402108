/**
 * Guards for the servers a developer runs on their own machine (the DevServer,
 * the admin port): a web page the developer visits must not be able to reach
 * them. Two rules, each in one place:
 * - DNS rebinding: a request that arrived on a loopback address must name a
 *   loopback host (`localhost`, `*.localhost`, `127.x.x.x`, `[::1]`) or one the
 *   operator allowed; a page on `evil.test` that rebinds its name to 127.0.0.1
 *   sends `Host: evil.test`.
 * - Cross-site writes: a state-changing request a browser sends for another
 *   site (`Sec-Fetch-Site: cross-site|same-site`, or an `Origin` whose host is
 *   not the `Host`) is refused.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { isIP } from 'node:net'

/** Whether a socket address is a loopback one (127.0.0.0/8, ::1, IPv4-mapped 127.x). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false
  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address
  return plain === '::1' || (isIP(plain) === 4 && plain.startsWith('127.'))
}

/** The host name of a Host header, lower case, without port or IPv6 brackets. */
export function hostNameOf(host: string): string {
  const trimmed = host.trim().toLowerCase()
  if (trimmed.startsWith('[')) return trimmed.slice(1, trimmed.indexOf(']') > 0 ? trimmed.indexOf(']') : undefined)
  const colon = trimmed.lastIndexOf(':')
  return colon >= 0 ? trimmed.slice(0, colon) : trimmed
}

function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name)
}

/**
 * Why a request is refused as a possible DNS rebinding, or undefined. Only
 * requests that arrived on a loopback address are checked: a server bound to
 * a public address is reached under names nobody can list in advance.
 */
export function rebindingProblem(host: string | undefined, localAddress: string | undefined, allowedHosts: readonly string[] = []): string | undefined {
  if (!isLoopbackAddress(localAddress)) return undefined
  if (host === undefined || host === '') return 'a request to a local server must carry a Host header'
  const name = hostNameOf(host)
  if (isLoopbackName(name) || allowedHosts.some((allowed) => allowed.toLowerCase() === name)) return undefined
  return `Host ${JSON.stringify(host)} is not a loopback name; a local server answers only localhost, 127.0.0.1 and [::1] (DNS rebinding guard; allow more names with allowedHosts)`
}

/** Why a state-changing request is refused as sent by another site, or undefined. */
export function crossSiteProblem(headers: IncomingHttpHeaders): string | undefined {
  const site = headers['sec-fetch-site']
  if (site === 'cross-site' || site === 'same-site') return `a page of another site may not do this (Sec-Fetch-Site: ${site})`
  const origin = headers.origin
  if (origin !== undefined) {
    let originHost: string
    try {
      originHost = new URL(origin).host
    } catch {
      return `a page of another site may not do this (Origin ${JSON.stringify(origin)})`
    }
    if (originHost.toLowerCase() !== (headers.host ?? '').toLowerCase()) return `a page of another site may not do this (Origin ${JSON.stringify(origin)})`
  }
  return undefined
}
