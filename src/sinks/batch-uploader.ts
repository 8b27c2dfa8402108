/**
 * Hands sealed batches to a sink one at a time, in order, retrying a failed
 * write with backoff for as long as it takes. Capture never waits on it: it
 * only queues. A batch leaves the queue only once the sink has stored it.
 */
import { InvalidOptionError, UnsentBatchesError } from '../errors.js'
import type { SealedBatch } from '../batch/batch-writer.js'
import { DEFAULT_RETRY_POLICY, normalizeRetryPolicy, retryDelay, type RetryPolicy } from '../retry-policy.js'
import type { Sink } from './sink.js'

export interface UploadReport {
  batch: SealedBatch
  attempts: number
  /** From the first attempt to success, ms. */
  durationMs: number
}

export interface BatchUploaderOptions {
  sink: Sink
  /** Backoff between attempts. Default: DEFAULT_RETRY_POLICY; maxRetries must stay Infinity (a batch is never given up). */
  retryPolicy?: Partial<RetryPolicy>
  /** Called after each stored batch. */
  onStored?: (report: UploadReport) => void
  /** Called after each failed attempt, with the delay before the next one. */
  onAttemptFailed?: (batch: SealedBatch, error: Error, attempt: number, retryInMs: number) => void
}

export class BatchUploader {
  private readonly queue: SealedBatch[] = []
  private readonly options: BatchUploaderOptions & { retryPolicy: RetryPolicy }
  private running = false
  private queuedBytes = 0
  private consecutiveFailures = 0
  private wakeUp: (() => void) | undefined
  private idleWaiters: Array<() => void> = []
  private stopped = false

  constructor(options: BatchUploaderOptions) {
    const retryPolicy = normalizeRetryPolicy(options.retryPolicy, DEFAULT_RETRY_POLICY, 'retryPolicy')
    if (retryPolicy.maxRetries !== Infinity) {
      throw new InvalidOptionError('retryPolicy.maxRetries', 'the uploader never gives up on a batch; leave maxRetries at Infinity')
    }
    this.options = { ...options, retryPolicy }
  }

  /** Bytes of compressed batches not yet stored. */
  get backlogBytes(): number {
    return this.queuedBytes
  }

  get backlogBatches(): number {
    return this.queue.length
  }

  /** True while the last attempt failed and the sink has not yet succeeded since. */
  get failing(): boolean {
    return this.consecutiveFailures > 0
  }

  /** Start time of the oldest batch not yet stored. */
  get oldestPendingStartTime(): number | undefined {
    return this.queue[0]?.startTime
  }

  enqueue(batch: SealedBatch): void {
    this.queue.push(batch)
    this.queuedBytes += batch.body.byteLength
    if (!this.running) void this.run()
  }

  /**
   * Resolves once every queued batch is stored. With a deadline, gives up
   * waiting at that time (ms since 1970) and rejects with UnsentBatchesError
   * naming each batch still queued; those batches stay queued.
   */
  async drain(deadline?: number): Promise<void> {
    if (this.queue.length === 0) return
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    if (deadline === undefined) return idle
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()))
    })
    // Retry right away rather than sleep through the little time left.
    this.wakeUp?.()
    const result = await Promise.race([idle, timeout])
    clearTimeout(timer)
    if (result === 'timeout' && this.queue.length > 0) {
      const keys = this.queue.map((batch) => batch.key)
      throw new UnsentBatchesError(keys, `${keys.length} batch(es) not stored by the deadline: ${keys.join(', ')}`)
    }
  }

  /** Stops retrying; queued batches stay in `pending()` for the caller to save elsewhere. */
  stop(): void {
    this.stopped = true
    this.wakeUp?.()
  }

  /** Batches not yet stored, oldest first. */
  pending(): SealedBatch[] {
    return [...this.queue]
  }

  private async run(): Promise<void> {
    this.running = true
    while (this.queue.length > 0 && !this.stopped) {
      const batch = this.queue[0]!
      const started = Date.now()
      for (let attempt = 1; !this.stopped; attempt++) {
        try {
          await this.options.sink.put(batch.key, batch.body)
          this.consecutiveFailures = 0
          this.queue.shift()
          this.queuedBytes -= batch.body.byteLength
          batch.settle()
          this.options.onStored?.({ batch, attempts: attempt, durationMs: Date.now() - started })
          break
        } catch (err) {
          this.consecutiveFailures++
          const delay = retryDelay(this.options.retryPolicy, attempt)
          this.options.onAttemptFailed?.(batch, err as Error, attempt, delay)
          await this.sleep(delay)
        }
      }
    }
    this.running = false
    if (this.queue.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wakeUp = () => {
        this.wakeUp = undefined
        done()
      }
    })
  }
}
