/**
 * The store flags of the commands that read the event store (export, forward,
 * dead-letters): `--db FILE` (DuckDB, the default) or `--clickhouse URL`.
 * DuckDB locks its file for one process: run these while the EventServer on
 * that file is stopped, or use the server's own processors instead.
 */
import { CliUsageError } from '../errors.js'
import { DEFAULT_DUCKDB_PATH } from '../store/duckdb/duckdb-store.js'
import type { EventStore } from '../store/event-store.js'
import { openEventStore } from '../store/open-store.js'
import type { FlagSpec } from './command-line.js'

export const STORE_FLAGS: FlagSpec[] = [
  { name: 'db', type: 'string', description: `The EventServer's DuckDB file (default ${DEFAULT_DUCKDB_PATH} when --clickhouse is not given; excludes --clickhouse).` },
  { name: 'clickhouse', type: 'string', description: 'The EventServer\'s ClickHouse, by HTTP URL as for `logging-system events --clickhouse` (excludes --db).' },
]

/** Opens the store the flags name. */
export async function openStoreFromFlags(values: Record<string, unknown>): Promise<EventStore> {
  if (values['db'] !== undefined && values['clickhouse'] !== undefined) throw new CliUsageError('--db and --clickhouse exclude each other: the events live in one store')
  return openEventStore({
    ...(values['db'] !== undefined ? { db: String(values['db']) } : {}),
    ...(values['clickhouse'] !== undefined ? { clickhouse: String(values['clickhouse']) } : {}),
  })
}
