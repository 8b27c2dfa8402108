/**
 * Seeded seed-003 events for the analytics tests, and the answers computed
 * here, independently of src/analytics: plain loops over the list of events
 * the test posted (brute force where the library is clever).
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { seededRandom } from '../../src/client/random-events.js'
import { analyticsRoutes, type AnalyticsRoutesOptions } from '../../src/servers/analytics-routes.js'

export const HOUR = 3_600_000
export const DAY = 86_400_000
/** The server clock of the fixture: 2026-11-20T12:34:56.789Z. */
export const NOW = Date.UTC(2026, 10, 20, 12, 34, 56, 789)
export const TYPES = ['view', 'click', 'signup', 'purchase', 'share'] as const

export interface SeededEvent {
  /** Creation order (times are unique, so it never decides an order). */
  seq: number
  type: string
  /** ms */
  time: number
  user: string | null
  params: Record<string, unknown>
}

/** `count` events over the 72 h before NOW, unique ms times, 25 users under the three user fields, some with none. */
export function seededEvents(count: number, seed = 12345): SeededEvent[] {
  const random = seededRandom(seed)
  const times = new Set<number>()
  const events: SeededEvent[] = []
  for (let seq = 0; seq < count; seq++) {
    let time: number
    do time = NOW - Math.floor(random() * 72 * HOUR)
    while (times.has(time))
    times.add(time)
    const type = TYPES[Math.floor(random() * TYPES.length)]!
    const roll = random()
    const user = roll < 0.1 ? null : `u${1 + Math.floor(random() * 25)}`
    const params: Record<string, unknown> = { page: `/p${Math.floor(random() * 5)}` }
    if (user !== null) {
      if (roll < 0.7) params.user = user
      else if (roll < 0.85) params.userId = user
      else params.distinct_id = user
    }
    events.push({ seq, type, time, user, params })
  }
  return events
}

export interface AnalyticsServer {
  app: FastifyInstance
  url: string
}

export async function startAnalyticsServer(t: { teardown(fn: () => unknown): void }, options: AnalyticsRoutesOptions): Promise<AnalyticsServer> {
  const app = Fastify({ logger: false, forceCloseConnections: true })
  await app.register(analyticsRoutes, options)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const { port } = app.server.address() as AddressInfo
  return { app, url: `http://127.0.0.1:${port}` }
}

export async function call(url: string, init: { method?: 'GET' | 'POST'; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; json: any; headers: Record<string, unknown> }> {
  const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body))
  const response = await request(url, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body,
  })
  const text = await response.body.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.statusCode, text, json, headers: response.headers }
}

/** Posts each event as seed 003's body, `concurrency` requests at a time (times are unique, so arrival order does not matter). */
export async function postSeeded(url: string, bucket: string, events: readonly SeededEvent[], concurrency = 8): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < events.length) {
      const event = events[next++]!
      const answer = await call(`${url}/api/events?bucket=${bucket}`, { body: { event_type: event.type, ts: event.time / 1000, params: event.params } })
      if (answer.status !== 202) throw new Error(`POST /api/events answered ${answer.status}: ${answer.text}`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

export function byTimeThenSeq(a: SeededEvent, b: SeededEvent): number {
  return a.time - b.time || a.seq - b.seq
}

export function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1)
  return counts
}

export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** The furthest step each user reaches, by trying every chain (brute force). */
export function bruteForceFunnel(events: readonly SeededEvent[], steps: readonly string[], windowMs: number): number[] {
  const byUser = new Map<string, SeededEvent[]>()
  for (const e of events) if (e.user !== null && steps.includes(e.type)) byUser.set(e.user, [...(byUser.get(e.user) ?? []), e])
  const reachedAtLeast = new Array<number>(steps.length).fill(0)
  for (const list of byUser.values()) {
    list.sort(byTimeThenSeq)
    const deepest = (k: number, after: number, start: number): number => {
      let best = k
      for (let j = after + 1; j < list.length && best < steps.length; j++) {
        if (list[j]!.type === steps[k] && list[j]!.time - start <= windowMs) best = Math.max(best, deepest(k + 1, j, start))
      }
      return best
    }
    let level = 0
    list.forEach((e, i) => {
      if (e.type === steps[0]) level = Math.max(level, deepest(1, i, e.time))
    })
    for (let k = 0; k < level; k++) reachedAtLeast[k]!++
  }
  return reachedAtLeast
}

/** Adjacent pairs of each user's events in (time, post) order. */
export function bruteForceFlows(events: readonly SeededEvent[]): Map<string, number> {
  const byUser = new Map<string, SeededEvent[]>()
  for (const e of events) if (e.user !== null) byUser.set(e.user, [...(byUser.get(e.user) ?? []), e])
  const pairs = new Map<string, number>()
  for (const list of byUser.values()) {
    list.sort(byTimeThenSeq)
    for (let i = 0; i + 1 < list.length; i++) {
      const pair = `${list[i]!.type}>${list[i + 1]!.type}`
      pairs.set(pair, (pairs.get(pair) ?? 0) + 1)
    }
  }
  return pairs
}
