/**
 * The DuckDB tables (columns as in src/store/event-store.ts). (bucket, key) is
 * the PRIMARY KEY: its ART index enforces "the first write stands" (INSERT OR
 * IGNORE). DuckDB uses an ART only for equality lookups; a range read is a
 * scan that zone maps (min/max per row group) cut short when the rows are in
 * (bucket, key) order, which cluster() restores (docs/event-store.md).
 */

/** The table of the events. */
export const EVENTS_TABLE = 'events'

/** The events table under `name` (cluster() builds a sorted copy under another name, then renames it). */
export function eventsTableSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  bucket VARCHAR NOT NULL,
  key BLOB NOT NULL,
  type VARCHAR NOT NULL,
  type_is_code BOOLEAN NOT NULL,
  value VARCHAR NOT NULL,
  client_time BIGINT NOT NULL,
  server_time BIGINT NOT NULL,
  original_client_time BIGINT,
  user_id VARCHAR,
  anonymous_id VARCHAR,
  producer VARCHAR,
  ip VARCHAR,
  source VARCHAR NOT NULL,
  ingested_at BIGINT NOT NULL,
  PRIMARY KEY (bucket, key)
);`
}

export const CREATE_TABLES = `
${eventsTableSql('events')}
CREATE TABLE IF NOT EXISTS checkpoints (
  name VARCHAR PRIMARY KEY,
  position VARCHAR NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS rejects_id START 1;
CREATE TABLE IF NOT EXISTS rejects (
  id BIGINT PRIMARY KEY DEFAULT nextval('rejects_id'),
  origin VARCHAR NOT NULL,
  time BIGINT NOT NULL,
  method VARCHAR NOT NULL,
  path VARCHAR NOT NULL,
  content_type VARCHAR NOT NULL,
  reason VARCHAR NOT NULL,
  message VARCHAR NOT NULL,
  body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS store_state (
  name VARCHAR PRIMARY KEY,
  value BIGINT NOT NULL
);
`

/** store_state: the ingested_at up to which `events` is in (bucket, key) order (set by cluster()). */
export const CLUSTERED_THROUGH = 'clustered_through'

/**
 * Where a write's events land first (appender, in memory, this connection
 * only). Times are DOUBLE here so the appender takes JS numbers without a
 * BigInt per value; every safe integer is exact in a double, and the INSERT
 * casts them back to BIGINT.
 */
export const STAGING_TABLE = 'events_staging'

export const CREATE_STAGING = `
CREATE TEMP TABLE IF NOT EXISTS ${STAGING_TABLE} (
  bucket VARCHAR,
  key BLOB,
  type VARCHAR,
  type_is_code BOOLEAN,
  value VARCHAR,
  client_time DOUBLE,
  server_time DOUBLE,
  original_client_time DOUBLE,
  user_id VARCHAR,
  anonymous_id VARCHAR,
  producer VARCHAR,
  ip VARCHAR,
  source VARCHAR
)
`

/** Moves the staged events into `events`; a (bucket, key) already there is skipped (counted as a duplicate). */
export function insertStagedSql(ingestedAt: number): string {
  return `INSERT OR IGNORE INTO events
SELECT bucket, key, type, type_is_code, value, client_time::BIGINT, server_time::BIGINT, original_client_time::BIGINT,
       user_id, anonymous_id, producer, ip, source, ${ingestedAt}::BIGINT
FROM ${STAGING_TABLE}`
}

/** The columns read() selects, in EventRecord order; times as DOUBLE so they arrive as JS numbers. */
export const READ_COLUMNS = `key, type, type_is_code, value, client_time::DOUBLE, server_time::DOUBLE, original_client_time::DOUBLE,
  user_id, anonymous_id, producer, ip, source`
