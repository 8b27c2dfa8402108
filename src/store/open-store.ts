/**
 * Picks and opens the EventStore backend from options (the `events` command's
 * `--db` / `--clickhouse`): the embedded DuckDB file by default, ClickHouse
 * when a URL is given. The ClickHouse backend is imported only when asked
 * for, so the embedded default never loads its client.
 */
import { InvalidOptionError } from '../errors.js'
import { DuckDbEventStore, DEFAULT_DUCKDB_PATH, type DuckDbEventStoreOptions } from './duckdb/duckdb-store.js'
import type { EventStore } from './event-store.js'

export interface OpenEventStoreOptions {
  /** The DuckDB file of the embedded store. Default `./events.duckdb` (when `clickhouse` is not given). Excludes `clickhouse`. */
  db?: string
  /** A ClickHouse HTTP URL, e.g. `http://127.0.0.1:8123/events` (the path names the database). Default: none. Excludes `db`. */
  clickhouse?: string
  /** More DuckDB options (threads, memoryLimit, readConnections). Default: none. */
  duckdb?: Omit<DuckDbEventStoreOptions, 'path'>
  /** More options passed to the ClickHouse backend's constructor as they are. Default: none. */
  clickhouseOptions?: Record<string, unknown>
}

/** What open-store needs of the ClickHouse backend module (src/store/clickhouse/clickhouse-store.ts). */
interface ClickHouseModule {
  ClickHouseEventStore: new (options: { url: string } & Record<string, unknown>) => EventStore
}

/** The ClickHouse backend, by path so the embedded default does not load it. */
const CLICKHOUSE_MODULE = './clickhouse/clickhouse-store.js'

/** A new store of the chosen backend, opened (tables created when missing). */
export async function openEventStore(options: OpenEventStoreOptions = {}): Promise<EventStore> {
  if (options.db !== undefined && options.clickhouse !== undefined) {
    throw new InvalidOptionError('db', '--db and --clickhouse exclude each other: give one (neither = the embedded store at ./events.duckdb)')
  }
  let store: EventStore
  if (options.clickhouse !== undefined) {
    if (!/^https?:\/\//.test(options.clickhouse)) throw new InvalidOptionError('clickhouse', `must be an http:// or https:// URL, got ${JSON.stringify(options.clickhouse)}`)
    // TODO(integrator): check this matches the constructor of ClickHouseEventStore once branch `clickhouse` is merged.
    const module = (await import(CLICKHOUSE_MODULE)) as ClickHouseModule
    store = new module.ClickHouseEventStore({ ...options.clickhouseOptions, url: options.clickhouse })
  } else {
    store = new DuckDbEventStore({ ...options.duckdb, path: options.db ?? DEFAULT_DUCKDB_PATH })
  }
  await store.open()
  return store
}
