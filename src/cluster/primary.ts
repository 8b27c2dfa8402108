/**
 * `serve --workers N`: the primary process of a node:cluster. N workers share
 * the listening port, each a whole LoggingServer with its own serverToken,
 * spool and batches. The primary restarts a worker that dies (the new one
 * recovers its spool), forwards SIGTERM/SIGINT, and exits with the worst exit
 * code. With an admin port, the primary serves it: metrics summed over the
 * workers (prom-client's AggregatorRegistry), readiness from every worker.
 */
import cluster, { type Worker } from 'node:cluster'

/**
 * V8's young generation per worker, MB: the logger's garbage is short-lived, and the default
 * (up to 16 MB per semi-space) showed as 50 MB more peak RSS at saturation with 64 KiB bodies
 * for the same CPU per request (bench/RESULTS.md). A flag the operator gave wins.
 */
export const WORKER_MAX_SEMI_SPACE_MB = 1

export function workerExecArgv(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  const given = [...execArgv, nodeOptions].some((arg) => /--max[-_]semi[-_]space[-_]size/.test(arg))
  return given ? [...execArgv] : [...execArgv, `--max-semi-space-size=${WORKER_MAX_SEMI_SPACE_MB}`]
}
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AggregatorRegistry } from 'prom-client'
import type { ServerLogger } from '../logger.js'

/** Environment variable telling a worker its stable index (0..N-1), kept across restarts. */
export const WORKER_INDEX_ENV = 'LOGGING_SYSTEM_WORKER_INDEX'
/** A worker that dies sooner than this after its start is restarted only after this delay (crash loops). */
const RESTART_BACKOFF_MS = 1000
/** A worker that dies this soon after its start failed to start (a port in use, a sink that fails its check). */
const IMMEDIATE_FAILURE_MS = 5000
/** On stop, a worker that has not listened yet is given this long to, before SIGTERM reaches it anyway. */
const STARTING_WORKER_STOP_GRACE_MS = 5000
/** After this many failures to start in a row, the primary gives up instead of restarting forever. */
export const MAX_START_FAILURES = 3

/** What a worker tells the primary about itself. */
export interface WorkerStatusMessage {
  type: 'logging-system:status'
  ready: boolean
  reason?: string
}

/**
 * A worker that could not start for a reason the operator must fix (the sink fails its check, the
 * port is taken): every worker would fail alike, so the primary says it once and stops.
 */
export interface WorkerStartFailureMessage {
  type: 'logging-system:start-failed'
  message: string
  exitCode: number
}

interface WorkerEntry {
  worker: Worker
  startedAt: number
  /** True once its server listens (and so handles SIGTERM). */
  listening: boolean
  status?: WorkerStatusMessage
}

export interface ClusterOptions {
  workers: number
  logger: ServerLogger
  stopSignal: Promise<string>
  /** Called once with the first worker start failure's line (the CLI writes it to stderr). */
  onStartFailure: (message: string) => void
  admin?: { port: number; host: string }
}

export async function runClusterPrimary(options: ClusterOptions): Promise<number> {
  const { logger } = options
  const workers = new Map<number, WorkerEntry>()
  let stopping = false
  let worstExitCode = 0
  const startFailures = new Map<number, number>()
  let giveUp!: (reason: string) => void
  const gaveUp = new Promise<string>((resolve) => (giveUp = resolve))
  let check: () => void = () => {}
  const allExited = new Promise<void>((resolve) => {
    check = () => stopping && workers.size === 0 && resolve()
    cluster.on('exit', (worker, code, signal) => {
      const index = [...workers].find(([, entry]) => entry.worker === worker)?.[0]
      if (index === undefined) return
      const entry = workers.get(index)!
      workers.delete(index)
      if (stopping) {
        worstExitCode = Math.max(worstExitCode, code ?? 1)
        logger.info({ worker: index, workerPid: worker.process.pid, code, signal }, 'worker stopped')
        check()
        return
      }
      const lived = Date.now() - entry.startedAt
      const failures = lived < IMMEDIATE_FAILURE_MS ? (startFailures.get(index) ?? 0) + 1 : 0
      startFailures.set(index, failures)
      if (failures >= MAX_START_FAILURES) {
        worstExitCode = Math.max(worstExitCode, code ?? 1)
        logger.error({ worker: index, workerPid: worker.process.pid, code, signal }, `worker ${index} failed to start ${failures} times in a row; giving up`)
        giveUp(`worker ${index} failed to start ${failures} times in a row`)
        check()
        return
      }
      const delay = lived < RESTART_BACKOFF_MS ? RESTART_BACKOFF_MS : 0
      logger.error({ worker: index, workerPid: worker.process.pid, code, signal, restartInMs: delay }, 'worker died; restarting it')
      setTimeout(() => (stopping ? check() : fork(index)), delay)
    })
  })

  let startFailureReported = false
  function startFailed(message: WorkerStartFailureMessage): void {
    if (startFailureReported) return
    startFailureReported = true
    options.onStartFailure(message.message)
    worstExitCode = Math.max(worstExitCode, message.exitCode)
    giveUp(message.message)
  }

  function fork(index: number): void {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index) })
    const entry: WorkerEntry = { worker, startedAt: Date.now(), listening: false }
    worker.once('listening', () => (entry.listening = true))
    workers.set(index, entry)
    worker.on('message', (message: WorkerStatusMessage | WorkerStartFailureMessage) => {
      if (message?.type === 'logging-system:status') entry.status = message
      else if (message?.type === 'logging-system:start-failed') startFailed(message)
    })
  }

  cluster.setupPrimary({ execArgv: workerExecArgv() })
  logger.info({ workers: options.workers }, 'starting workers')
  for (let index = 0; index < options.workers; index++) fork(index)

  const admin = options.admin ? await startClusterAdmin(options.admin, () => [...workers.values()].map((entry) => entry.status), options.workers) : undefined
  if (admin) logger.info({ address: admin.address().address, port: admin.address().port }, 'admin listening')

  const signal = await Promise.race([options.stopSignal, gaveUp])
  stopping = true
  logger.info({ signal }, 'stopping workers')
  // A worker still starting may not handle SIGTERM yet (it would die of it, unclean): it is told once it listens.
  for (const entry of workers.values()) {
    if (entry.listening) entry.worker.process.kill('SIGTERM')
    else {
      let told = false
      const tell = () => {
        if (told || entry.worker.isDead()) return
        told = true
        entry.worker.process.kill('SIGTERM')
      }
      entry.worker.once('listening', tell)
      // One that never gets to listen (a hung start) is stopped anyway.
      setTimeout(tell, STARTING_WORKER_STOP_GRACE_MS).unref()
    }
  }
  check()
  await allExited
  await admin?.close()
  return worstExitCode
}

async function startClusterAdmin(
  where: { port: number; host: string },
  statuses: () => Array<WorkerStatusMessage | undefined>,
  expected: number,
) {
  const aggregator = new AggregatorRegistry()
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n')
    if (path === '/healthz') return json(200, { status: 'alive', workers: statuses().length })
    if (path === '/readyz') {
      const all = statuses()
      const notReady = all.filter((status) => !status?.ready)
      const ready = all.length === expected && notReady.length === 0
      return json(ready ? 200 : 503, {
        status: ready ? 'ready' : 'not ready',
        workers: all.length,
        ...(ready ? {} : { reasons: notReady.map((status) => status?.reason ?? 'starting') }),
      })
    }
    if (path === '/metrics') {
      aggregator.clusterMetrics().then(
        (text) => res.writeHead(200, { 'content-type': aggregator.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      )
      return
    }
    json(404, { error: `no such endpoint ${path}; try /healthz, /readyz or /metrics` })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(where.port, where.host, resolve)
  })
  return {
    address: () => server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
