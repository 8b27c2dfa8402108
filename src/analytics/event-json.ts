/**
 * Stored events as seed 003 shows them (`event_type`, `ts` in Unix seconds,
 * `params`), plus what the store adds. `params` is the exact JSON text that
 * was received, spliced in, never re-serialised.
 */

import { decodeKey, type EventKey } from '../formats/keyjson.js'

export interface ApiEvent {
  bucket: string
  /** The event's key, decoded from keyjson (for POST /api/events: ["api-events", serverToken, reqId, 0]). */
  id: EventKey
  event_type: string | number
  /** Event time, Unix seconds (ms precision). */
  ts: number
  /** The event's value: exact JSON text. */
  paramsJson: string
  userId: string | null
  /** When a server of ours received it, Unix seconds (ms precision). */
  receivedAt: number
}

export interface EventPage {
  page: number
  limit: number
  /** True when a next page has at least one event. */
  hasMore: boolean
  events: ApiEvent[]
}

/** A stored row (snake-case columns) as an ApiEvent. */
export function apiEventOfRow(row: Record<string, unknown>): ApiEvent {
  const isCode = row.type_is_code === true || Number(row.type_is_code) === 1
  return {
    bucket: String(row.bucket),
    id: decodeKey(Buffer.from(String(row.key_hex), 'hex')),
    event_type: isCode ? Number(row.type) : String(row.type),
    ts: Number(row.client_time) / 1000,
    paramsJson: String(row.value),
    userId: row.user_id === null || row.user_id === undefined ? null : String(row.user_id),
    receivedAt: Number(row.server_time) / 1000,
  }
}

export function apiEventJson(event: ApiEvent): string {
  return `{"bucket":${JSON.stringify(event.bucket)},"id":${JSON.stringify(event.id)},"event_type":${JSON.stringify(event.event_type)},"ts":${event.ts},"params":${event.paramsJson},"userId":${JSON.stringify(event.userId)},"receivedAt":${event.receivedAt}}`
}

/** The JSON answer of GET /api/events and POST /api/events/query. */
export function eventPageJson(page: EventPage, extra: Record<string, unknown> = {}): string {
  const head = JSON.stringify({ ...extra, page: page.page, limit: page.limit, hasMore: page.hasMore })
  return `${head.slice(0, -1)},"events":[${page.events.map(apiEventJson).join(',')}]}`
}
