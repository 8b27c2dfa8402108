/**
 * What ingestion reports as it works. Metrics (src/ops/event-server-metrics.ts)
 * and logs implement it; ingestion never imports them, so data flows one way.
 * Every method is optional.
 */
import type { ReadProblem } from '../reader/batch-reader.js'
import type { WriteResult } from '../store/event-store.js'

/** Where events came in: a direct post to the EventServer, or a tailed batch. */
export type IngestOrigin = 'direct' | 'tail'

/** Something the tailer could not use, or could not do; always logged and counted, never silent. */
export type TailProblem =
  | ReadProblem
  | { kind: 'list-failed'; source: string; reason: string }
  | { kind: 'read-retry'; key: string; attempt: number; reason: string }
  | { kind: 'store-failed'; key: string; reason: string }
  | { kind: 'stale-requests'; serverToken: string; reqIds: number[] }
  /** Direct posts: a group commit stored other counts than its per-request counts said (a concurrent writer). */
  | { kind: 'count-mismatch'; expected: number; stored: number }

export type BatchResult = 'read' | 'damaged' | 'unreadable'

export interface TailedBatch {
  key: string
  serverToken: string
  batchNumber: number
  /** The batch's start time (ms), from its key. */
  startTime: number
  result: BatchResult
  requests: number
  events: number
  rejects: number
}

export interface IngestObserver {
  /** A store write committed: its counts and how long the commit took. */
  committed?(origin: IngestOrigin, result: WriteResult, seconds: number): void
  /** A store write failed; nothing of it is stored. */
  commitFailed?(origin: IngestOrigin, error: Error): void
  /** A batch was handled and its checkpoint committed. */
  batchTailed?(batch: TailedBatch): void
  /** A logged request gave no events: undecodable (kept as a reject), incomplete, possibly partial ... */
  requestSkipped?(reason: string): void
  problem?(problem: TailProblem): void
  /** How far behind the tailer is: age in seconds of the oldest listed batch not yet handled (0 when caught up). */
  tailLag?(seconds: number): void
}
