/**
 * The store flags of the commands that read the event store (export, forward,
 * dead-letters): `--db FILE` (DuckDB, the default) or `--clickhouse URL`.
 * DuckDB locks its file for one process: run these while the EventServer on
 * that file is stopped, or use the server's own processors instead.
 */
import { DEFAULT_DUCKDB_PATH } from '../store/duckdb/duckdb-store.js'
import type { EventStore } from '../store/event-store.js'
import { openEventStore, type OpenEventStoreOptions } from '../store/open-store.js'
import { excludeEachOther, type FlagSpec, type ParsedCommandLine } from './command-line.js'

export const STORE_FLAGS: FlagSpec[] = [
  { name: 'db', type: 'string', description: `The EventServer's DuckDB file (default ${DEFAULT_DUCKDB_PATH} when --clickhouse is not given; excludes --clickhouse).` },
  { name: 'clickhouse', type: 'string', description: 'The EventServer\'s ClickHouse, by HTTP URL as for `logging-system events --clickhouse` (excludes --db).' },
]

/** The store options the flags name (a usage error when both are given), checked before anything opens. */
export function storeOptionsFromFlags(parsed: ParsedCommandLine, what = 'events'): OpenEventStoreOptions {
  const { values } = parsed
  excludeEachOther(parsed, 'db', 'clickhouse', `the ${what} live in one store`)
  return {
    ...(values['db'] !== undefined ? { db: String(values['db']) } : {}),
    ...(values['clickhouse'] !== undefined ? { clickhouse: String(values['clickhouse']) } : {}),
  }
}

/** Opens the store the flags name. */
export async function openStoreFromFlags(parsed: ParsedCommandLine, what = 'events'): Promise<EventStore> {
  return openEventStore(storeOptionsFromFlags(parsed, what))
}
