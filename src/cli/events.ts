/**
 * `logging-system events`: the EventServer on the embedded DuckDB store (or
 * ClickHouse), optionally tailing a LoggingServer's batches from a directory
 * or S3, until SIGTERM/SIGINT. Logs are pino JSON lines on stdout.
 */
import { pino } from 'pino'
import { CliUsageError } from '../errors.js'
import { DEFAULT_TAIL_INTERVAL_MS, DEFAULT_TAIL_WRITE_EVENTS } from '../ingest/batch-tailer.js'
import { createAdminEndpoints } from '../ops/admin-server.js'
import type { BatchSource } from '../reader/batch-source.js'
import { DirectorySource } from '../reader/directory-source.js'
import { S3Source } from '../reader/s3-source.js'
import { DEFAULT_EVENT_SERVER_PORT, EventServer } from '../servers/event-server.js'
import { DEFAULT_DUCKDB_PATH } from '../store/duckdb/duckdb-store.js'
import { openEventStore } from '../store/open-store.js'
import { loadProcessorConfigs } from '../processors/processor-config.js'
import type { EventStore } from '../store/event-store.js'
import { excludeEachOther, type CliCommand, type FlagSpec, type ParsedCommandLine } from './command-line.js'
import { storeOptionsFromFlags } from './store-flags.js'

export const EVENTS_FLAGS: FlagSpec[] = [
  { name: 'port', type: 'integer', default: DEFAULT_EVENT_SERVER_PORT, description: 'TCP port of the events API (0 picks a free one).' },
  { name: 'host', type: 'string', default: '0.0.0.0', description: 'Interface to listen on.' },
  { name: 'db', type: 'string', description: `The embedded DuckDB file (default ${DEFAULT_DUCKDB_PATH} when --clickhouse is not given; excludes --clickhouse).` },
  { name: 'clickhouse', type: 'string', description: 'Store events in ClickHouse at this URL, e.g. http://user:password@127.0.0.1:8123/database (excludes --db).' },
  { name: 'tail-dir', type: 'string', description: 'Tail the LoggingServer batches under this directory (excludes --tail-s3-bucket; default: no tailing).' },
  { name: 'tail-s3-bucket', type: 'string', description: 'Tail the LoggingServer batches in this S3 bucket (excludes --tail-dir).' },
  { name: 'tail-s3-prefix', type: 'string', description: 'Key prefix in front of v1/ in the tailed bucket or directory.' },
  { name: 'tail-s3-endpoint', type: 'string', description: 'S3-compatible endpoint URL (path-style); also AWS_ENDPOINT_URL_S3. Region and credentials: the AWS SDK chain (AWS_REGION, AWS_ACCESS_KEY_ID ...).' },
  { name: 'tail-since', type: 'string', description: 'Backfill: ingest logged requests from this UTC day on (YYYY-MM-DD). Default: every batch there is.' },
  { name: 'tail-interval-seconds', type: 'number', default: DEFAULT_TAIL_INTERVAL_MS / 1000, description: 'Seconds between two looks for new batches.' },
  { name: 'processors', type: 'string', description: 'A processors file (JSON, docs/processors.md): daily export, forwarding, your own. Default: none.' },
  { name: 'tail-write-events', type: 'integer', default: DEFAULT_TAIL_WRITE_EVENTS, description: 'While behind, commit batches together up to this many events per store write (1 = a write per batch).' },
  { name: 'admin-port', type: 'integer', description: 'Port for /healthz, /readyz and /metrics (off when unset).' },
  { name: 'admin-host', type: 'string', default: '127.0.0.1', description: 'Address for the admin port.' },
  { name: 'log-level', type: 'string', default: 'info', description: 'pino log level (fatal, error, warn, info, debug, silent).' },
]

/** `YYYY-MM-DD` → ms at 00:00 UTC that day. */
export function parseSinceDay(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim())
  const time = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN
  if (!match || Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== text.trim()) {
    throw new CliUsageError(`--tail-since must be a UTC day as YYYY-MM-DD, got ${JSON.stringify(text)}`)
  }
  return time
}

function tailSource(parsed: ParsedCommandLine, env: NodeJS.ProcessEnv): BatchSource | undefined {
  const { values } = parsed
  const dir = values['tail-dir'] as string | undefined
  const bucket = values['tail-s3-bucket'] as string | undefined
  excludeEachOther(parsed, 'tail-dir', 'tail-s3-bucket', 'tail one place per EventServer')
  const prefix = values['tail-s3-prefix'] as string | undefined
  if (bucket !== undefined) {
    return new S3Source({ bucket, ...(prefix !== undefined ? { prefix } : {}), ...(values['tail-s3-endpoint'] !== undefined ? { endpoint: String(values['tail-s3-endpoint']) } : {}) }, undefined, env)
  }
  if (values['tail-s3-endpoint'] !== undefined) throw new CliUsageError('--tail-s3-endpoint needs --tail-s3-bucket')
  if (dir !== undefined) return new DirectorySource(dir, prefix !== undefined ? { prefix } : {})
  if (prefix !== undefined) throw new CliUsageError('--tail-s3-prefix needs --tail-dir or --tail-s3-bucket')
  if (values['tail-since'] !== undefined) throw new CliUsageError('--tail-since needs --tail-dir or --tail-s3-bucket')
  return undefined
}

export const command: CliCommand = {
  name: 'events',
  envPrefix: 'EVENTS_',
  summary: 'Run the EventServer: the events API on a durable store (DuckDB embedded, or ClickHouse), fed by direct posts and tailed batches.',
  flags: EVENTS_FLAGS,
  async run(parsed, io) {
    const { values } = parsed
    const storeOptions = storeOptionsFromFlags(parsed)
    const interval = values['tail-interval-seconds'] as number
    if (!(interval > 0)) throw new CliUsageError(`--tail-interval-seconds must be more than 0, got ${interval}`)
    const writeEvents = values['tail-write-events'] as number
    if (!(writeEvents >= 1)) throw new CliUsageError(`--tail-write-events must be 1 or more, got ${writeEvents}`)
    const since = values['tail-since'] !== undefined ? parseSinceDay(String(values['tail-since'])) : undefined
    // Read before the store opens: a bad file stops here with nothing to undo.
    const processors = values['processors'] !== undefined ? await loadProcessorConfigs(String(values['processors'])) : undefined
    const source = tailSource(parsed, io.env)
    const logger = pino({ level: String(values['log-level']), base: { pid: process.pid } }, io.stdout)
    let store: EventStore
    try {
      store = await openEventStore(storeOptions)
    } catch (err) {
      // A second process on the same DuckDB file, ClickHouse unreachable: say so plainly.
      await source?.close?.()
      logger.fatal({ err }, 'could not open the event store')
      io.stderr.write(`logging-system events: could not start: ${(err as Error).message}\n`)
      return 1
    }
    const server = new EventServer({
      store,
      logger,
      ...(processors ? { processors } : {}),
      ...(source ? { tail: { source, intervalMs: interval * 1000, writeEvents, ...(since !== undefined ? { since } : {}) } } : {}),
    })
    const adminPort = values['admin-port'] as number | undefined
    const admin = adminPort !== undefined
      ? createAdminEndpoints(() => {
          const status = server.status()
          return {
            ready: server.ready,
            body: { ...(status.commitFailing ? { reason: 'the event store is not committing' } : {}), store: store.kind, tailing: status.tailing },
          }
        }, server.metrics)
      : undefined
    try {
      await server.listen(values['port'] as number, String(values['host']))
    } catch (err) {
      // The port taken: say so plainly.
      await server.close().catch(() => {})
      logger.fatal({ err }, 'could not start')
      io.stderr.write(`logging-system events: could not start: ${(err as Error).message}\n`)
      return 1
    }
    if (admin) {
      const address = await admin.listen(adminPort!, String(values['admin-host']))
      logger.info({ address: address.address, port: address.port }, 'admin listening')
    }
    const signal = await io.stopSignal
    logger.info({ signal }, 'stopping: committing the batch under way')
    try {
      await server.close()
      logger.info({ tail: server.tailer?.report }, 'stopped')
      return 0
    } catch (err) {
      logger.error({ err }, 'stopped with an error')
      return 1
    } finally {
      await admin?.close()
    }
  },
}
