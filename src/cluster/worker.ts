/**
 * What a `serve --workers N` worker does besides being a LoggingServer: it
 * knows its stable index (kept across restarts), keeps its spool and unsent
 * batches in its own folder, hands its metrics to the primary and reports
 * its readiness to it once a second.
 */
import cluster from 'node:cluster'
import { join } from 'node:path'
import { AggregatorRegistry, type Registry } from 'prom-client'
import type { LoggingServer } from '../servers/logging-server.js'
import { WORKER_INDEX_ENV, type WorkerStartFailureMessage, type WorkerStatusMessage } from './primary.js'

/** This worker's index (0..N-1), or undefined outside a cluster worker. */
export function workerIndex(): number | undefined {
  const index = cluster.isWorker ? process.env[WORKER_INDEX_ENV] : undefined
  return index === undefined ? undefined : Number(index)
}

/** `<directory>/worker-<i>` in a worker (found again by the worker that replaces it), `directory` otherwise. */
export function perWorkerDirectory(directory: string, index = workerIndex()): string {
  return index === undefined ? directory : join(directory, `worker-${index}`)
}

/** The primary serves the admin port: it aggregates the workers' metrics through prom-client. */
export function shareMetricsWithPrimary(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry])
  // Constructing one installs prom-client's listener that answers the primary.
  new AggregatorRegistry()
}

/** Tells the primary now, and then every second, whether this worker is ready (for the primary's /readyz). */
export function reportStatusToPrimary(server: LoggingServer): void {
  const report = () => {
    const status = server.status()
    const reason = status.unavailable ?? (status.sinkFailing ? 'the sink is failing' : undefined)
    if (process.connected) process.send?.({ type: 'logging-system:status', ready: server.ready, ...(reason ? { reason } : {}) } satisfies WorkerStatusMessage)
  }
  report()
  setInterval(report, 1000).unref()
}

/**
 * Tells the primary why this worker could not start (it prints the line once and stops every
 * worker); resolves once the message is sent, since the worker exits right after.
 */
export function reportStartFailureToPrimary(failure: { message: string; exitCode: number }): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve()
    process.send({ type: 'logging-system:start-failed', ...failure } satisfies WorkerStartFailureMessage, undefined, {}, () => resolve())
  })
}
