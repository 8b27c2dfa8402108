// Reads an export tree back with DuckDB's own readers (read_parquet,
// read_json, read_csv over the Hive partitions), and what the store holds for
// a day, in one row shape, so a test compares the two.
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { EXPORT_EXTENSIONS, type ExportFormat } from '../../src/export/export-layout.js'
import { encodedKeyToJson } from '../../src/formats/keyjson.js'
import type { EventStore } from '../../src/store/event-store.js'

export interface Row {
  date: string
  bucket: string
  key: string
  key_json: string | null
  type: string
  type_is_code: boolean
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

const NORMALIZED = `strftime(date, '%Y-%m-%d') AS date, bucket::VARCHAR AS bucket, {key} AS key, key_json::VARCHAR AS key_json, "type"::VARCHAR AS type, type_is_code::BOOLEAN AS type_is_code,
  "value"::VARCHAR AS value, client_time::BIGINT AS client_time, server_time::BIGINT AS server_time, original_client_time::BIGINT AS original_client_time,
  user_id::VARCHAR AS user_id, anonymous_id::VARCHAR AS anonymous_id, producer::VARCHAR AS producer, ip::VARCHAR AS ip, "source"::VARCHAR AS source`

/** Reads an export tree back with DuckDB's readers, as a warehouse would. */
export async function readBack(root: string, format: ExportFormat): Promise<Row[]> {
  const glob = `'${join(root, 'events', '*', '*', `*.${EXPORT_EXTENSIONS[format]}`)}'`
  const from = {
    parquet: `read_parquet(${glob}, hive_partitioning = true)`,
    ndjson: `read_json(${glob}, format = 'newline_delimited', hive_partitioning = true, columns = {key: 'VARCHAR', key_json: 'VARCHAR', type: 'VARCHAR', type_is_code: 'BOOLEAN', value: 'VARCHAR', client_time: 'BIGINT', server_time: 'BIGINT', original_client_time: 'BIGINT', user_id: 'VARCHAR', anonymous_id: 'VARCHAR', producer: 'VARCHAR', ip: 'VARCHAR', source: 'VARCHAR'})`,
    csv: `read_csv(${glob}, header = true, all_varchar = true, allow_quoted_nulls = false, hive_partitioning = true)`,
  }[format]
  const key = format === 'parquet' ? 'hex("key")' : 'hex(from_base64("key"))'
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  try {
    const result = await connection.runAndReadAll(`SELECT ${NORMALIZED.replace('{key}', key)} FROM ${from} ORDER BY bucket, key`)
    return result.getRowObjectsJS().map((row) => {
      const out: Record<string, unknown> = {}
      for (const [name, value] of Object.entries(row)) out[name] = typeof value === 'bigint' ? Number(value) : value
      return out as unknown as Row
    })
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}

/** What the store holds for a day, in the same shape. */
export async function storedRows(store: EventStore, day: string): Promise<Row[]> {
  const start = Date.parse(`${day}T00:00:00Z`)
  const rows: Row[] = []
  for (const { bucket } of await store.buckets()) {
    for await (const e of store.read({ bucket, serverTimeFrom: start, serverTimeTo: start + 86_400_000 })) {
      rows.push({
        date: day,
        bucket,
        key: Buffer.from(e.key).toString('hex').toUpperCase(),
        key_json: encodedKeyToJson(e.key),
        type: String(e.type),
        type_is_code: typeof e.type === 'number',
        value: e.value,
        client_time: e.clientTime,
        server_time: e.serverTime,
        original_client_time: e.originalClientTime,
        user_id: e.userId,
        anonymous_id: e.anonymousId,
        producer: e.producer,
        ip: e.ip,
        source: e.source,
      })
    }
  }
  return rows.sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

