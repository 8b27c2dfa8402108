/**
 * The common event model: what every decoder produces (from a live request or
 * a logged one), what every EventStore keeps and returns, and what analytics,
 * export and forwarding read. One event is one row of the `events` table
 * (src/store/event-store.ts has the columns).
 */

/** A type: an integer 0..65535 or a non-empty string (formats/json-events.md). */
export type EventTypeValue = number | string

export interface EventRecord {
  /** The bucket (formats/json-events.md, "Buckets"). */
  bucket: string
  /** The key, keyjson-encoded (formats/keyjson.md): byte order is key order. (bucket, key) is unique. */
  key: Uint8Array
  type: EventTypeValue
  /** The value: the exact JSON text received (never re-serialised), a JSON object. */
  value: string
  /** Ms since 1970 as the client saw it, after clock-skew correction where the format allows one. */
  clientTime: number
  /** Ms since 1970 when a server of ours received it (the LoggingServer's REQ_END time for logged requests). */
  serverTime: number
  /** The client's event time before clock-skew correction, when it was corrected; else null. */
  originalClientTime: number | null
  /** The user the event is about, by the format's rule (Segment userId, Mixpanel distinct_id, seed-003 params.user ...); null when none. */
  userId: string | null
  anonymousId: string | null
  /** The name of the write key it came with; null without one. */
  producer: string | null
  /** The client address it came from; null when unknown. */
  ip: string | null
  /** The wire format it came in, a decoder name: `post-events/json`, `segment`, `api-events` ... */
  source: string
}

/** Defaults for the optional columns, so a decoder only names what its format has. */
export function eventRecord(fields: Pick<EventRecord, 'bucket' | 'key' | 'type' | 'value' | 'clientTime' | 'serverTime' | 'source'> & Partial<EventRecord>): EventRecord {
  return {
    originalClientTime: null,
    userId: null,
    anonymousId: null,
    producer: null,
    ip: null,
    ...fields,
  }
}
