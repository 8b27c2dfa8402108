/**
 * Exports each finished UTC day automatically, and exports a day again when
 * late events for it are committed after its export. What has been exported
 * is kept in the store as checkpoints (so a restart neither repeats nor skips
 * a day):
 *   `export:<target>:<format>`        {"cursor": ingested_at up to which every event was looked at}
 *   `export:<target>:<format>:<day>`  {"maxIngestedAt", "rows", "exportedAt"} of the day's last export
 * A run looks at the events committed after the cursor, groups them by day
 * (server time), exports each finished day whose newest event is newer than
 * its last export, and moves the cursor up to the oldest event of a day not
 * finished yet.
 */
import { InvalidOptionError } from '../errors.js'
import type { EventStore } from '../store/event-store.js'
import { exportDay, type ExportReport } from './export-day.js'
import { checkExportFormat, DAY_MS, dayOfNumber, type ExportFormat } from './export-layout.js'
import type { ExportTarget } from './export-target.js'

/** How often the server looks for days to export. Default: 300 s. */
export const DEFAULT_EXPORT_INTERVAL_MS = 300_000
/** A day counts as finished this long after its end (UTC midnight), for logged batches still on their way. Default: 3600 s. */
export const DEFAULT_EXPORT_SETTLE_MS = 3_600_000

export interface DailyExporterOptions {
  store: EventStore
  target: ExportTarget
  /** Default: parquet. */
  format?: ExportFormat
  /** Only these buckets. Default: all. */
  buckets?: readonly string[]
  /** Only these types (text form). Default: all. */
  types?: readonly string[]
  /** Default: DEFAULT_EXPORT_SETTLE_MS (1 h). */
  settleMs?: number
  /** Default: DEFAULT_ROWS_PER_PART. */
  rowsPerPart?: number
  /** Ms since 1970. Default: Date.now. */
  now?: () => number
}

interface DayCheckpoint {
  maxIngestedAt: number
  rows: number
  exportedAt: number
}

export class DailyExporter {
  private readonly options: DailyExporterOptions
  private readonly format: ExportFormat
  private readonly settleMs: number
  private readonly name: string

  constructor(options: DailyExporterOptions) {
    this.options = options
    this.format = checkExportFormat(options.format ?? 'parquet')
    this.settleMs = options.settleMs ?? DEFAULT_EXPORT_SETTLE_MS
    if (!(this.settleMs >= 0)) throw new InvalidOptionError('export.settleMs', `must be >= 0, got ${this.settleMs}`)
    this.name = `export:${options.target.description}:${this.format}`
  }

  /** One pass: exports every finished day that has events newer than its last export. */
  async run(): Promise<ExportReport[]> {
    const { store } = this.options
    const sql = store.sql
    const saved = new Map((await store.checkpoints(this.name)).map((c) => [c.name, c.position]))
    const cursor = saved.has(this.name) ? (JSON.parse(saved.get(this.name)!) as { cursor: number }).cursor : -1
    const day = sql.dialect === 'clickhouse' ? 'intDiv(server_time, 86400000)' : '(server_time // 86400000)'
    const filters = [`ingested_at > ${sql.literal(cursor)}`]
    if (this.options.buckets) filters.push(`bucket IN (${this.options.buckets.map((b) => sql.literal(b)).join(', ') || 'NULL'})`)
    if (this.options.types) filters.push(`type IN (${this.options.types.map((b) => sql.literal(b)).join(', ') || 'NULL'})`)
    const days = await sql.query<{ day: number; newest: number; oldest: number }>(
      `SELECT ${day} AS day, max(ingested_at) AS newest, min(ingested_at) AS oldest FROM events WHERE ${filters.join(' AND ')} GROUP BY day ORDER BY day`,
    )
    const firstUnfinished = Math.floor((this.now() - this.settleMs) / DAY_MS)
    const reports: ExportReport[] = []
    let nextCursor = days.reduce((max, d) => Math.max(max, Number(d.newest)), cursor)
    let failure: unknown
    for (const row of days) {
      const dayNumber = Number(row.day)
      if (dayNumber >= firstUnfinished || failure) {
        nextCursor = Math.min(nextCursor, Number(row.oldest) - 1)
        continue
      }
      const dayName = `${this.name}:${dayOfNumber(dayNumber)}`
      const last = saved.has(dayName) ? (JSON.parse(saved.get(dayName)!) as DayCheckpoint) : undefined
      if (last && last.maxIngestedAt >= Number(row.newest)) continue
      try {
        const report = await exportDay({
          store,
          day: dayOfNumber(dayNumber),
          target: this.options.target,
          format: this.format,
          ...(this.options.buckets ? { buckets: this.options.buckets } : {}),
          ...(this.options.types ? { types: this.options.types } : {}),
          ...(this.options.rowsPerPart ? { rowsPerPart: this.options.rowsPerPart } : {}),
        })
        const position: DayCheckpoint = { maxIngestedAt: Number(row.newest), rows: report.rows, exportedAt: this.now() }
        await store.write({ events: [], checkpoints: [{ name: dayName, position: JSON.stringify(position) }] })
        reports.push(report)
      } catch (err) {
        // Later days wait for this one: the cursor stays before it, the next run tries again.
        failure = err
        nextCursor = Math.min(nextCursor, Number(row.oldest) - 1)
      }
    }
    if (nextCursor !== cursor) await store.write({ events: [], checkpoints: [{ name: this.name, position: JSON.stringify({ cursor: nextCursor }) }] })
    if (failure) throw failure
    return reports
  }

  private now(): number {
    return (this.options.now ?? Date.now)()
  }
}
