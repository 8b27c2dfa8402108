/**
 * The remote IP recorded for a request: the socket's peer address, or the
 * X-Forwarded-For entry `trustProxy` says to believe; then kept whole,
 * truncated or dropped, since an IP is personal data.
 */
import { isIP } from 'node:net'
import type { IncomingMessage } from 'node:http'

/**
 * - `false`: ignore X-Forwarded-For (the default: clients can write anything there).
 * - `true`: the left-most X-Forwarded-For address (every proxy in front is trusted).
 * - a number N: the address N hops in from the right (N trusted proxies in front).
 */
export type TrustProxy = boolean | number

/** `full` keeps the address; `truncate` zeroes the host part (IPv4 /24, IPv6 /48); `drop` records ''. */
export type IpMode = 'full' | 'truncate' | 'drop'
export const IP_MODES: readonly IpMode[] = ['full', 'truncate', 'drop']

/** IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, from dual-stack sockets) become plain IPv4. */
function unmap(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
}

export function truncateIp(address: string): string {
  const family = isIP(address)
  if (family === 4) return address.split('.').slice(0, 3).concat('0').join('.')
  if (family === 6) {
    // Expand `::` so the first three groups (/48) can be kept.
    const [head = '', tail = ''] = address.split('::')
    const headGroups = head ? head.split(':') : []
    const tailGroups = address.includes('::') ? (tail ? tail.split(':') : []) : []
    const groups = address.includes('::')
      ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
      : headGroups
    return `${groups.slice(0, 3).join(':')}::`
  }
  return ''
}

function forwardedAddress(header: string | undefined, trustProxy: TrustProxy): string | undefined {
  if (!header) return undefined
  const hops = header.split(',').map((entry) => entry.trim()).filter(Boolean)
  const pick = trustProxy === true ? hops[0] : hops[hops.length - Number(trustProxy)]
  return pick && isIP(pick) ? pick : undefined
}

/** `forwardedFor`: the request's X-Forwarded-For header (repeats joined with ','), if any. */
export function clientAddress(req: IncomingMessage, forwardedFor: string | undefined, trustProxy: TrustProxy, ipMode: IpMode): string {
  if (ipMode === 'drop') return ''
  const fromProxy = trustProxy !== false && trustProxy !== 0 ? forwardedAddress(forwardedFor, trustProxy) : undefined
  const address = unmap(fromProxy ?? req.socket.remoteAddress ?? '')
  return ipMode === 'truncate' ? truncateIp(address) : address
}
