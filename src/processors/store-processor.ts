/**
 * `store`: writes the events into a second EventStore as well (a ClickHouse
 * copy of an embedded DuckDB, a backup file). Duplicates are skipped by the
 * target as by any store. Programmatic only: `options.target` is a store object.
 */
import { InvalidOptionError } from '../errors.js'
import type { EventStore } from '../store/event-store.js'
import type { ProcessorKind } from './processor.js'

export interface StoreProcessorOptions {
  /** The store to copy into. Required. */
  target: EventStore
  /** Open it on start and close it on close. Default: true. */
  manage?: boolean
}

export const storeProcessor: ProcessorKind<StoreProcessorOptions> = {
  kind: 'store',
  description: 'Writes every event into another EventStore too.',
  create(options) {
    const target = options.target
    if (!target || typeof target.write !== 'function') throw new InvalidOptionError('store.target', 'must be an EventStore')
    const manage = options.manage ?? true
    return {
      async start() {
        if (manage) await target.open()
      },
      async process(events) {
        await target.write({ events })
      },
      async close() {
        if (manage) await target.close()
      },
    }
  },
}
