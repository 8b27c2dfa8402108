/**
 * `stats`: live counts per bucket, type and time slot for the last hours
 * (seed 003, "48h stats"), in memory: fast answers for "how many events of
 * this type in the last hour" without a query. The store stays the truth;
 * after a restart counts start again from zero.
 */
import { InvalidOptionError } from '../errors.js'
import { positiveInteger } from '../option-checks.js'
import type { EventRecord } from '../model/event-record.js'
import { typeText, type Processor, type ProcessorKind } from './processor.js'

export interface StatsProcessorOptions {
  /** Width of a slot, seconds. Default: 3600 (hours). */
  slotSeconds?: number
  /** Slots kept, counted back from now. Default: 48. */
  slots?: number
  /** Which time puts an event in a slot. Default: `serverTime`. */
  time?: 'serverTime' | 'clientTime'
}

export interface StatsCount {
  bucket: string
  type: string
  /** Start of the slot, ms since 1970. */
  slotStart: number
  count: number
}

export interface StatsProcessor extends Processor {
  /** Counts by bucket, type and slot, oldest slot first. */
  counts(): StatsCount[]
}

export const statsProcessor: ProcessorKind<StatsProcessorOptions> = {
  kind: 'stats',
  description: 'Counts events per bucket, type and time slot for the last hours, in memory.',
  create(options, context): StatsProcessor {
    const slotMs = positiveInteger('stats.slotSeconds', options.slotSeconds, 3600) * 1000
    const slots = positiveInteger('stats.slots', options.slots, 48)
    const time = options.time ?? 'serverTime'
    if (time !== 'serverTime' && time !== 'clientTime') throw new InvalidOptionError('stats.time', 'must be serverTime or clientTime')
    // slotStart -> JSON [bucket, type] -> count
    const table = new Map<number, Map<string, number>>()
    const oldestKept = () => (Math.floor(context.now() / slotMs) - slots + 1) * slotMs
    const prune = () => {
      const oldest = oldestKept()
      for (const slot of table.keys()) if (slot < oldest) table.delete(slot)
    }
    return {
      async process(events: readonly EventRecord[]) {
        const oldest = oldestKept()
        for (const event of events) {
          const slot = Math.floor(event[time] / slotMs) * slotMs
          if (slot < oldest) continue
          let counts = table.get(slot)
          if (!counts) table.set(slot, (counts = new Map()))
          const id = JSON.stringify([event.bucket, typeText(event)])
          counts.set(id, (counts.get(id) ?? 0) + 1)
        }
        prune()
      },
      counts() {
        prune()
        const out: StatsCount[] = []
        for (const slot of [...table.keys()].sort((a, b) => a - b)) {
          for (const [id, count] of table.get(slot)!) {
            const [bucket, type] = JSON.parse(id) as [string, string]
            out.push({ bucket, type, slotStart: slot, count })
          }
        }
        return out
      },
    }
  },
}
