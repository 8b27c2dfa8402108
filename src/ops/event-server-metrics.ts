/**
 * Prometheus metrics of an EventServer (prom-client), on a registry of its
 * own. It is an IngestObserver: direct posts and the tailer report to it.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { BatchResult, IngestObserver, IngestOrigin, TailedBatch } from '../ingest/ingest-observer.js'
import type { WriteResult } from '../store/event-store.js'

export interface EventServerMetrics extends IngestObserver {
  registry: Registry
  render(): Promise<string>
  contentType: string
}

const ORIGINS: IngestOrigin[] = ['direct', 'tail']
const BATCH_RESULTS: BatchResult[] = ['read', 'damaged', 'unreadable']

export function createEventServerMetrics(registry = new Registry()): EventServerMetrics {
  const stored = new Counter({ name: 'events_stored_total', help: 'Events newly stored, by origin (direct post or tail).', labelNames: ['origin'], registers: [registry] })
  const duplicates = new Counter({ name: 'events_duplicates_total', help: 'Events whose (bucket, key) was already stored, by origin.', labelNames: ['origin'], registers: [registry] })
  const commitFailures = new Counter({ name: 'events_store_commit_failures_total', help: 'Store writes that failed (nothing of them stored), by origin.', labelNames: ['origin'], registers: [registry] })
  const commitSeconds = new Histogram({
    name: 'events_store_commit_seconds',
    help: 'Time a store write took to commit, by origin.',
    labelNames: ['origin'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  const batches = new Counter({ name: 'events_tail_batches_total', help: 'Batches tailed, by result (read, damaged, unreadable).', labelNames: ['result'], registers: [registry] })
  const tailedEvents = new Counter({ name: 'events_tail_events_total', help: 'Events decoded from tailed batches.', registers: [registry] })
  const skipped = new Counter({ name: 'events_tail_requests_skipped_total', help: 'Logged requests that gave no events, by reason (undecodable, incomplete, possibly-partial, not-complete:<outcome>).', labelNames: ['reason'], registers: [registry] })
  const problems = new Counter({ name: 'events_tail_problems_total', help: 'Problems the tailer logged, by kind.', labelNames: ['kind'], registers: [registry] })
  const lag = new Gauge({ name: 'events_tail_lag_seconds', help: 'Age of the oldest listed batch not yet ingested (0 when caught up).', registers: [registry] })
  const lastBatch = new Gauge({ name: 'events_tail_last_batch_start_seconds', help: 'Start time (unix seconds) of the last batch ingested.', registers: [registry] })

  for (const origin of ORIGINS) {
    stored.inc({ origin }, 0)
    duplicates.inc({ origin }, 0)
    commitFailures.inc({ origin }, 0)
  }
  for (const result of BATCH_RESULTS) batches.inc({ result }, 0)
  for (const reason of ['undecodable', 'incomplete', 'possibly-partial']) skipped.inc({ reason }, 0)
  lag.set(0)

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    committed(origin: IngestOrigin, result: WriteResult, seconds: number) {
      stored.inc({ origin }, result.stored)
      duplicates.inc({ origin }, result.duplicates)
      commitSeconds.observe({ origin }, seconds)
    },
    commitFailed(origin: IngestOrigin) {
      commitFailures.inc({ origin })
    },
    batchTailed(batch: TailedBatch) {
      batches.inc({ result: batch.result })
      tailedEvents.inc(batch.events)
      lastBatch.set(batch.startTime / 1000)
    },
    requestSkipped(reason: string) {
      skipped.inc({ reason })
    },
    problem(problem) {
      problems.inc({ kind: problem.kind })
    },
    tailLag(seconds: number) {
      lag.set(seconds)
    },
  }
}
