/**
 * `forward`: runs a Forwarder for one destination in the background while the
 * server runs. It reads the store from its checkpoint (so nothing committed
 * is missed across restarts); `process()` only wakes it up so events go out
 * as they arrive instead of at the next poll.
 */
import { Forwarder, type ForwarderOptions } from '../forward/forwarder.js'
import type { EventStore } from '../store/event-store.js'
import type { Processor, ProcessorConfig, ProcessorKind } from './processor.js'

/** The forwarder's options; `name`, `buckets` and `types` come from the processor's config. */
export type ForwardProcessorOptions = Omit<ForwarderOptions, 'store' | 'name' | 'buckets' | 'types' | 'onError'>

export interface ForwardProcessor extends Processor {
  readonly forwarder: Forwarder
}

export const forwardProcessor: ProcessorKind<ForwardProcessorOptions> = {
  kind: 'forward',
  description: 'Sends events, as they arrive, to a Segment-compatible API, a Mixpanel /track or a webhook; at-least-once, with a dead-letter store.',
  create(options, context, config): ForwardProcessor {
    const forwarder = forwarderOf(config, context.store, context.onError)
    return {
      forwarder,
      async start() {
        await forwarder.deadLetters.open()
        forwarder.start()
      },
      async process() {
        forwarder.nudge()
      },
      async close() {
        await forwarder.stop()
      },
    }
  },
}

/** The Forwarder a `forward` processor config describes (also used by the forward and dead-letters commands). */
export function forwarderOf(config: ProcessorConfig, store: EventStore, onError?: (error: Error) => void): Forwarder {
  const options = (config.options ?? {}) as unknown as ForwardProcessorOptions
  return new Forwarder({
    ...options,
    name: config.name ?? 'forward',
    store,
    ...(config.buckets ? { buckets: config.buckets } : {}),
    ...(config.types ? { types: config.types } : {}),
    ...(onError ? { onError } : {}),
  })
}
