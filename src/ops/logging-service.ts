/**
 * The logging daemon as a process: a LoggingServer (or, with several
 * workers, a node:cluster primary over them), its admin port, one clear line
 * and an exit code for a failure to start, and a clean stop on the stop
 * signal. `logging-system serve` maps its flags to these options.
 */
import cluster from 'node:cluster'
import { pino } from 'pino'
import { SinkUnusableError } from '../errors.js'
import { runClusterPrimary } from '../cluster/primary.js'
import { rehomeLeftovers } from '../cluster/rehome.js'
import { perWorkerDirectory, reportStartFailureToPrimary, reportStatusToPrimary, shareMetricsWithPrimary, workerIndex } from '../cluster/worker.js'
import { DEFAULT_UNSENT_DIRECTORY, LoggingServer, type LoggingServerOptions } from '../servers/logging-server.js'
import { DEFAULT_SPOOL_DIRECTORY } from '../spool/spool.js'
import { createAdminServer, type AdminServer } from './admin-server.js'
import { createLoggingMetrics } from './metrics.js'

/** Exit codes of the daemon (documented in docs/serve.md). */
export const SERVE_EXIT = {
  /** Stopped on SIGTERM/SIGINT with every batch stored. */
  ok: 0,
  /** Stopped with batches the sink did not take (saved in the unsent directory or the spool). */
  unsent: 1,
  /** Bad command line. */
  usage: 2,
  /** The sink failed its start-up check (see checkSinkAtStart / --skip-sink-check). */
  sinkUnusable: 3,
  /** The port could not be listened on (in use, or not allowed). */
  cannotListen: 4,
} as const

export interface LoggingServiceOptions {
  /** The LoggingServer's options (its logger is made here). */
  server: Omit<LoggingServerOptions, 'logger'>
  port: number
  host: string
  /** Processes sharing the port; more than 1 runs a node:cluster primary. */
  workers: number
  /** The admin port (health, readiness, metrics). Default: none. */
  admin?: { port: number; host: string }
  /** pino level. */
  logLevel: string
}

export interface ServiceIo {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  /** Resolves when the process is asked to stop. */
  stopSignal: Promise<string>
}

/** Names of the flags a failure message points to (the CLI's), or of the options. */
export interface FlagNames {
  port: string
  host: string
  skipSinkCheck: string
}

const FLAGS: FlagNames = { port: '--port', host: '--host', skipSinkCheck: '--skip-sink-check' }

/** One line for a failure to start that the operator can fix, with its exit code; undefined for anything else. */
export function startFailure(err: NodeJS.ErrnoException, port: number, host: string, flags: FlagNames = FLAGS): { message: string; exitCode: number } | undefined {
  if (err instanceof SinkUnusableError) return { message: `${err.message} (start anyway with ${flags.skipSinkCheck})`, exitCode: SERVE_EXIT.sinkUnusable }
  if (err.code === 'EADDRINUSE') return { message: `port ${port} on ${host} is already in use; choose another with ${flags.port}`, exitCode: SERVE_EXIT.cannotListen }
  if (err.code === 'EACCES') return { message: `not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges); choose another with ${flags.port}`, exitCode: SERVE_EXIT.cannotListen }
  if (err.code === 'EADDRNOTAVAIL') return { message: `${host} is not an address of this machine; choose another with ${flags.host}`, exitCode: SERVE_EXIT.cannotListen }
  return undefined
}

/** Runs the daemon until the stop signal; resolves with the process exit code. */
export async function runLoggingService(options: LoggingServiceOptions, io: ServiceIo): Promise<number> {
  const index = workerIndex()
  const logger = pino({ level: options.logLevel, base: { pid: process.pid, ...(index !== undefined ? { worker: index } : {}) } }, io.stdout)
  const spoolDirectory = options.server.spoolDirectory ?? DEFAULT_SPOOL_DIRECTORY
  const unsentDirectory = options.server.unsentDirectory ?? DEFAULT_UNSENT_DIRECTORY
  if (cluster.isPrimary) {
    // Before any worker starts: files of a previous layout (another --workers) go where they are recovered.
    for (const directory of [spoolDirectory, unsentDirectory]) {
      const moved = rehomeLeftovers(directory, options.workers)
      if (moved > 0) logger.warn({ directory, files: moved, workers: options.workers }, 'moved files left by a different number of workers')
    }
    if (options.workers > 1) {
      return runClusterPrimary({
        workers: options.workers,
        logger,
        stopSignal: io.stopSignal,
        // A worker's failure to start (the same for every worker: the sink, the port) is one line, once.
        onStartFailure: (message) => io.stderr.write(`logging-system serve: ${message}\n`),
        ...(options.admin ? { admin: options.admin } : {}),
      })
    }
  }
  const server = new LoggingServer({
    ...options.server,
    spoolDirectory: perWorkerDirectory(spoolDirectory, index),
    unsentDirectory: perWorkerDirectory(unsentDirectory, index),
    logger,
  })
  /** A failure to start: one line on stderr, one log line, nothing left running. */
  const failedToStart = async (err: unknown, port: number, host: string, flags?: FlagNames): Promise<number> => {
    const failure = startFailure(err as NodeJS.ErrnoException, port, host, flags)
    if (!failure) throw err
    logger.fatal({ code: (err as NodeJS.ErrnoException).code }, failure.message)
    // A worker tells its primary, which reports it once for all workers and stops them.
    if (cluster.isWorker) await reportStartFailureToPrimary(failure)
    else io.stderr.write(`logging-system serve: ${failure.message}\n`)
    await server.close().catch(() => {})
    await admin?.close()
    return failure.exitCode
  }
  // Metrics first, so the first requests are counted too.
  const metrics = options.admin ? createLoggingMetrics(server) : undefined
  let admin: AdminServer | undefined
  if (metrics && cluster.isWorker) shareMetricsWithPrimary(metrics.registry)
  else if (metrics && options.admin) {
    admin = createAdminServer(server, metrics)
    try {
      const address = await admin.listen(options.admin.port, options.admin.host)
      logger.info({ address: address.address, port: address.port }, 'admin listening')
    } catch (err) {
      return failedToStart(err, options.admin.port, options.admin.host, { ...FLAGS, port: '--admin-port', host: '--admin-host' })
    }
  }
  try {
    await server.listen(options.port, options.host)
  } catch (err) {
    return failedToStart(err, options.port, options.host)
  }
  if (cluster.isWorker) reportStatusToPrimary(server)
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
}
