/**
 * Profiles (seed 002, docs/identity.md). An event that carries both a userId
 * and an anonymousId links the two; a profile is every id reachable through
 * such links, and its history is every event of any of its ids. Profiles are
 * worked out from the stored events when asked, not kept beside them, so:
 * - the links are committed with the events that carry them (one write), on
 *   either path, and a replayed batch adds nothing (its events are duplicates);
 * - merges commute: two devices merged in either order, or an event stored
 *   after the merge that names only the old anonymous id, give the same profile.
 */
import type { SqlAccess } from '../store/event-store.js'

/** Most ids one profile may gather before the walk stops (a runaway merge, e.g. a shared anonymousId). Default 10,000. */
export const DEFAULT_MAX_PROFILE_IDS = 10_000

export interface Profile {
  /**
   * The profile's id: the smallest (code-point order) id that was the userId of a
   * link; without links, the smallest userId; else the id asked for.
   */
  id: string
  /** Every id of the profile, sorted. */
  ids: string[]
  /** Ids seen as a userId. */
  userIds: string[]
  /** Ids seen only as an anonymousId. */
  anonymousIds: string[]
  /** Events of the profile, first and last client time (ms); null without events. */
  events: number
  firstSeen: number | null
  lastSeen: number | null
  /** True when the walk stopped at maxIds: the profile may be larger. */
  truncated: boolean
}

export interface ProfileEvent {
  bucket: string
  /** The key's bytes as uppercase hex (JSON form: see keyjson's encodedKeyToJson). */
  keyHex: string
  type: string
  typeIsCode: boolean
  value: string
  clientTime: number
  serverTime: number
  originalClientTime: number | null
  userId: string | null
  anonymousId: string | null
  producer: string | null
  ip: string | null
  source: string
}

function byCodePoint(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

export class Identity {
  constructor(
    private readonly sql: SqlAccess,
    private readonly maxIds = DEFAULT_MAX_PROFILE_IDS,
  ) {}

  private list(ids: Iterable<string>): string {
    return [...ids].map((id) => this.sql.literal(id)).join(', ')
  }

  /** Every id linked to `id`, walking links until nothing new turns up. */
  async linkedIds(id: string): Promise<{ ids: Set<string>; linkUserIds: Set<string>; truncated: boolean }> {
    const ids = new Set([id])
    const linkUserIds = new Set<string>()
    let frontier = new Set([id])
    while (frontier.size > 0) {
      const set = this.list(frontier)
      const links = await this.sql.query<{ user_id: string; anonymous_id: string }>(
        `SELECT DISTINCT user_id, anonymous_id FROM events WHERE user_id IS NOT NULL AND anonymous_id IS NOT NULL AND (user_id IN (${set}) OR anonymous_id IN (${set}))`,
      )
      const next = new Set<string>()
      for (const link of links) {
        linkUserIds.add(link.user_id)
        for (const other of [link.user_id, link.anonymous_id]) {
          if (ids.has(other)) continue
          if (ids.size >= this.maxIds) return { ids, linkUserIds, truncated: true }
          ids.add(other)
          next.add(other)
        }
      }
      frontier = next
    }
    return { ids, linkUserIds, truncated: false }
  }

  /** The profile holding `id`; undefined when no event names it. */
  async profile(id: string): Promise<Profile | undefined> {
    const { ids, linkUserIds, truncated } = await this.linkedIds(id)
    const set = this.list(ids)
    const count = this.sql.dialect === 'clickhouse' ? 'uniqExact(bucket, key)' : 'count(*)'
    const [summary] = await this.sql.query<{ events: number; first_seen: number | null; last_seen: number | null }>(
      `SELECT ${count} AS events, min(client_time) AS first_seen, max(client_time) AS last_seen FROM events WHERE user_id IN (${set}) OR anonymous_id IN (${set})`,
    )
    if (!summary || Number(summary.events) === 0) return undefined
    const users = await this.sql.query<{ user_id: string }>(`SELECT DISTINCT user_id FROM events WHERE user_id IN (${set})`)
    const userIds = users.map((row) => row.user_id).sort(byCodePoint)
    const userSet = new Set(userIds)
    return {
      id: [...linkUserIds].sort(byCodePoint)[0] ?? userIds[0] ?? id,
      ids: [...ids].sort(byCodePoint),
      userIds,
      anonymousIds: [...ids].filter((other) => !userSet.has(other)).sort(byCodePoint),
      events: Number(summary.events),
      firstSeen: summary.first_seen === null ? null : Number(summary.first_seen),
      lastSeen: summary.last_seen === null ? null : Number(summary.last_seen),
      truncated,
    }
  }

  /** The profile's events by client time (then bucket, key), after `after` (a previous page's last clientTime/bucket/keyHex). */
  async events(profile: Pick<Profile, 'ids'>, options: { limit: number; bucket?: string; after?: { clientTime: number; bucket: string; keyHex: string } }): Promise<ProfileEvent[]> {
    const set = this.list(profile.ids)
    const where = [`(user_id IN (${set}) OR anonymous_id IN (${set}))`]
    if (options.bucket !== undefined) where.push(`bucket = ${this.sql.literal(options.bucket)}`)
    if (options.after) {
      const { clientTime, bucket, keyHex } = options.after
      const c = this.sql.literal(clientTime)
      const b = this.sql.literal(bucket)
      const k = this.sql.literal(keyHex)
      where.push(`(client_time > ${c} OR (client_time = ${c} AND (bucket > ${b} OR (bucket = ${b} AND hex(key) > ${k}))))`)
    }
    const distinct = this.sql.dialect === 'clickhouse' ? 'DISTINCT ' : ''
    const rows = await this.sql.query<Record<string, unknown>>(
      `SELECT ${distinct}bucket, hex(key) AS key_hex, type, type_is_code, value, client_time, server_time, original_client_time, user_id, anonymous_id, producer, ip, source
       FROM events WHERE ${where.join(' AND ')} ORDER BY client_time, bucket, key_hex LIMIT ${Math.max(0, Math.floor(options.limit))}`,
    )
    return rows.map((row) => ({
      bucket: String(row.bucket),
      keyHex: String(row.key_hex),
      type: String(row.type),
      typeIsCode: Boolean(Number(row.type_is_code)),
      value: String(row.value),
      clientTime: Number(row.client_time),
      serverTime: Number(row.server_time),
      originalClientTime: row.original_client_time === null ? null : Number(row.original_client_time),
      userId: (row.user_id as string | null) ?? null,
      anonymousId: (row.anonymous_id as string | null) ?? null,
      producer: (row.producer as string | null) ?? null,
      ip: (row.ip as string | null) ?? null,
      source: String(row.source),
    }))
  }
}
