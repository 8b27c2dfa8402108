/** `logging-system serve`: the standalone logging daemon. */
import cluster from 'node:cluster'
import { join } from 'node:path'
import { pino } from 'pino'
import { AggregatorRegistry } from 'prom-client'
import { DEFAULT_BATCH_SECONDS, DEFAULT_GZIP_LEVEL } from '../batch/batch-writer.js'
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_RECORDED_HEADERS } from '../capture/request-capture.js'
import type { IpMode } from '../capture/client-address.js'
import { CliUsageError, SinkUnusableError } from '../errors.js'
import {
  ACK_MODES,
  DEFAULT_ACK_MODE,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_BACKLOG_BYTES,
  DEFAULT_UNSENT_DIRECTORY,
  LoggingServer,
  type AckMode,
} from '../servers/logging-server.js'
import { createAdminServer } from '../ops/admin-server.js'
import { runClusterPrimary, WORKER_INDEX_ENV, type WorkerStatusMessage } from '../ops/cluster-primary.js'
import { createLoggingMetrics } from '../ops/metrics.js'
import { DEFAULT_SPOOL_DIRECTORY } from '../spool/spool.js'
import { rehomeLeftovers } from '../spool/rehome.js'
import { DEFAULT_BATCH_DIRECTORY } from '../sinks/directory-sink.js'
import { excludeEachOther, requirePositiveInteger, S3_FLAGS, type CliCommand } from './command-line.js'

/** Exit codes of `serve` (documented in the README). */
export const SERVE_EXIT = {
  /** Stopped on SIGTERM/SIGINT with every batch stored. */
  ok: 0,
  /** Stopped with batches the sink did not take (saved in the unsent directory or the spool). */
  unsent: 1,
  /** Bad command line. */
  usage: 2,
  /** The sink failed its start-up check (see --skip-sink-check). */
  sinkUnusable: 3,
  /** The port could not be listened on (in use, or not allowed). */
  cannotListen: 4,
} as const

/** One line for a failure to start that the operator can fix, with its exit code; undefined for anything else. */
function startFailure(err: NodeJS.ErrnoException, port: number, host: string): { message: string; exitCode: number } | undefined {
  if (err instanceof SinkUnusableError) return { message: `${err.message} (start anyway with --skip-sink-check)`, exitCode: SERVE_EXIT.sinkUnusable }
  if (err.code === 'EADDRINUSE') return { message: `port ${port} on ${host} is already in use; choose another with --port`, exitCode: SERVE_EXIT.cannotListen }
  if (err.code === 'EACCES') return { message: `not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges); choose another with --port`, exitCode: SERVE_EXIT.cannotListen }
  if (err.code === 'EADDRNOTAVAIL') return { message: `${host} is not an address of this machine; choose another with --host`, exitCode: SERVE_EXIT.cannotListen }
  return undefined
}

export const command: CliCommand = {
  name: 'serve',
  summary: 'Log every incoming HTTP request, unparsed, as gzipped batches in a directory or S3.',
  flags: [
    { name: 'port', type: 'integer', default: 8080, description: 'Port to listen on.' },
    { name: 'host', type: 'string', default: '0.0.0.0', description: 'Address to listen on.' },
    { name: 'dir', type: 'string', description: `Directory for batches (default ${DEFAULT_BATCH_DIRECTORY} when no --s3-bucket).` },
    ...S3_FLAGS,
    { name: 'ack', type: 'string', default: DEFAULT_ACK_MODE, description: `When to answer: ${ACK_MODES.join(', ')} (see README, "Acknowledgement").` },
    { name: 'spool-dir', type: 'string', default: DEFAULT_SPOOL_DIRECTORY, description: 'Spool for --ack spool; left-over segments are delivered at start.' },
    { name: 'max-backlog-bytes', type: 'integer', default: DEFAULT_MAX_BACKLOG_BYTES, description: 'Past this many bytes waiting for the sink, new requests get 503.' },
    { name: 'workers', type: 'integer', default: 1, description: 'Processes sharing the port (node:cluster); each has its own serverToken, spool and batches.' },
    { name: 'admin-port', type: 'integer', description: 'Port for /healthz, /readyz and /metrics (off when unset).' },
    { name: 'admin-host', type: 'string', default: '127.0.0.1', description: 'Address for the admin port.' },
    { name: 'batch-seconds', type: 'number', default: DEFAULT_BATCH_SECONDS, description: 'Seal a batch this many seconds after its first event.' },
    { name: 'max-body-bytes', type: 'integer', default: DEFAULT_MAX_BODY_BYTES, description: 'Larger request bodies get 413.' },
    { name: 'trust-proxy', type: 'boolean', default: false, description: 'Take the client IP from X-Forwarded-For (left-most entry).' },
    { name: 'ip-mode', type: 'string', default: 'full', description: 'Remote IPs: full, truncate (/24, /48) or drop.' },
    { name: 'headers', type: 'string', default: DEFAULT_RECORDED_HEADERS.join(','), description: 'Request headers logged with each request (comma-separated).' },
    { name: 'answers', type: 'string', default: 'clients', description: 'clients: answer analytics clients by path (Mixpanel 1, Segment {"success":true}, PostHog {"status":"Ok"}); ok: OK everywhere (docs/answer-profiles.md).' },
    { name: 'gzip-level', type: 'integer', default: DEFAULT_GZIP_LEVEL, description: 'gzip level, 1 (fast) to 9 (small).' },
    { name: 'close-timeout-ms', type: 'integer', default: DEFAULT_CLOSE_TIMEOUT_MS, description: 'On SIGTERM, time for in-flight requests and the last upload.' },
    { name: 'unsent-dir', type: 'string', default: DEFAULT_UNSENT_DIRECTORY, description: 'Where batches go that the sink did not take by the close deadline.' },
    { name: 'log-level', type: 'string', default: 'info', description: 'pino log level (fatal, error, warn, info, debug, silent).' },
    { name: 'skip-sink-check', type: 'boolean', default: false, description: 'Start even if the sink fails its start-up check (a write-and-delete probe, HeadBucket).' },
  ],
  async run(parsed, io) {
    const { values } = parsed
    excludeEachOther(parsed, 'dir', 's3-bucket')
    const workers = requirePositiveInteger(parsed, 'workers')
    const adminPort = values['admin-port'] as number | undefined
    const workerIndex = cluster.isWorker ? process.env[WORKER_INDEX_ENV] : undefined
    const logger = pino({ level: String(values['log-level']), base: { pid: process.pid, ...(workerIndex !== undefined ? { worker: Number(workerIndex) } : {}) } }, io.stdout)
    if (cluster.isPrimary) {
      // Before any worker starts: files of a previous layout (another --workers) go where they are recovered.
      for (const directory of [String(values['spool-dir']), String(values['unsent-dir'])]) {
        const moved = rehomeLeftovers(directory, workers)
        if (moved > 0) logger.warn({ directory, files: moved, workers }, 'moved files left by a different number of workers')
      }
    }
    if (workers > 1 && cluster.isPrimary) {
      return runClusterPrimary({
        workers,
        logger,
        stopSignal: io.stopSignal,
        ...(adminPort !== undefined ? { admin: { port: adminPort, host: String(values['admin-host']) } } : {}),
      })
    }
    // Each worker keeps its own spool and unsent batches, found again by the worker that replaces it.
    const perWorker = (directory: string) => (workerIndex !== undefined ? join(directory, `worker-${workerIndex}`) : directory)
    const server = new LoggingServer({
      ...(values['s3-bucket'] !== undefined
        ? {
            s3: {
              bucket: String(values['s3-bucket']),
              ...(values['s3-endpoint'] !== undefined ? { endpoint: String(values['s3-endpoint']) } : {}),
              ...(values['s3-region'] !== undefined ? { region: String(values['s3-region']) } : {}),
            },
          }
        : { directory: String(values['dir'] ?? DEFAULT_BATCH_DIRECTORY) }),
      keyPrefix: values['s3-prefix'] as string | undefined,
      batchSeconds: values['batch-seconds'] as number,
      maxBodyBytes: values['max-body-bytes'] as number,
      trustProxy: values['trust-proxy'] as boolean,
      ipMode: values['ip-mode'] as IpMode,
      headers: String(values['headers']).split(',').map((name) => name.trim()).filter(Boolean),
      ...(answersFlag(values['answers']) ? {} : { answers: false as const }),
      gzipLevel: values['gzip-level'] as number,
      closeTimeoutMs: values['close-timeout-ms'] as number,
      unsentDirectory: perWorker(String(values['unsent-dir'])),
      ack: values['ack'] as AckMode,
      spoolDirectory: perWorker(String(values['spool-dir'])),
      maxBacklogBytes: values['max-backlog-bytes'] as number,
      checkSinkAtStart: values['skip-sink-check'] !== true,
      logger,
    })
    // Metrics first, so the first requests are counted too.
    const metrics = adminPort !== undefined ? createLoggingMetrics(server) : undefined
    let admin: ReturnType<typeof createAdminServer> | undefined
    if (cluster.isWorker) {
      // The primary serves the admin port: it aggregates these metrics and statuses.
      if (metrics) {
        AggregatorRegistry.setRegistries([metrics.registry])
        // Constructing one installs prom-client's listener that answers the primary.
        new AggregatorRegistry()
      }
    } else if (metrics) {
      admin = createAdminServer(server, metrics)
      const adminHost = String(values['admin-host'])
      try {
        const address = await admin.listen(adminPort!, adminHost)
        logger.info({ address: address.address, port: address.port }, 'admin listening')
      } catch (err) {
        const failure = startFailure(err as NodeJS.ErrnoException, adminPort!, adminHost)
        if (!failure) throw err
        const message = failure.message.replace('--port', '--admin-port').replace('--host', '--admin-host')
        logger.fatal({ code: (err as NodeJS.ErrnoException).code }, message)
        io.stderr.write(`logging-system serve: ${message}\n`)
        await server.close().catch(() => {})
        return failure.exitCode
      }
    }
    const port = values['port'] as number
    const host = String(values['host'])
    try {
      await server.listen(port, host)
    } catch (err) {
      const failure = startFailure(err as NodeJS.ErrnoException, port, host)
      if (!failure) throw err
      logger.fatal({ code: (err as NodeJS.ErrnoException).code }, failure.message)
      io.stderr.write(`logging-system serve: ${failure.message}\n`)
      await server.close().catch(() => {})
      await admin?.close()
      return failure.exitCode
    }
    if (cluster.isWorker) {
      const report = () => {
        const status = server.status()
        const reason = status.unavailable ?? (status.sinkFailing ? 'the sink is failing' : undefined)
        if (process.connected) process.send?.({ type: 'logging-system:status', ready: server.ready, ...(reason ? { reason } : {}) } satisfies WorkerStatusMessage)
      }
      report()
      setInterval(report, 1000).unref()
    }
    const signal = await io.stopSignal
    logger.info({ signal }, 'stopping: finishing requests and writing the last batch')
    try {
      await server.close()
      logger.info('stopped; every batch stored')
      return SERVE_EXIT.ok
    } catch (err) {
      logger.error({ err }, 'stopped with batches not stored in the sink')
      return SERVE_EXIT.unsent
    } finally {
      await admin?.close()
    }
  },
}

/** `--answers clients|ok`: whether analytics clients get their own answers. */
function answersFlag(value: unknown): boolean {
  if (value === 'clients') return true
  if (value === 'ok') return false
  throw new CliUsageError(`--answers must be clients or ok, got ${JSON.stringify(value)}`)
}
