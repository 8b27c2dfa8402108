/**
 * Exports one UTC day (by server time) of the store: per bucket, the events
 * in key order, cut into parts of at most `rowsPerPart` rows, written by an
 * in-memory DuckDB (COPY ... TO, FORMAT PARQUET / JSON / CSV) so every store
 * backend gives the same files. Memory holds one part at a time.
 * The columns are in docs/export.md ("Schema").
 */
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { DuckDBInstance, type DuckDBAppender } from '@duckdb/node-api'
import { ExportFailedError, InvalidOptionError } from '../errors.js'
import { positiveInteger } from '../option-checks.js'
import { keyJsonText } from '../model/event-json.js'
import type { EventRecord } from '../model/event-record.js'
import type { EventStore } from '../store/event-store.js'
import { checkExportFormat, dayRange, partPath, type ExportFormat } from './export-layout.js'
import type { ExportTarget } from './export-target.js'

/** Rows in one part file. Default: 1,000,000. */
export const DEFAULT_ROWS_PER_PART = 1_000_000

export interface ExportDayOptions {
  store: EventStore
  /** The UTC day, YYYY-MM-DD, by server time. Required. */
  day: string
  target: ExportTarget
  /** Default: parquet. */
  format?: ExportFormat
  /** Only these buckets. Default: every bucket in the store. */
  buckets?: readonly string[]
  /** Only these types (text form). Default: every type. */
  types?: readonly string[]
  /** Default: DEFAULT_ROWS_PER_PART. */
  rowsPerPart?: number
}

export interface ExportReport {
  day: string
  format: ExportFormat
  target: string
  /** Rows written, all buckets. */
  rows: number
  buckets: { bucket: string; rows: number; parts: number }[]
  /** Relative paths of the files written (`events/date=.../bucket=.../part-0000.parquet`). */
  files: string[]
}

/** The table each part passes through; its columns are the export schema (docs/export.md). */
const PART_TABLE = `CREATE TABLE part_rows (
  "key" BLOB NOT NULL,
  key_json VARCHAR,
  "type" VARCHAR NOT NULL,
  type_is_code BOOLEAN NOT NULL,
  "value" VARCHAR NOT NULL,
  client_time BIGINT NOT NULL,
  server_time BIGINT NOT NULL,
  original_client_time BIGINT,
  user_id VARCHAR,
  anonymous_id VARCHAR,
  producer VARCHAR,
  ip VARCHAR,
  "source" VARCHAR NOT NULL
)`

const TEXT_COLUMNS = `base64("key") AS "key", key_json, "type", type_is_code, "value", client_time, server_time, original_client_time, user_id, anonymous_id, producer, ip, "source"`

const COPY: Readonly<Record<ExportFormat, { select: string; options: string }>> = {
  parquet: { select: '*', options: 'FORMAT PARQUET' },
  ndjson: { select: TEXT_COLUMNS, options: 'FORMAT JSON, COMPRESSION GZIP' },
  csv: { select: TEXT_COLUMNS, options: 'FORMAT CSV, HEADER, COMPRESSION GZIP' },
}

export async function exportDay(options: ExportDayOptions): Promise<ExportReport> {
  const format = checkExportFormat(options.format ?? 'parquet')
  const { start, end } = dayRange(options.day)
  const rowsPerPart = positiveInteger('rowsPerPart', options.rowsPerPart, DEFAULT_ROWS_PER_PART)
  const wanted = options.buckets ? new Set(options.buckets) : undefined
  const buckets = (await options.store.buckets()).map((b) => b.bucket).filter((bucket) => !wanted || wanted.has(bucket))
  const report: ExportReport = { day: options.day, format, target: options.target.description, rows: 0, buckets: [], files: [] }

  try {
    await writeDay(options, { format, start, end, rowsPerPart, buckets }, report)
  } catch (err) {
    if (err instanceof InvalidOptionError || err instanceof ExportFailedError) throw err
    throw new ExportFailedError(options.day, options.target.description, (err as Error).message, { cause: err })
  }
  return report
}

async function writeDay(
  options: ExportDayOptions,
  { format, start, end, rowsPerPart, buckets }: { format: ExportFormat; start: number; end: number; rowsPerPart: number; buckets: string[] },
  report: ExportReport,
): Promise<void> {
  const staging = await options.target.stage(options.day)
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' })
  const connection = await instance.connect()
  try {
    await connection.run(PART_TABLE)
    for (const bucket of buckets) {
      let rows = 0
      let parts = 0
      let appender = await connection.createAppender('part_rows')
      let inPart = 0
      const flush = async () => {
        appender.closeSync()
        const file = partPath(options.day, bucket, parts, format)
        await mkdir(dirname(join(staging, file)), { recursive: true })
        await connection.run(`COPY (SELECT ${COPY[format].select} FROM part_rows) TO ${sqlString(join(staging, file))} (${COPY[format].options})`)
        await connection.run('DELETE FROM part_rows')
        report.files.push(file)
        parts++
        inPart = 0
        appender = await connection.createAppender('part_rows')
      }
      const query = { bucket, serverTimeFrom: start, serverTimeTo: end, ...(options.types ? { types: options.types } : {}) }
      for await (const event of options.store.read(query)) {
        appendEvent(appender, event)
        rows++
        if (++inPart === rowsPerPart) await flush()
      }
      if (inPart > 0) await flush()
      else appender.closeSync()
      if (rows > 0) report.buckets.push({ bucket, rows, parts })
      report.rows += rows
    }
    await options.target.commit(options.day, staging, report.files)
  } finally {
    connection.closeSync()
    instance.closeSync()
    await options.target.discard(staging)
  }
}

function appendEvent(appender: DuckDBAppender, event: EventRecord): void {
  appender.appendBlob(event.key)
  const keyJson = keyJsonText(event.key)
  if (keyJson === null) appender.appendNull()
  else appender.appendVarchar(keyJson)
  appender.appendVarchar(String(event.type))
  appender.appendBoolean(typeof event.type === 'number')
  appender.appendVarchar(event.value)
  appender.appendBigInt(BigInt(event.clientTime))
  appender.appendBigInt(BigInt(event.serverTime))
  if (event.originalClientTime === null) appender.appendNull()
  else appender.appendBigInt(BigInt(event.originalClientTime))
  for (const text of [event.userId, event.anonymousId, event.producer, event.ip]) {
    if (text === null) appender.appendNull()
    else appender.appendVarchar(text)
  }
  appender.appendVarchar(event.source)
  appender.endRow()
}

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`
}

