// The DuckDB EventStore: the shared conformance suite, then what only the embedded store does (file lock, durability).
import t from 'tap'
import { join } from 'node:path'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { storeConformance } from './helpers/store-conformance.js'
import { tempDir } from './helpers/temp.js'

storeConformance(t, 'duckdb', async () => {
  const path = join(tempDir(t, 'ls-duckdb-'), 'events.duckdb')
  return {
    open: async () => {
      const store = new DuckDbEventStore({ path, threads: 1 })
      await store.open()
      return store
    },
  }
})
