/**
 * An `events` row as SQL returns it (the columns of src/store/event-store.ts,
 * the key selected as hex so any dialect and driver carries it), and the one
 * mapping back to an EventRecord, for the ClickHouse store and the layers
 * above that read the table through `sql`.
 */
import type { EventRecord } from '../model/event-record.js'

export interface EventRow {
  bucket?: string
  key_hex: string
  type: string
  /** DuckDB answers a BOOLEAN, ClickHouse a UInt8. */
  type_is_code: boolean | number
  value: string
  client_time: number
  server_time: number
  original_client_time: number | null
  user_id: string | null
  anonymous_id: string | null
  producer: string | null
  ip: string | null
  source: string
}

/** The record of a row; `bucket` for rows read without their bucket column. */
export function eventOfRow(row: EventRow, bucket: string = row.bucket ?? ''): EventRecord {
  return {
    bucket,
    key: new Uint8Array(Buffer.from(row.key_hex, 'hex')),
    type: row.type_is_code === true || row.type_is_code === 1 ? Number(row.type) : row.type,
    value: row.value,
    clientTime: Number(row.client_time),
    serverTime: Number(row.server_time),
    originalClientTime: row.original_client_time === null ? null : Number(row.original_client_time),
    userId: row.user_id,
    anonymousId: row.anonymous_id,
    producer: row.producer,
    ip: row.ip,
    source: row.source,
  }
}
