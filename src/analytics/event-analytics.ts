/**
 * The analyses of seed 003 as queries over an EventStore's `events` table
 * (its `sql` access), for DuckDB and ClickHouse 18.16. No HTTP in here: the
 * routes (src/servers/analytics-routes.ts) parse parameters and call these.
 *
 * Every analysis uses the event time (client_time) in UTC and the filter's
 * bucket. The user is the `user_id` column (for seed-003 events: params.user,
 * else params.userId, else params.distinct_id; see formats/api-events.md).
 */
import type { SqlAccess } from '../store/event-store.js'
import { GRANULARITY_MS, type EventFilter, type Granularity, type PageParams } from './analytics-params.js'
import { apiEventOfRow, type EventPage } from './event-json.js'
import { FunnelCounter, type FunnelResult } from './funnel.js'
import { dialectOf, type AnalyticsDialect } from './sql-dialect.js'

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
/** The stats window of seed 003. */
export const STATS_WINDOW_MS = 48 * HOUR_MS
/** Approximate unique counts below this are counted again exactly (DuckDB's sampled estimate is coarse for small sets). */
export const EXACT_BELOW = 4000
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const

export interface EventAnalyticsOptions {
  /** The table expression to read. Default: the dialect's (`events`; ClickHouse `events FINAL`). */
  table?: string
}

export interface StatsResult {
  granularity: Granularity
  /** First bucket start, ms; buckets cover [from, to). */
  from: number
  to: number
  bucketMs: number
  type: string | null
  total: number
  /** Non-empty buckets only, by time: start ms and count. */
  buckets: { ts: number; total: number }[]
  /** The same per event type (every type when `type` is null). */
  byType: { event_type: string; ts: number; total: number }[]
}

export interface DailyRow {
  date: string
  year: number
  month: number
  day: number
  event_type: string
  total: number
}

export interface ActivityResult {
  /** Events per hour of day (UTC), index 0..23. */
  byHour: number[]
  /** Events per weekday, index 0 = Monday .. 6 = Sunday. */
  byWeekday: number[]
  weekdays: readonly string[]
  /** byWeekdayHour[weekday][hour]. */
  byWeekdayHour: number[][]
}

export interface UniquesResult {
  approximate: boolean
  /** Distinct users over the whole range. */
  total: number
  days: { date: string; users: number }[]
}

export interface FlowRow {
  from: string
  to: string
  total: number
}

function dateOfDay(epochDay: number): { date: string; year: number; month: number; day: number } {
  const d = new Date(epochDay * DAY_MS)
  return { date: d.toISOString().slice(0, 10), year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }
}

export class EventAnalytics {
  readonly #sql: SqlAccess
  readonly #dialect: AnalyticsDialect
  readonly #table: string

  constructor(sql: SqlAccess, options: EventAnalyticsOptions = {}) {
    this.#sql = sql
    this.#dialect = dialectOf(sql.dialect)
    this.#table = options.table ?? this.#dialect.eventsTable
  }

  get dialect(): AnalyticsDialect {
    return this.#dialect
  }

  /** The WHERE clause of a filter (plus extra conditions). */
  where(filter: EventFilter, ...extra: string[]): string {
    const lit = (value: string | number): string => this.#sql.literal(value)
    const conditions = [`bucket = ${lit(filter.bucket)}`]
    if (filter.fromMs !== undefined) conditions.push(`client_time >= ${lit(filter.fromMs)}`)
    if (filter.toMs !== undefined) conditions.push(`client_time < ${lit(filter.toMs)}`)
    if (filter.types !== undefined) conditions.push(filter.types.length === 1 ? `type = ${lit(filter.types[0]!)}` : `type IN (${filter.types.map(lit).join(', ')})`)
    return conditions.concat(extra).join(' AND ')
  }

  async #rows(sql: string): Promise<Record<string, unknown>[]> {
    return this.#sql.query(sql)
  }

  /** Events in time order (then key order), one page. */
  async events(filter: EventFilter, page: PageParams): Promise<EventPage> {
    const d = this.#dialect
    const rows = await this.#rows(
      `SELECT bucket, ${d.keyHex('key')} AS key_hex, type, type_is_code, value, client_time, server_time, user_id FROM ${this.#table} ` +
        `WHERE ${this.where(filter)} ORDER BY client_time, key LIMIT ${page.limit + 1} OFFSET ${(page.page - 1) * page.limit}`,
    )
    const hasMore = rows.length > page.limit
    return { page: page.page, limit: page.limit, hasMore, events: rows.slice(0, page.limit).map(apiEventOfRow) }
  }

  /**
   * The live tail: events committed at or after `sinceIngestedMs` (the
   * store's ingested_at, which never decreases), oldest first; without it,
   * the newest `limit` events.
   */
  async tail(filter: EventFilter, sinceIngestedMs: number | undefined, limit: number): Promise<{ events: EventPage['events']; ingestedAt: number[] }> {
    const d = this.#dialect
    const columns = `bucket, ${d.keyHex('key')} AS key_hex, type, type_is_code, value, client_time, server_time, user_id, ingested_at`
    const rows =
      sinceIngestedMs === undefined
        ? (await this.#rows(`SELECT ${columns} FROM ${this.#table} WHERE ${this.where(filter)} ORDER BY ingested_at DESC, key DESC LIMIT ${limit}`)).reverse()
        : await this.#rows(`SELECT ${columns} FROM ${this.#table} WHERE ${this.where(filter, `ingested_at >= ${this.#sql.literal(sinceIngestedMs)}`)} ORDER BY ingested_at, key LIMIT ${limit}`)
    return { events: rows.map(apiEventOfRow), ingestedAt: rows.map((row) => Number(row.ingested_at)) }
  }

  /**
   * Counts per time bucket over the last 48 hours before `nowMs`: the
   * 48h/bucket buckets ending with the one that holds `nowMs`.
   */
  async stats(bucket: string, type: string | null, granularity: Granularity, nowMs: number): Promise<StatsResult> {
    const bucketMs = GRANULARITY_MS[granularity]
    const to = Math.floor(nowMs / bucketMs) * bucketMs + bucketMs
    const from = to - STATS_WINDOW_MS
    const filter: EventFilter = { bucket, fromMs: from, toMs: to, ...(type === null ? {} : { types: [type] }) }
    const d = this.#dialect
    const rows = await this.#rows(
      `SELECT type, ${d.div('client_time', bucketMs)} AS slot, ${d.count()} AS total FROM ${this.#table} WHERE ${this.where(filter)} GROUP BY type, slot ORDER BY slot, type`,
    )
    const byType = rows.map((row) => ({ event_type: String(row.type), ts: Number(row.slot) * bucketMs, total: Number(row.total) }))
    const totals = new Map<number, number>()
    let total = 0
    for (const row of byType) {
      totals.set(row.ts, (totals.get(row.ts) ?? 0) + row.total)
      total += row.total
    }
    return { granularity, from, to, bucketMs, type, total, buckets: [...totals].map(([ts, count]) => ({ ts, total: count })), byType }
  }

  /** Seed 003's aggregation: events per UTC day and type. */
  async daily(filter: EventFilter): Promise<DailyRow[]> {
    const d = this.#dialect
    const rows = await this.#rows(
      `SELECT ${d.div('client_time', DAY_MS)} AS epoch_day, type, ${d.count()} AS total FROM ${this.#table} WHERE ${this.where(filter)} GROUP BY epoch_day, type ORDER BY epoch_day, type`,
    )
    return rows.map((row) => ({ ...dateOfDay(Number(row.epoch_day)), event_type: String(row.type), total: Number(row.total) }))
  }

  /** Events by hour of day and weekday (UTC). */
  async activity(filter: EventFilter): Promise<ActivityResult> {
    const d = this.#dialect
    // 1970-01-01 was a Thursday: (epoch day + 3) mod 7 is 0 on Mondays.
    const rows = await this.#rows(
      `SELECT (${d.div('client_time', DAY_MS)} + 3) % 7 AS weekday, ${d.div('client_time', HOUR_MS)} % 24 AS hour, ${d.count()} AS total ` +
        `FROM ${this.#table} WHERE ${this.where(filter)} GROUP BY weekday, hour`,
    )
    const byWeekdayHour = WEEKDAYS.map(() => new Array<number>(24).fill(0))
    const byHour = new Array<number>(24).fill(0)
    const byWeekday = new Array<number>(7).fill(0)
    for (const row of rows) {
      const weekday = Number(row.weekday)
      const hour = Number(row.hour)
      const total = Number(row.total)
      byWeekdayHour[weekday]![hour] = total
      byHour[hour]! += total
      byWeekday[weekday]! += total
    }
    return { byHour, byWeekday, weekdays: WEEKDAYS, byWeekdayHour }
  }

  /**
   * Distinct users per UTC day and over the whole range (events without a
   * user are left out). Approximate: the dialect's estimate; an estimate
   * under EXACT_BELOW is counted again exactly (those days are small), so
   * small numbers are never off, as ClickHouse's uniq is exact below 65536.
   */
  async uniques(filter: EventFilter, approximate: boolean): Promise<UniquesResult> {
    const d = this.#dialect
    const where = this.where(filter, 'user_id IS NOT NULL')
    const perDay = (exact: boolean, extra = ''): Promise<Record<string, unknown>[]> =>
      this.#rows(`SELECT ${d.div('client_time', DAY_MS)} AS epoch_day, ${d.distinct('user_id', !exact)} AS users FROM ${this.#table} WHERE ${where}${extra} GROUP BY epoch_day ORDER BY epoch_day`)
    const overall = (exact: boolean): Promise<Record<string, unknown>[]> => this.#rows(`SELECT ${d.distinct('user_id', !exact)} AS users FROM ${this.#table} WHERE ${where}`)
    const [days, all] = await Promise.all([perDay(!approximate), overall(!approximate)])
    let total = Number(all[0]?.users ?? 0)
    if (approximate && d.name === 'duckdb') {
      const small = days.filter((row) => Number(row.users) < EXACT_BELOW).map((row) => Number(row.epoch_day))
      if (small.length > 0) {
        const bounds = ` AND client_time >= ${Math.min(...small) * DAY_MS} AND client_time < ${(Math.max(...small) + 1) * DAY_MS}`
        const exact = new Map((await perDay(true, bounds)).map((row) => [Number(row.epoch_day), Number(row.users)]))
        for (const row of days) if (exact.has(Number(row.epoch_day)) && small.includes(Number(row.epoch_day))) row.users = exact.get(Number(row.epoch_day))
      }
      if (total < EXACT_BELOW) total = Number((await overall(true))[0]?.users ?? 0)
    }
    return {
      approximate,
      total,
      days: days.map((row) => ({ date: dateOfDay(Number(row.epoch_day)).date, users: Number(row.users) })),
    }
  }

  /** Events per user, most active first. */
  async eventsPerUser(filter: EventFilter, page: PageParams): Promise<{ page: number; limit: number; hasMore: boolean; users: { user: string; total: number }[] }> {
    const d = this.#dialect
    const rows = await this.#rows(
      `SELECT user_id, ${d.count()} AS total FROM ${this.#table} WHERE ${this.where(filter, 'user_id IS NOT NULL')} ` +
        `GROUP BY user_id ORDER BY total DESC, user_id LIMIT ${page.limit + 1} OFFSET ${(page.page - 1) * page.limit}`,
    )
    return {
      page: page.page,
      limit: page.limit,
      hasMore: rows.length > page.limit,
      users: rows.slice(0, page.limit).map((row) => ({ user: String(row.user_id), total: Number(row.total) })),
    }
  }

  /**
   * Flows: how often a user's event of type A is followed next (in time,
   * then key order, among the filtered events) by one of type B.
   */
  async flows(filter: EventFilter, limit: number): Promise<FlowRow[]> {
    const where = this.where(filter, 'user_id IS NOT NULL')
    const sql =
      this.#dialect.name === 'duckdb'
        ? `SELECT type AS from_type, next_type AS to_type, CAST(count(*) AS BIGINT) AS total FROM (` +
          `SELECT type, lead(type) OVER (PARTITION BY user_id ORDER BY client_time, key) AS next_type FROM ${this.#table} WHERE ${where}` +
          `) WHERE next_type IS NOT NULL GROUP BY from_type, to_type ORDER BY total DESC, from_type, to_type LIMIT ${limit}`
        : // 18.16 has no window functions: each user's types as an array in (time, key) order, zipped with
          // itself shifted by one. (A lambda that indexes the array copies it per element: 1.9 GiB on 1M events.)
          `SELECT from_type, to_type, count() AS total FROM (` +
          `SELECT arrayMap(e -> e.3, arraySort(e -> (e.1, e.2), groupArray((client_time, key, type)))) AS types FROM ${this.#table} WHERE ${where} GROUP BY user_id` +
          `) ARRAY JOIN arrayPopBack(types) AS from_type, arrayPopFront(types) AS to_type ` +
          `GROUP BY from_type, to_type ORDER BY total DESC, from_type, to_type LIMIT ${limit}`
    const rows = await this.#rows(sql)
    return rows.map((row) => ({ from: String(row.from_type), to: String(row.to_type), total: Number(row.total) }))
  }

  /**
   * A funnel over the filter's range (see funnel.ts for the rule): the step
   * types' events, ordered by user and (time, key), counted in one pass. (One
   * string_agg row per user instead was measured slower: DuckDB's ordered
   * aggregate cost more than the rows it saves.)
   */
  async funnel(filter: EventFilter, steps: readonly string[], windowMs: number): Promise<FunnelResult> {
    const types = [...new Set(steps)]
    const rows = await this.#rows(
      `SELECT user_id, type, client_time FROM ${this.#table} WHERE ${this.where({ ...filter, types }, 'user_id IS NOT NULL')} ORDER BY user_id, client_time, key`,
    )
    const counter = new FunnelCounter(steps, windowMs)
    for (const row of rows) counter.add({ user: String(row.user_id), type: String(row.type), time: Number(row.client_time) })
    return counter.result()
  }

  /** Event types seen in the filter's range, most frequent first (for the dashboard's pickers). */
  async types(filter: EventFilter): Promise<{ event_type: string; total: number }[]> {
    const rows = await this.#rows(`SELECT type, ${this.#dialect.count()} AS total FROM ${this.#table} WHERE ${this.where(filter)} GROUP BY type ORDER BY total DESC, type LIMIT 1000`)
    return rows.map((row) => ({ event_type: String(row.type), total: Number(row.total) }))
  }
}
