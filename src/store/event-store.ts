/**
 * The EventStore contract: one interface, two backends (DuckDB embedded,
 * ClickHouse at scale) that pass one conformance suite
 * (test/helpers/store-conformance.ts). Everything above the store (the
 * EventServer, tailing, analytics, export, forwarding, write keys, identity)
 * talks to it through this file only.
 *
 * The `events` table (same columns in both backends; SQL names in brackets):
 *   bucket [bucket]            text
 *   key [key]                  bytes (DuckDB BLOB; ClickHouse String), keyjson; (bucket, key) unique, ordered
 *   type [type]                text: the string type, or the decimal digits of an integer type
 *   typeIsCode [type_is_code]  0/1: 1 when the type was an integer (DuckDB BOOLEAN; ClickHouse UInt8)
 *   value [value]              text, the exact JSON received
 *   clientTime [client_time]   Int64 ms
 *   serverTime [server_time]   Int64 ms
 *   originalClientTime [original_client_time]  Int64 ms, or NULL
 *   userId [user_id], anonymousId [anonymous_id], producer [producer], ip [ip]  text or NULL
 *   source [source]            text
 *   ingestedAt [ingested_at]   Int64 ms when this store committed it; never decreases within a store
 *                              (forwarding and exports follow it)
 * Deduplication: the first write of a (bucket, key) stands; later writes of the same key are
 * duplicates, counted and not stored (ClickHouse: collapsed at read time, see its backend).
 */
import type { EventRecord } from '../model/event-record.js'

/** A position in a tailed stream of batches, committed together with the events it covers. */
export interface Checkpoint {
  /** What is tailed, e.g. `dir:/var/batches/` + serverToken. */
  name: string
  /** Opaque to the store (JSON text chosen by the tailer). */
  position: string
}

/** A request that reached us but gave no events: undecodable, bad write key, ... kept for a user to look at. */
export interface RejectedRequest {
  /** Where it came from: `tail:<serverToken>/<reqId>` or `direct`. */
  origin: string
  /** Ms since 1970 when it was received. */
  time: number
  method: string
  path: string
  contentType: string
  /** Stable reason code, e.g. `LS_EVENT_INVALID`, `bad-write-key`, `no-decoder`. */
  reason: string
  message: string
  /** The body as received (may be cut to a documented size by the caller). */
  body: Uint8Array
}

export interface WriteBatch {
  events: readonly EventRecord[]
  checkpoints?: readonly Checkpoint[]
  rejects?: readonly RejectedRequest[]
  /**
   * More writes follow right away (a tailer working through a backlog): the
   * store may put off its own upkeep (DuckDB's automatic cluster()) until a
   * write without it. Default false.
   */
  more?: boolean
}

export interface WriteResult {
  /** Events newly stored. */
  stored: number
  /** Events whose (bucket, key) was already there, or earlier in the same batch. */
  duplicates: number
}

/** A key-ordered range read of one bucket. Bounds are keyjson bytes. */
export interface RangeQuery {
  bucket: string
  /** Lowest key, inclusive. */
  from?: Uint8Array
  /** Highest key, exclusive. */
  to?: Uint8Array
  /** Resume after this key (exclusive): a page cursor. */
  after?: Uint8Array
  /** [from, to) on server time, ms. */
  serverTimeFrom?: number
  serverTimeTo?: number
  /** [from, to) on client time, ms. */
  clientTimeFrom?: number
  clientTimeTo?: number
  /** Only these types (their text form, as in the `type` column). */
  types?: readonly string[]
  /** At most this many events. Default: no limit (the read streams). */
  limit?: number
}

export interface BucketCount {
  bucket: string
  count: number
}

/** SQL access for the layers above (analytics, export, keys, identity) that need more than the events API. */
export interface SqlAccess {
  readonly dialect: 'duckdb' | 'clickhouse'
  /** Rows as plain objects; 64-bit integers come back as JS numbers (they are ms times and counts). */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>
  /** A statement without rows (DDL, INSERT); durable when it resolves. */
  exec(sql: string): Promise<void>
  /** A value as a SQL literal for this dialect (strings escaped; bytes as the dialect's blob literal). */
  literal(value: string | number | null | Uint8Array): string
}

export interface EventStore {
  readonly kind: 'duckdb' | 'clickhouse'
  /** Creates tables when missing. A second process on the same DuckDB file fails here with LS_STORE_LOCKED. */
  open(): Promise<void>
  /** Waits for writes under way, then releases the store. */
  close(): Promise<void>
  /** Stores events, checkpoints and rejects together: all or nothing, durable when it resolves. */
  write(batch: WriteBatch): Promise<WriteResult>
  /** Events of one bucket in key order, streamed. */
  read(query: RangeQuery): AsyncIterable<EventRecord>
  /** Buckets with their event counts, by name. */
  buckets(): Promise<BucketCount[]>
  /** Every committed checkpoint whose name starts with `prefix`. */
  checkpoints(prefix?: string): Promise<Checkpoint[]>
  /** Rejected requests, newest first. */
  rejects(limit?: number): Promise<(RejectedRequest & { id: number })[]>
  readonly sql: SqlAccess
}
