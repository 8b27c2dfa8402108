/**
 * Prometheus metrics of a LoggingServer (prom-client), on a registry of its
 * own so several servers in one process do not collide. Counters follow the
 * server's events; gauges read its status when scraped, so nothing is
 * computed while nobody asks.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { OUTCOME_NAMES } from '../formats/batch-v1/http-events.js'
import type { LoggingServer } from '../servers/logging-server.js'

export interface LoggingMetrics {
  registry: Registry
  /** Prometheus text exposition. */
  render(): Promise<string>
  contentType: string
}

export function createLoggingMetrics(server: LoggingServer, registry = new Registry()): LoggingMetrics {
  const requests = new Counter({ name: 'logging_requests_total', help: 'Requests logged, by outcome.', labelNames: ['outcome'], registers: [registry] })
  const bodyBytes = new Counter({ name: 'logging_request_body_bytes_total', help: 'Request body bytes logged.', registers: [registry] })
  const rejected = new Counter({ name: 'logging_rejected_total', help: 'Requests refused, by status (413 too large, 503 unavailable).', labelNames: ['status'], registers: [registry] })
  const stored = new Counter({ name: 'logging_batches_stored_total', help: 'Batches stored in the sink.', registers: [registry] })
  const storedBytes = new Counter({ name: 'logging_batch_bytes_stored_total', help: 'Compressed bytes stored in the sink.', registers: [registry] })
  const failed = new Counter({ name: 'logging_batch_store_failures_total', help: 'Failed attempts to store a batch (each is retried).', registers: [registry] })
  const uploadSeconds = new Histogram({
    name: 'logging_batch_upload_seconds',
    help: 'Time from the first attempt to store a batch to its success.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  })
  const status = () => server.status()
  new Gauge({ name: 'logging_backlog_bytes', help: 'Compressed bytes of batches waiting for the sink.', registers: [registry], collect() { this.set(status().backlogBytes) } })
  new Gauge({ name: 'logging_backlog_batches', help: 'Batches waiting for the sink.', registers: [registry], collect() { this.set(status().backlogBatches) } })
  new Gauge({ name: 'logging_spool_bytes', help: 'Bytes in spool segments not yet released.', registers: [registry], collect() { this.set(status().spoolBytes) } })
  new Gauge({
    name: 'logging_oldest_unsent_batch_age_seconds',
    aggregator: 'max',
    help: 'Age of the oldest batch not yet stored (0 when none).',
    registers: [registry],
    collect() {
      const oldest = status().oldestUnsentStartTime
      this.set(oldest === undefined ? 0 : (Date.now() - oldest) / 1000)
    },
  })
  new Gauge({ name: 'logging_sink_failing', help: 'Processes whose last attempt to store a batch failed (1 or 0 per process).', registers: [registry], collect() { this.set(status().sinkFailing ? 1 : 0) } })

  for (const name of Object.values(OUTCOME_NAMES)) requests.inc({ outcome: name }, 0)
  for (const code of ['413', '503']) rejected.inc({ status: code }, 0)
  server.on('request', ({ outcome, bytes }) => {
    requests.inc({ outcome: OUTCOME_NAMES[outcome] })
    bodyBytes.inc(bytes)
  })
  server.on('rejected', ({ status: code }) => rejected.inc({ status: String(code) }))
  server.on('batchStored', ({ batch, durationMs }) => {
    stored.inc()
    storedBytes.inc(batch.body.byteLength)
    uploadSeconds.observe(durationMs / 1000)
  })
  server.on('batchFailed', () => failed.inc())

  return { registry, render: () => registry.metrics(), contentType: registry.contentType }
}
