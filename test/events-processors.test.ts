// Processors wired into the EventServer: the `processors` option and the
// `events --processors FILE` flag put every committed event (direct posts
// here) through the configured processors; a bad configuration stops the
// start before any event is taken.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { request } from 'undici'
import { main } from '../src/cli/main.js'
import { EventServer } from '../src/servers/event-server.js'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { captureIo } from './helpers/cli-io.js'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname
// Member order, 1.0 and a big integer: the processor must see the text as posted.
const BODY = '{"events":[{"key":"a","type":"buy","value":{"z":1.0,"a":12345678901234567890},"clientTime":1}]}'

async function post(url: string, bucket: string): Promise<number> {
  const res = await request(`${url}/api/post-events?bucket=${bucket}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY })
  await res.body.dump()
  return res.statusCode
}

async function lines(path: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(path, 'utf8').catch(() => '')
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
}

t.test('the processors option: committed events reach an ndjson-file processor, by bucket', async (t) => {
  const dir = tempDir(t)
  const out = join(dir, 'shop.ndjson')
  const store = new DuckDbEventStore({ path: join(dir, 'events.duckdb'), threads: 1 })
  await store.open()
  const server = new EventServer({ store, processors: [{ kind: 'ndjson-file', buckets: ['shop'], options: { path: out } }] })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  t.equal(await post(url, 'shop'), 200)
  t.equal(await post(url, 'other'), 200)
  const written = await lines(out)
  t.equal(written.length, 1, 'only the configured bucket')
  t.equal(written[0]!['bucket'], 'shop')
  t.match(await readFile(out, 'utf8'), /\{"z":1\.0,"a":12345678901234567890\}/, 'the value text as posted')
})

t.test('a bad processor configuration makes listen() reject', async (t) => {
  const dir = tempDir(t)
  const store = new DuckDbEventStore({ path: join(dir, 'events.duckdb'), threads: 1 })
  await store.open()
  const server = new EventServer({ store, processors: [{ kind: 'no-such-kind', options: {} }] })
  t.teardown(() => server.close())
  await t.rejects(server.listen(0, '127.0.0.1'), { code: 'LS_INVALID_OPTION' })
})

t.test('events --processors FILE: a missing file is refused before the store opens', async (t) => {
  const dir = tempDir(t)
  const io = captureIo()
  const code = await main(['events', '--port', '0', '--db', join(dir, 'e.duckdb'), '--processors', join(dir, 'missing.json')], io)
  t.not(code, 0)
  t.match(io.err(), /cannot read .*missing\.json/)
})

t.test('events --processors FILE in a real process writes what was posted', async (t) => {
  const dir = tempDir(t)
  const out = join(dir, 'all.ndjson')
  const config = join(dir, 'processors.json')
  await writeFile(config, JSON.stringify({ processors: [{ kind: 'ndjson-file', options: { path: out } }] }))
  const child = spawnNode(t, [BIN, 'events', '--port', '0', '--host', '127.0.0.1', '--db', join(dir, 'events.duckdb'), '--processors', config])
  const listening = await child.waitForJson<{ url: string }>((line) => line.msg === 'EventServer listening')
  t.equal(await post(listening.url, 'web'), 200)
  t.equal(await child.stop('SIGTERM'), 0)
  const written = await lines(out)
  t.equal(written.length, 1)
  t.equal(written[0]!['bucket'], 'web')
})
