/**
 * `export`: the EventServer's automatic daily export. A timer runs a
 * DailyExporter every `intervalSeconds`: each finished UTC day is exported
 * once, and again when late events arrive for it. `process()` has nothing to
 * do: the exporter reads the store, so nothing is lost across restarts.
 */
import { InvalidOptionError } from '../errors.js'
import { positiveNumber } from '../option-checks.js'
import { DailyExporter, DEFAULT_EXPORT_INTERVAL_MS, DEFAULT_EXPORT_SETTLE_MS } from '../export/daily-exporter.js'
import type { ExportReport } from '../export/export-day.js'
import { checkExportFormat, type ExportFormat } from '../export/export-layout.js'
import { DirectoryTarget, S3Target, type ExportTarget, type S3TargetOptions } from '../export/export-target.js'
import type { Processor, ProcessorKind } from './processor.js'

export interface ExportProcessorOptions {
  /** Export under this directory. One of toDir / toS3 is required. */
  toDir?: string
  /** Export to this S3 bucket and prefix (endpoint, region, credentials as for the S3 sink). */
  toS3?: S3TargetOptions
  /** parquet, ndjson or csv. Default: parquet. */
  format?: ExportFormat
  /** Seconds between looks for days to export. Default: 300. */
  intervalSeconds?: number
  /** Seconds after a day's end before it counts as finished. Default: 3600. */
  settleSeconds?: number
  /** Rows per part file. Default: 1,000,000. */
  rowsPerPart?: number
  /** Called after each day exported. Default: none. */
  onExport?: (report: ExportReport) => void
}

export interface ExportProcessor extends Processor {
  /** Runs one pass now (as the timer does); resolves with the days exported. */
  runNow(): Promise<ExportReport[]>
}

export const exportProcessor: ProcessorKind<ExportProcessorOptions> = {
  kind: 'export',
  description: 'Exports each finished UTC day (again when late events arrive) to a directory or S3, Hive-partitioned.',
  create(options, context, config): ExportProcessor {
    if ((options.toDir === undefined) === (options.toS3 === undefined)) throw new InvalidOptionError('export', 'give exactly one of toDir or toS3')
    const format = checkExportFormat(options.format ?? 'parquet', 'export.format')
    const intervalMs = positiveNumber('export.intervalSeconds', options.intervalSeconds, DEFAULT_EXPORT_INTERVAL_MS / 1000) * 1000
    const target: ExportTarget = options.toDir !== undefined ? new DirectoryTarget(options.toDir) : new S3Target(options.toS3!)
    const exporter = new DailyExporter({
      store: context.store,
      target,
      format,
      settleMs: options.settleSeconds !== undefined ? options.settleSeconds * 1000 : DEFAULT_EXPORT_SETTLE_MS,
      ...(config.buckets ? { buckets: config.buckets } : {}),
      ...(config.types ? { types: config.types } : {}),
      ...(options.rowsPerPart ? { rowsPerPart: options.rowsPerPart } : {}),
      now: context.now,
    })
    let timer: NodeJS.Timeout | undefined
    let running: Promise<ExportReport[]> | undefined
    const runNow = (): Promise<ExportReport[]> => {
      running ??= exporter
        .run()
        .then((reports) => {
          for (const report of reports) options.onExport?.(report)
          return reports
        })
        .finally(() => (running = undefined))
      return running
    }
    const tick = () => runNow().catch((err: Error) => context.onError(err))
    return {
      async start() {
        void tick()
        timer = setInterval(tick, intervalMs).unref()
      },
      async process() {},
      runNow,
      async close() {
        clearInterval(timer)
        await running?.catch(() => undefined)
        await target.close?.()
      },
    }
  },
}
