/**
 * A real DuckDB `events` table with exactly the columns documented in
 * src/store/event-store.ts, behind the store's SqlAccess, for the analytics
 * tests until the DuckDB EventStore lands (then they use openEventStore).
 */
import { DuckDBInstance } from '@duckdb/node-api'
import type { EventRecord } from '../../src/model/event-record.js'
import type { SqlAccess } from '../../src/store/event-store.js'

export const EVENTS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS events (
  bucket VARCHAR NOT NULL, key BLOB NOT NULL, type VARCHAR NOT NULL, type_is_code BOOLEAN NOT NULL, value VARCHAR NOT NULL,
  client_time BIGINT NOT NULL, server_time BIGINT NOT NULL, original_client_time BIGINT, user_id VARCHAR, anonymous_id VARCHAR,
  producer VARCHAR, ip VARCHAR, source VARCHAR NOT NULL, ingested_at BIGINT NOT NULL, PRIMARY KEY (bucket, key))`

function plain(value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value
}

export interface DuckDbEvents {
  sql: SqlAccess
  insert(events: readonly EventRecord[], ingestedAt?: number): Promise<void>
  close(): void
}

export async function openDuckDbEvents(path = ':memory:'): Promise<DuckDbEvents> {
  const instance = await DuckDBInstance.create(path)
  const connection = await instance.connect()
  await connection.run(EVENTS_TABLE_DDL)
  const literal = (value: string | number | null | Uint8Array): string => {
    if (value === null) return 'NULL'
    if (typeof value === 'number') return String(value)
    if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`
    return `from_hex('${Buffer.from(value).toString('hex')}')`
  }
  const sql: SqlAccess = {
    dialect: 'duckdb',
    async query<T>(text: string): Promise<T[]> {
      const reader = await connection.runAndReadAll(text)
      return reader.getRowObjectsJS().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)]))) as T[]
    },
    async exec(text: string): Promise<void> {
      await connection.run(text)
    },
    literal,
  }
  return {
    sql,
    async insert(events, ingestedAt = Date.now()) {
      const appender = await connection.createAppender('events')
      for (const e of events) {
        appender.appendVarchar(e.bucket)
        appender.appendBlob(e.key)
        appender.appendVarchar(String(e.type))
        appender.appendBoolean(typeof e.type === 'number')
        appender.appendVarchar(e.value)
        appender.appendBigInt(BigInt(e.clientTime))
        appender.appendBigInt(BigInt(e.serverTime))
        if (e.originalClientTime === null) appender.appendNull()
        else appender.appendBigInt(BigInt(e.originalClientTime))
        for (const v of [e.userId, e.anonymousId, e.producer, e.ip]) {
          if (v === null) appender.appendNull()
          else appender.appendVarchar(v)
        }
        appender.appendVarchar(e.source)
        appender.appendBigInt(BigInt(ingestedAt))
        appender.endRow()
      }
      appender.closeSync()
    },
    close() {
      connection.closeSync()
      instance.closeSync()
    },
  }
}
