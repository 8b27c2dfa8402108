/**
 * The ClickHouse tables (columns as in src/store/event-store.ts), in SQL that
 * 18.16 and current releases both accept. docs/clickhouse.md lists every
 * feature relied on.
 *
 * events: ReplacingMergeTree ordered by (bucket, key), so a range read is a
 * seek in the primary index. ClickHouse has no unique keys: the writer skips
 * keys already stored, and when two writers race, the hidden `first_write`
 * version (higher for an earlier ingested_at) makes the FIRST write the one
 * that FINAL and background merges keep.
 */

/** Rows per primary-index mark: smaller than the default 8192 so a 1,000-event read touches fewer rows. */
export const INDEX_GRANULARITY = 1024

const EVENT_COLUMNS = `
  bucket String,
  key String,
  type String,
  type_is_code UInt8,
  value String,
  client_time Int64,
  server_time Int64,
  original_client_time Nullable(Int64),
  user_id Nullable(String),
  anonymous_id Nullable(String),
  producer Nullable(String),
  ip Nullable(String),
  source String,
  ingested_at Int64`

/** Computed by each node that holds rows; not in the Distributed table (18.16 would send it to the shards and fail). */
const FIRST_WRITE_COLUMN = 'first_write UInt64 MATERIALIZED toUInt64(9223372036854775807 - ingested_at)'

/** The events table that holds rows: `events` on a single server, `events_local` on each node of a cluster. */
export function createEventsTableSql(database: string, table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${database}.${table} (${EVENT_COLUMNS},
  ${FIRST_WRITE_COLUMN}
)
ENGINE = ReplacingMergeTree(first_write)
ORDER BY (bucket, key)
SETTINGS index_granularity = ${INDEX_GRANULARITY}`
}

/** The cluster-wide `events`: a Distributed table over every node's `events_local`, a bucket on one shard. */
export function createDistributedEventsSql(database: string, cluster: string, localTable: string): string {
  return `CREATE TABLE IF NOT EXISTS ${database}.events (${EVENT_COLUMNS}
)
ENGINE = Distributed(${cluster}, ${database}, ${localTable}, cityHash64(bucket))`
}

/** A checkpoint written again is a new row with a higher seq; reads take argMax(position, seq). */
export function createCheckpointsSql(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${database}.checkpoints (
  name String,
  position String,
  seq UInt64
) ENGINE = ReplacingMergeTree(seq) ORDER BY name`
}

export function createRejectsSql(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${database}.rejects (
  id UInt64,
  origin String,
  time Int64,
  method String,
  path String,
  content_type String,
  reason String,
  message String,
  body String
) ENGINE = MergeTree ORDER BY id`
}

/** The columns write() inserts, in TabSeparated order; `key` last so a row is one UTF-8 run and then the key bytes. */
export const INSERT_COLUMNS: [string, ...string[]] = [
  'bucket', 'type', 'type_is_code', 'value', 'client_time', 'server_time', 'original_client_time',
  'user_id', 'anonymous_id', 'producer', 'ip', 'source', 'ingested_at', 'key',
]

export const REJECT_COLUMNS: [string, ...string[]] = ['id', 'origin', 'time', 'method', 'path', 'content_type', 'reason', 'message', 'body']

/**
 * The columns read() selects; the key as hex (bytes >= 0x80 do not survive
 * JSON output), under another name: a ClickHouse alias is seen by WHERE too.
 */
export const READ_COLUMNS = `hex(key) AS key_hex, type, type_is_code, value, client_time, server_time, original_client_time,
  user_id, anonymous_id, producer, ip, source`
