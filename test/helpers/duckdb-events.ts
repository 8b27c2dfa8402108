// A real DuckDbEventStore (src/store/duckdb/) on a fresh file, closed after the test.
import { join } from 'node:path'
import { DuckDbEventStore } from '../../src/store/duckdb/duckdb-store.js'
import type { EventStore } from '../../src/store/event-store.js'
import { tempDir } from './temp.js'

export async function openTestStore(t: { teardown(fn: () => unknown): void }, path?: string): Promise<EventStore> {
  const store = new DuckDbEventStore({ path: path ?? join(tempDir(t, 'ls-store-'), 'events.duckdb'), threads: 1 })
  await store.open()
  t.teardown(() => store.close())
  return store
}
