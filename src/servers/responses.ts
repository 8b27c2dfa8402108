/** Fixed answers of the standalone logging server. */

/** The classic 43-byte 1×1 transparent GIF, for tracking pixels. */
export const TRANSPARENT_GIF = Buffer.from(
  '47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b',
  'hex',
)

export const NO_CACHE_HEADERS = {
  'cache-control': 'no-cache, no-store, must-revalidate, max-age=0',
  pragma: 'no-cache',
  expires: '0',
} as const

/** The path part of a request target, without the query string. */
export function pathOf(url: string | undefined): string {
  if (!url) return '/'
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}
