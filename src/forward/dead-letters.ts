/**
 * The dead-letter store: events a destination refused for good (a 4xx) or
 * that ran out of retries, kept in the event store's database (table
 * `dead_letters`, both dialects) for `logging-system dead-letters list|retry|drop`.
 * A dead letter names the stored event (bucket, key) rather than copying it.
 * The table is append-only (ClickHouse has no cheap UPDATE): each change of
 * state is a new row, and the newest row (`seq`) of a (destination, bucket,
 * key) is its state: `dead`, `delivered` (a retry got it through) or `dropped`.
 */
import type { EventRecord } from '../model/event-record.js'
import { eventDedupId } from '../model/event-json.js'
import type { EventStore, SqlAccess } from '../store/event-store.js'

export type DeadLetterStatus = 'dead' | 'delivered' | 'dropped'

export interface DeadLetter {
  destination: string
  bucket: string
  /** The key, keyjson bytes. */
  key: Uint8Array
  /** The event's dedup id (`bucket:base64url(key)`), which the CLI takes as --id. */
  id: string
  type: string
  status: DeadLetterStatus
  /** Why it was given up on: the last answer or error. */
  reason: string
  /** Times it was given up on (1, plus one per failed retry). */
  attempts: number
  /** Ms since 1970 of the last change. */
  time: number
}

const DDL = {
  duckdb: `CREATE TABLE IF NOT EXISTS dead_letters (destination VARCHAR NOT NULL, bucket VARCHAR NOT NULL, key_hex VARCHAR NOT NULL,
    type VARCHAR NOT NULL, status VARCHAR NOT NULL, reason VARCHAR NOT NULL, attempts BIGINT NOT NULL, time BIGINT NOT NULL, seq BIGINT NOT NULL)`,
  clickhouse: `CREATE TABLE IF NOT EXISTS dead_letters (destination String, bucket String, key_hex String, type String, status String,
    reason String, attempts Int64, time Int64, seq Int64) ENGINE = MergeTree ORDER BY (destination, bucket, key_hex, seq)`,
}

export interface DeadLetterQuery {
  /** Only this destination. Default: all. */
  destination?: string
  /** Only these ids (`bucket:base64url(key)`). Default: all. */
  ids?: readonly string[]
  /** Default: `dead`. */
  status?: DeadLetterStatus
  /** Default: no limit. */
  limit?: number
}

export class DeadLetterStore {
  private readonly sql: SqlAccess
  private lastSeq = 0
  private ready: Promise<void> | undefined

  constructor(store: EventStore) {
    this.sql = store.sql
  }

  /** Creates the table when missing (once per instance). */
  open(): Promise<void> {
    this.ready ??= this.sql.exec(DDL[this.sql.dialect])
    return this.ready
  }

  /** Adds rows in one statement: new dead letters, or a new state of existing ones. */
  async record(entries: readonly { destination: string; event: Pick<EventRecord, 'bucket' | 'key' | 'type'>; status: DeadLetterStatus; reason: string; attempts: number }[]): Promise<void> {
    if (entries.length === 0) return
    await this.open()
    const now = Date.now()
    const l = this.sql.literal
    const rows = entries.map(({ destination, event, status, reason, attempts }) => {
      const seq = (this.lastSeq = Math.max(this.lastSeq + 1, now * 1000))
      const keyHex = Buffer.from(event.key).toString('hex').toUpperCase()
      return `(${[destination, event.bucket, keyHex, String(event.type), status, reason.slice(0, 2000)].map((v) => l(v)).join(', ')}, ${attempts}, ${now}, ${seq})`
    })
    await this.sql.exec(`INSERT INTO dead_letters (destination, bucket, key_hex, type, status, reason, attempts, time, seq) VALUES ${rows.join(', ')}`)
  }

  /** Dead letters in their current state, oldest change first. */
  async list(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    await this.open()
    const l = this.sql.literal
    const where = query.destination !== undefined ? `WHERE destination = ${l(query.destination)}` : ''
    const rows = await this.sql.query<{ destination: string; bucket: string; key_hex: string; type: string; status: string; reason: string; attempts: number; time: number }>(
      `SELECT * FROM (SELECT destination, bucket, key_hex, argMax(type, seq) AS type, argMax(status, seq) AS status, argMax(reason, seq) AS reason,
         argMax(attempts, seq) AS attempts, argMax(time, seq) AS time FROM dead_letters ${where} GROUP BY destination, bucket, key_hex) AS latest
       WHERE status = ${l(query.status ?? 'dead')} ORDER BY time, destination, bucket, key_hex`,
    )
    const ids = query.ids ? new Set(query.ids) : undefined
    const out: DeadLetter[] = []
    for (const row of rows) {
      const key = new Uint8Array(Buffer.from(row.key_hex, 'hex'))
      const id = eventDedupId({ bucket: row.bucket, key })
      if (ids && !ids.has(id)) continue
      out.push({ destination: row.destination, bucket: row.bucket, key, id, type: row.type, status: row.status as DeadLetterStatus, reason: row.reason, attempts: Number(row.attempts), time: Number(row.time) })
      if (query.limit !== undefined && out.length >= query.limit) break
    }
    return out
  }
}
