/**
 * Runs the configured processors on events after the store committed them.
 * The EventServer's ingest path calls `process(events)` once per committed
 * write; each processor gets the events of its buckets and types, in order.
 * A processor's failure never fails the write (it is already durable): it is
 * counted and handed to `onError`.
 */
import { InvalidOptionError } from '../errors.js'
import type { EventRecord } from '../model/event-record.js'
import type { EventStore } from '../store/event-store.js'
import type { Processor, ProcessorConfig, ProcessorContext } from './processor.js'
import { typeText } from './processor.js'
import { defaultProcessorRegistry, type ProcessorRegistry } from './registry.js'

export interface ProcessorPipelineOptions {
  store: EventStore
  /** Kinds by name. Default: defaultProcessorRegistry (built-ins plus registerProcessor calls). */
  registry?: ProcessorRegistry
  /** Failures of processors, with the processor's name. Default: written to stderr. */
  onError?: (error: Error, processor: string) => void
  /** Ms since 1970. Default: Date.now. */
  now?: () => number
}

export interface ProcessorStats {
  name: string
  kind: string
  /** Events handed to it. */
  events: number
  /** Failed `process()` calls and background failures it reported. */
  errors: number
}

interface Entry {
  name: string
  kind: string
  buckets: Set<string> | undefined
  types: Set<string> | undefined
  processor: Processor
  stats: ProcessorStats
}

function stringList(value: unknown, option: string): Set<string> | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new InvalidOptionError(option, 'must be an array of strings')
  return new Set(value as string[])
}

export class ProcessorPipeline {
  private readonly entries: Entry[] = []
  private started = false
  private closed = false

  private constructor() {}

  /** Builds every configured processor (validating all configs first) and starts them in order. */
  static async start(configs: readonly ProcessorConfig[], options: ProcessorPipelineOptions): Promise<ProcessorPipeline> {
    if (!Array.isArray(configs)) throw new InvalidOptionError('processors', 'must be an array of { kind, name?, buckets?, types?, options? }')
    const registry = options.registry ?? defaultProcessorRegistry
    const onError = options.onError ?? ((error, name) => process.stderr.write(`processor ${name}: ${error.stack ?? error.message}\n`))
    const pipeline = new ProcessorPipeline()
    const names = new Set<string>()
    configs.forEach((config, index) => {
      const where = `processors[${index}]`
      if (!config || typeof config.kind !== 'string') throw new InvalidOptionError(`${where}.kind`, 'is required')
      const kind = registry.get(config.kind)
      const name = config.name ?? config.kind
      if (names.has(name)) throw new InvalidOptionError(`${where}.name`, `${JSON.stringify(name)} is used twice; give each a distinct name`)
      names.add(name)
      const stats: ProcessorStats = { name, kind: kind.kind, events: 0, errors: 0 }
      const context: ProcessorContext = {
        store: options.store,
        now: options.now ?? Date.now,
        onError: (error) => {
          stats.errors++
          onError(error, name)
        },
      }
      pipeline.entries.push({
        name,
        kind: kind.kind,
        buckets: stringList(config.buckets, `${where}.buckets`),
        types: stringList(config.types, `${where}.types`),
        processor: kind.create(config.options ?? {}, context, config),
        stats,
      })
    })
    pipeline.onError = onError
    try {
      for (const entry of pipeline.entries) await entry.processor.start?.()
    } catch (err) {
      await pipeline.close()
      throw err
    }
    pipeline.started = true
    return pipeline
  }

  private onError: (error: Error, processor: string) => void = () => {}

  /**
   * Hands committed events to every processor whose filter they match, one
   * processor after another. Never rejects; resolves when all have taken them.
   */
  async process(events: readonly EventRecord[]): Promise<void> {
    if (!this.started || this.closed || events.length === 0) return
    for (const entry of this.entries) {
      const mine = entry.buckets || entry.types ? events.filter((event) => matches(entry, event)) : events
      if (mine.length === 0) continue
      entry.stats.events += mine.length
      try {
        await entry.processor.process(mine)
      } catch (err) {
        entry.stats.errors++
        this.onError(err as Error, entry.name)
      }
    }
  }

  /** The processor configured under `name` (the kind when unnamed), to look inside it. */
  get<T extends Processor = Processor>(name: string): T | undefined {
    return this.entries.find((entry) => entry.name === name)?.processor as T | undefined
  }

  stats(): ProcessorStats[] {
    return this.entries.map((entry) => ({ ...entry.stats }))
  }

  /** Closes every processor, last started first; the first failure is rethrown after all are closed. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    let first: unknown
    for (const entry of [...this.entries].reverse()) {
      try {
        await entry.processor.close?.()
      } catch (err) {
        first ??= err
      }
    }
    if (first) throw first
  }
}

function matches(entry: Entry, event: EventRecord): boolean {
  return (!entry.buckets || entry.buckets.has(event.bucket)) && (!entry.types || entry.types.has(typeText(event)))
}
