import t from 'tap'
import { join } from 'node:path'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { analyticsSuite } from './helpers/analytics-suite.js'
import { tempDir } from './helpers/temp.js'

t.test('analytics endpoints on the DuckDB store', async (t) => {
  await analyticsSuite(t, {
    async openStore(t) {
      const store = new DuckDbEventStore({ path: join(tempDir(t), 'events.duckdb'), threads: 1 })
      await store.open()
      t.teardown(() => store.close())
      return store
    },
  })
})
