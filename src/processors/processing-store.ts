/**
 * The EventServer's hook for processors: an EventStore that is the given
 * store plus a processor pipeline. open() opens the store and then starts the
 * processors; write() commits through the store and then hands the batch's
 * events to the processors (after the commit: a 2xx still means durably
 * stored, and a failing processor never fails the write); close() stops the
 * processors and then closes the store. Wrapping the store covers every
 * ingest path at once (direct posts and tailing).
 */
import type { EventStore, RangeQuery, WriteBatch, WriteResult } from '../store/event-store.js'
import { ProcessorPipeline, type ProcessorPipelineOptions } from './pipeline.js'
import type { ProcessorConfig } from './processor.js'

export class ProcessingEventStore implements EventStore {
  readonly kind: EventStore['kind']
  readonly sql: EventStore['sql']
  private pipelineInstance: ProcessorPipeline | undefined

  constructor(
    readonly inner: EventStore,
    private readonly configs: readonly ProcessorConfig[],
    private readonly options: Omit<ProcessorPipelineOptions, 'store'> = {},
  ) {
    this.kind = inner.kind
    this.sql = inner.sql
  }

  /** The running pipeline (after open()). */
  get pipeline(): ProcessorPipeline | undefined {
    return this.pipelineInstance
  }

  async open(): Promise<void> {
    await this.inner.open()
    try {
      this.pipelineInstance = await ProcessorPipeline.start(this.configs, { ...this.options, store: this.inner })
    } catch (err) {
      await this.inner.close()
      throw err
    }
  }

  async close(): Promise<void> {
    try {
      await this.pipelineInstance?.close()
    } finally {
      await this.inner.close()
    }
  }

  async write(batch: WriteBatch): Promise<WriteResult> {
    const result = await this.inner.write(batch)
    await this.pipelineInstance?.process(batch.events)
    return result
  }

  read(query: RangeQuery) {
    return this.inner.read(query)
  }

  buckets() {
    return this.inner.buckets()
  }

  checkpoints(prefix?: string) {
    return this.inner.checkpoints(prefix)
  }

  rejects(limit?: number) {
    return this.inner.rejects(limit)
  }
}
