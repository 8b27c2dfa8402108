/**
 * Processors: everything downstream of decoding and the durable store write
 * (seed 003, "Processors": new processing added "without touching the
 * existing functionality"). One interface; one file per kind; one line in
 * src/processors/registry.ts (or one `registerProcessor` call from outside)
 * to make a kind configurable. Each configured processor sees only the events
 * of its buckets and types.
 */
import type { EventRecord } from '../model/event-record.js'
import type { EventStore } from '../store/event-store.js'

/** What a processor may use: the store the events were committed to, a clock, and a place for errors it cannot throw. */
export interface ProcessorContext {
  store: EventStore
  /** Ms since 1970. */
  now(): number
  /** A failure outside `process()` (a timer's run, a background loop); the pipeline counts and reports it. */
  onError(error: Error): void
}

/** One configured processor instance. */
export interface Processor {
  /** Called once before the first `process()`: open files, start timers or loops. */
  start?(): Promise<void>
  /**
   * Events just committed to the store, in commit order; only those matching
   * the processor's buckets and types. A client resending a batch can make an
   * event arrive twice: use `eventDedupId` where that matters.
   * Should return quickly (it runs in the ingest path); slow work belongs in a
   * background loop that reads the store (as `forward` does).
   */
  process(events: readonly EventRecord[]): Promise<void>
  /** Stop timers, flush, release. */
  close?(): Promise<void>
}

/** A kind of processor: a name for configuration and a factory. */
export interface ProcessorKind<Options = Record<string, unknown>> {
  /** The name used in `ProcessorConfig.kind`, e.g. `ndjson-file`. */
  kind: string
  /** One line for listings and docs. */
  description: string
  /** Validates `options` (throw InvalidOptionError) and builds the processor. */
  create(options: Options, context: ProcessorContext, config: ProcessorConfig): Processor
}

/** One entry of the `processors` option: which kind, for which events, with what options. */
export interface ProcessorConfig {
  kind: string
  /** Names this instance in reports, errors and `pipeline.get()`. Default: the kind. Unique within a pipeline. */
  name?: string
  /** Only events of these buckets. Default: every bucket. */
  buckets?: readonly string[]
  /** Only events of these types (their text form: integer types as decimal digits). Default: every type. */
  types?: readonly string[]
  /** The kind's own options (see its docs). Default: {}. */
  options?: Record<string, unknown>
}

/** The type in its text form, as in the store's `type` column. */
export function typeText(event: Pick<EventRecord, 'type'>): string {
  return typeof event.type === 'number' ? String(event.type) : event.type
}
