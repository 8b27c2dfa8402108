// One key order everywhere: every valid key of the keyjson vectors (the
// original's and ours, generated independently of src/) is posted as an event
// to the DevServer, to an EventServer on DuckDB and to one on a real
// clickhouse-server; each answers /events.json in the same order, and that
// order is the byte order of the vectors' own encodings (sorted here with
// Buffer.compare, not with our encoder).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { DevServer } from '../src/servers/dev-server.js'
import { EventServer } from '../src/servers/event-server.js'
import { openEventStore } from '../src/store/open-store.js'
import { clickhouseMissing, clickhouseSkip, startClickHouse } from './helpers/clickhouse-server.js'
import { tempDir } from './helpers/temp.js'

const skip = clickhouseSkip()
const missing = clickhouseMissing()
if (missing !== undefined && !skip) t.fail(`clickhouse-server is required under CI: ${missing}`)

interface Vector { key: string; hex: string }
const vectors = (JSON.parse(readFileSync(new URL('../formats/vectors/keyjson/vectors.json', import.meta.url), 'utf8')) as { valid: Vector[] }).valid
// Keys an event may carry (the event format bounds integers to safe ones, as the vectors do).
const keys = vectors.map((v) => ({ text: v.key, bytes: Buffer.from(v.hex, 'hex') }))
/** One text per key: an object key's members in UTF-8 byte order of their names (member order is not part of a key). */
function canonical(key: unknown): string {
  if (key === null || typeof key !== 'object' || Array.isArray(key)) return JSON.stringify(key)
  const entries = Object.entries(key as Record<string, unknown>).sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  return `{${entries.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`).join(',')}}`
}
const expected = [...keys].sort((a, b) => Buffer.compare(a.bytes, b.bytes)).map((k) => canonical(JSON.parse(k.text)))
const body = JSON.stringify({ events: keys.map((k, i) => ({ key: JSON.parse(k.text), type: 'k', value: { i }, clientTime: i })) })

async function keyOrder(url: string): Promise<string[]> {
  const posted = await request(`${url}/api/post-events?bucket=keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const answer = await posted.body.text()
  if (posted.statusCode !== 200) throw new Error(`post answered ${posted.statusCode}: ${answer}`)
  const read = await request(`${url}/events.json?bucket=keys`)
  const events = ((await read.body.json()) as { events: Array<{ key: unknown }> }).events
  return events.map((e) => canonical(e.key))
}

t.ok(keys.length >= 15, `${keys.length} vector keys`)

t.test('DevServer', async (t) => {
  const dev = new DevServer()
  const url = await dev.listen(0, '127.0.0.1')
  t.teardown(() => dev.close())
  t.same(await keyOrder(url), expected)
})

t.test('EventServer on DuckDB', async (t) => {
  const store = await openEventStore({ db: join(tempDir(t), 'events.duckdb') })
  const server = new EventServer({ store })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  t.same(await keyOrder(url), expected)
})

t.test('EventServer on ClickHouse', { skip }, async (t) => {
  const clickhouse = await startClickHouse(t)
  const store = await openEventStore({ clickhouse: clickhouse.url })
  const server = new EventServer({ store })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  t.same(await keyOrder(url), expected)
})
