/**
 * The EventServer's hook for processors: an EventStore that is the given
 * store plus a processor pipeline. write() commits through the store and then
 * hands the batch's events to the processors (after the commit: a 2xx still
 * means durably stored, and a failing processor never fails the write);
 * close() stops the processors and then closes the store. Wrapping the store
 * covers every ingest path at once (direct posts and tailing).
 *
 * The processors start with start() (or open(), which opens the wrapped store
 * first); a write before that starts them, so no committed event skips them.
 */
import type { EventStore, RangeQuery, WriteBatch, WriteResult } from '../store/event-store.js'
import { ProcessorPipeline, type ProcessorPipelineOptions } from './pipeline.js'
import type { ProcessorConfig } from './processor.js'

export class ProcessingEventStore implements EventStore {
  readonly kind: EventStore['kind']
  readonly sql: EventStore['sql']
  private pipelineInstance: ProcessorPipeline | undefined
  private starting: Promise<void> | undefined
  private readonly onError: (error: Error, processor: string) => void

  /** Wraps a store that is already open (as openEventStore returns it) and starts the processors. */
  static async wrap(store: EventStore, configs: readonly ProcessorConfig[], options: Omit<ProcessorPipelineOptions, 'store'> = {}): Promise<ProcessingEventStore> {
    const wrapped = new ProcessingEventStore(store, configs, options)
    await wrapped.start()
    return wrapped
  }

  constructor(
    readonly inner: EventStore,
    private readonly configs: readonly ProcessorConfig[],
    private readonly options: Omit<ProcessorPipelineOptions, 'store'> = {},
  ) {
    this.kind = inner.kind
    this.sql = inner.sql
    this.onError = options.onError ?? ((error, name) => process.stderr.write(`processor ${name}: ${error.stack ?? error.message}\n`))
  }

  /** The running pipeline (after start()). */
  get pipeline(): ProcessorPipeline | undefined {
    return this.pipelineInstance
  }

  /** Starts the processors (once); the wrapped store must be open. A bad configuration rejects here. */
  start(): Promise<void> {
    this.starting ??= ProcessorPipeline.start(this.configs, { ...this.options, onError: this.onError, store: this.inner }).then((pipeline) => {
      this.pipelineInstance = pipeline
    })
    return this.starting
  }

  /** Opens the wrapped store, then starts the processors. */
  async open(): Promise<void> {
    await this.inner.open()
    try {
      await this.start()
    } catch (err) {
      await this.inner.close()
      throw err
    }
  }

  async close(): Promise<void> {
    try {
      await this.starting?.catch(() => undefined)
      await this.pipelineInstance?.close()
    } finally {
      await this.inner.close()
    }
  }

  async write(batch: WriteBatch): Promise<WriteResult> {
    const result = await this.inner.write(batch)
    if (batch.events.length > 0) {
      try {
        await this.start()
        await this.pipelineInstance!.process(batch.events)
      } catch (err) {
        // The processors could not start: the events are stored, and the failure is reported, not thrown.
        this.onError(err as Error, 'processors')
      }
    }
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
