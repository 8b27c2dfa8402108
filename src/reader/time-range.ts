/**
 * Time ranges for reading batches back. A key's time is its batch's start, and
 * a batch started before `from` can hold requests that end after it, so a
 * range lists the batches that start within [from - margin, to + margin] and
 * keeps the requests whose REQ_END time is within [from, to].
 */
import { InvalidOptionError } from '../errors.js'
import { formatDayPrefix } from '../formats/batch-v1/object-key.js'

/**
 * Default margin: the longest a request's events may be spread over batches.
 * Covers a batch (10 s) plus the LoggingServer's request timeout (30 s), with room.
 */
export const DEFAULT_RANGE_MARGIN_MS = 60_000

export interface TimeRange {
  /** Earliest REQ_END time kept, ms since 1970 (inclusive). Default: none. */
  from?: number
  /** Latest REQ_END time kept, ms since 1970 (inclusive). Default: none. */
  to?: number
  /** How far before `from` and after `to` batches are listed, ms. Default: DEFAULT_RANGE_MARGIN_MS. */
  marginMs?: number
}

const DAY_MS = 86_400_000
/** A range over more days than this lists the whole prefix instead of day by day. */
const MAX_LISTED_DAYS = 3660

/** Parses `--from`/`--to`: an ISO 8601 date or date-time, or unix seconds (fractions allowed). */
export function parseTime(text: string, option = 'time'): number {
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  // A bare date-time without a zone would be local time; batch keys are UTC, so insist on a zone.
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(trimmed)) {
    throw new InvalidOptionError(option, `${JSON.stringify(text)} has no time zone; add Z or an offset like +02:00`)
  }
  const time = /^\d{4}-\d{2}-\d{2}/.test(trimmed) ? Date.parse(trimmed) : Number.NaN
  if (Number.isNaN(time)) throw new InvalidOptionError(option, `${JSON.stringify(text)} is neither an ISO 8601 time nor unix seconds`)
  return time
}

export function validateTimeRange(range: TimeRange): Required<Pick<TimeRange, 'marginMs'>> & TimeRange {
  const marginMs = range.marginMs ?? DEFAULT_RANGE_MARGIN_MS
  if (!Number.isFinite(marginMs) || marginMs < 0) throw new InvalidOptionError('marginMs', `must be a number >= 0, got ${String(marginMs)}`)
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) {
    throw new InvalidOptionError('from', `${new Date(range.from).toISOString()} is after to (${new Date(range.to).toISOString()})`)
  }
  return { ...range, marginMs }
}

/** Whether a batch that started at `startTime` may hold requests that end within the range. */
export function batchInRange(startTime: number, range: TimeRange): boolean {
  const margin = range.marginMs ?? DEFAULT_RANGE_MARGIN_MS
  if (range.from !== undefined && startTime < range.from - margin) return false
  if (range.to !== undefined && startTime > range.to + margin) return false
  return true
}

/** Whether a request that ended at `time` is within the range. */
export function requestInRange(time: number, range: TimeRange): boolean {
  return (range.from === undefined || time >= range.from) && (range.to === undefined || time <= range.to)
}

/**
 * The day folders (`[prefix/]v1/YYYY-MM-DD/`) whose batches may hold requests
 * in the range, oldest first; undefined without `from` (list everything under
 * `[prefix/]v1/`). Without `to`, the days up to tomorrow (clock skew).
 */
export function dayPrefixes(range: TimeRange, prefix?: string, now: number = Date.now()): string[] | undefined {
  if (range.from === undefined) return undefined
  const margin = range.marginMs ?? DEFAULT_RANGE_MARGIN_MS
  const first = Math.floor((range.from - margin) / DAY_MS)
  const last = Math.floor(((range.to ?? Math.max(now, range.from) + DAY_MS) + margin) / DAY_MS)
  if (last - first >= MAX_LISTED_DAYS) return undefined
  const prefixes: string[] = []
  for (let day = first; day <= last; day++) prefixes.push(formatDayPrefix(day * DAY_MS, prefix))
  return prefixes
}

/** The folder every batch key of a prefix lives under: `[prefix/]v1/`. */
export function versionPrefix(prefix?: string): string {
  return formatDayPrefix(0, prefix).replace(/\d{4}-\d{2}-\d{2}\/$/, '')
}
