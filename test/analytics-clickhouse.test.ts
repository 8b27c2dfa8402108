// The analytics endpoints on the ClickHouse store (Debian's clickhouse-server 18.16 as a child
// process): the same suite as on DuckDB, answers checked against counts computed in the test.
import t from 'tap'
import { ClickHouseEventStore } from '../src/store/clickhouse/clickhouse-store.js'
import { analyticsSuite } from './helpers/analytics-suite.js'
import { clickhouseMissing, clickhouseSkip, startClickHouse } from './helpers/clickhouse-server.js'

const skip = clickhouseSkip()
const missing = clickhouseMissing()

if (skip) {
  t.test('analytics on ClickHouse', { skip }, () => {})
} else if (missing) {
  // Under CI a missing server is a failure, not a skip.
  t.fail(`clickhouse-server is required under CI: ${missing}`)
} else {
  t.test('analytics endpoints on the ClickHouse store', async (t) => {
    const server = await startClickHouse(t)
    await analyticsSuite(t, {
      async openStore(t) {
        const store = new ClickHouseEventStore({ url: server.url, database: `analytics_${process.pid}` })
        await store.open()
        t.teardown(() => store.close())
        return store
      },
    })
  })
}
