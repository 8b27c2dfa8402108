/**
 * Where exported files go: Hive-style partitions that warehouses (DuckDB,
 * Spark, Athena, BigQuery external tables) read without configuration:
 *   events/date=YYYY-MM-DD/bucket=B/part-NNNN.<ext>
 * One pure function per name, so the directory and S3 targets agree.
 */
import { InvalidOptionError } from '../errors.js'

export const EXPORT_FORMATS = ['parquet', 'ndjson', 'csv'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** File name endings: Parquet compresses inside the file; NDJSON and CSV are gzipped whole. */
export const EXPORT_EXTENSIONS: Readonly<Record<ExportFormat, string>> = Object.freeze({
  parquet: 'parquet',
  ndjson: 'ndjson.gz',
  csv: 'csv.gz',
})

export const DAY_MS = 86_400_000

export function checkExportFormat(format: string, option = 'format'): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new InvalidOptionError(option, `must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`)
  }
  return format as ExportFormat
}

/** Checks a `YYYY-MM-DD` UTC day and returns its [start, end) in ms since 1970. */
export function dayRange(day: string, option = 'day'): { start: number; end: number } {
  const start = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : NaN
  if (!Number.isFinite(start) || new Date(start).toISOString().slice(0, 10) !== day) {
    throw new InvalidOptionError(option, `must be a UTC day as YYYY-MM-DD, got ${JSON.stringify(day)}`)
  }
  return { start, end: start + DAY_MS }
}

/** The UTC day (YYYY-MM-DD) of a day number (ms since 1970 / DAY_MS). */
export function dayOfNumber(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10)
}

/**
 * A partition value as Hive escapes it: `%XX` (UTF-8 bytes, upper-case hex)
 * for control characters, DEL and the characters `"#%'*:=?\{[]^` and
 * slash; everything else as is.
 * DuckDB and Spark decode it back (a bucket `a/b=c` reads back as `a/b=c`).
 */
export function escapePartitionValue(value: string): string {
  return value.replace(/[\x00-\x1f"#%'*/:=?\\{[\]^\x7f]/g, (char) => '%' + char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'))
}

/** The folder of one day: `events/date=YYYY-MM-DD`. */
export function dayFolder(day: string): string {
  return `events/date=${day}`
}

/** The path of one part, relative to the export root: `events/date=D/bucket=B/part-0000.parquet`. */
export function partPath(day: string, bucket: string, part: number, format: ExportFormat): string {
  return `${dayFolder(day)}/bucket=${escapePartitionValue(bucket)}/part-${String(part).padStart(4, '0')}.${EXPORT_EXTENSIONS[format]}`
}
