/**
 * `logging-system export`: one UTC day of the store, Hive-partitioned, to a
 * directory or an S3 bucket, as Parquet, gzipped NDJSON or gzipped CSV.
 * Re-running a day replaces it. Prints the report as one JSON line.
 */
import { CliUsageError, ExportFailedError } from '../errors.js'
import { DEFAULT_ROWS_PER_PART, exportDay } from '../export/export-day.js'
import { checkExportFormat, dayRange, EXPORT_FORMATS } from '../export/export-layout.js'
import { DirectoryTarget, S3Target, type ExportTarget } from '../export/export-target.js'
import type { CliCommand, FlagSpec } from './command-line.js'
import { openStoreFromFlags, STORE_FLAGS } from './store-flags.js'

const list = (text: unknown) => (text === undefined ? undefined : String(text).split(',').map((item) => item.trim()).filter(Boolean))

export const EXPORT_FLAGS: FlagSpec[] = [
  { name: 'day', type: 'string', description: 'The UTC day to export, YYYY-MM-DD (by server time). Required.' },
  { name: 'to-dir', type: 'string', description: 'Write under this directory (excludes --to-s3-bucket).' },
  { name: 'to-s3-bucket', type: 'string', description: 'Write to this S3 bucket (excludes --to-dir).' },
  { name: 'to-s3-prefix', type: 'string', description: 'Key prefix in front of events/ in the bucket (default: none).' },
  { name: 's3-endpoint', type: 'string', description: 'S3-compatible endpoint URL (path-style); also AWS_ENDPOINT_URL_S3. Region and credentials: the AWS SDK chain.' },
  { name: 's3-region', type: 'string', description: 'AWS region (default: the SDK chain; us-east-1 with an endpoint).' },
  { name: 'format', type: 'string', default: 'parquet', description: `File format: ${EXPORT_FORMATS.join(', ')}.` },
  { name: 'buckets', type: 'string', description: 'Only these buckets, comma-separated (default: all).' },
  { name: 'rows-per-part', type: 'integer', default: DEFAULT_ROWS_PER_PART, description: 'Most rows in one part file.' },
  ...STORE_FLAGS,
]

export const command: CliCommand = {
  name: 'export',
  envPrefix: 'EXPORT_',
  summary: 'Export one UTC day of the event store, Hive-partitioned (events/date=D/bucket=B/part-NNNN.ext), to a directory or S3.',
  flags: EXPORT_FLAGS,
  async run(parsed, io) {
    const { values } = parsed
    if (values['day'] === undefined) throw new CliUsageError('--day YYYY-MM-DD is required')
    const day = String(values['day'])
    dayRange(day, '--day')
    const format = checkExportFormat(String(values['format']), '--format')
    const target = targetOf(values, io.env)
    const store = await openStoreFromFlags(parsed)
    try {
      const buckets = list(values['buckets'])
      let report
      try {
        report = await exportDay({ store, day, target, format, rowsPerPart: values['rows-per-part'] as number, ...(buckets ? { buckets } : {}) })
      } catch (err) {
        if (!(err instanceof ExportFailedError)) throw err
        io.stderr.write(`export: ${err.message}\n`)
        return 1
      }
      io.stdout.write(JSON.stringify(report) + '\n')
      io.stderr.write(`export: ${day} as ${format} to ${target.description}: ${report.rows} events, ${report.buckets.length} buckets, ${report.files.length} files\n`)
      return 0
    } finally {
      await target.close?.()
      await store.close()
    }
  },
}

function targetOf(values: Record<string, unknown>, env: NodeJS.ProcessEnv): ExportTarget {
  const dir = values['to-dir'] as string | undefined
  const bucket = values['to-s3-bucket'] as string | undefined
  if ((dir === undefined) === (bucket === undefined)) throw new CliUsageError('give exactly one of --to-dir DIR or --to-s3-bucket BUCKET')
  if (dir !== undefined) return new DirectoryTarget(dir)
  const endpoint = (values['s3-endpoint'] as string | undefined) ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL
  return new S3Target({
    bucket: bucket!,
    prefix: String(values['to-s3-prefix'] ?? ''),
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(values['s3-region'] !== undefined ? { region: String(values['s3-region']) } : {}),
  })
}
