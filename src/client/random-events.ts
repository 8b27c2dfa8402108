/**
 * Random events for load tests and demos (seed 003's reg.sh): random types,
 * users and times between two dates. Pure: the same seed gives the same events.
 */
import type { LogEvent } from '../formats/json-events.js'

export const RANDOM_EVENT_TYPES = ['page_view', 'click', 'signup', 'login', 'logout', 'add_to_cart', 'purchase', 'search', 'share', 'error'] as const
const PAGES = ['/', '/pricing', '/docs', '/blog', '/signup', '/cart', '/checkout', '/account']
const BROWSERS = ['firefox', 'chrome', 'safari', 'edge']

/** A seeded generator of floats in [0, 1) (mulberry32): small, fast, and good enough for test data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface RandomEventOptions {
  /** Earliest clientTime, ms since 1970 (inclusive). */
  startMs: number
  /** Latest clientTime, ms since 1970 (inclusive). */
  endMs: number
  /** Prefix of every key; keys are `${keyPrefix}-${index}`, so one run never repeats a key. */
  keyPrefix: string
  /** Number of distinct users. Default: 50. */
  users?: number
}

/** Event number `index` of a run: random type, user and time; the key is unique within the run. */
export function randomEvent(random: () => number, index: number, options: RandomEventOptions): LogEvent {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const type = pick(RANDOM_EVENT_TYPES)
  const user = `user-${1 + Math.floor(random() * (options.users ?? 50))}`
  const clientTime = options.startMs + Math.floor(random() * (options.endMs - options.startMs + 1))
  const value: LogEvent['value'] = { user, page: pick(PAGES), browser: pick(BROWSERS) }
  if (type === 'purchase' || type === 'add_to_cart') value.amountCents = 100 + Math.floor(random() * 20_000)
  if (type === 'search') value.query = pick(['shoes', 'logging', 'msgpack', 's3 pricing', 'fastify'])
  return { key: `${options.keyPrefix}-${index}`, type, value, clientTime }
}

/** `count` events, numbered from `firstIndex`. */
export function randomEvents(random: () => number, firstIndex: number, count: number, options: RandomEventOptions): LogEvent[] {
  const events: LogEvent[] = []
  for (let i = 0; i < count; i++) events.push(randomEvent(random, firstIndex + i, options))
  return events
}
