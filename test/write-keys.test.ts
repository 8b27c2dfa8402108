// Write keys: `logging-system keys` against a real DuckDB store, hashed storage, check() answers, revocation.
import { join } from 'node:path'
import t from 'tap'
import { main } from '../src/cli/main.js'
import { WriteKeys, hashWriteKey } from '../src/ingest/write-keys.js'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { captureIo } from './helpers/cli-io.js'
import { tempDir } from './helpers/temp.js'

async function cli(...argv: string[]) {
  const io = captureIo()
  const code = await main(argv, io)
  return { code, out: io.out(), err: io.err() }
}

t.test('keys create / list / revoke through the CLI; only the hash is stored', async (t) => {
  const db = join(tempDir(t), 'events.duckdb')
  const created = await cli('keys', 'create', '--name', 'Web API', '--bucket', 'web', '--db', db, '--json')
  t.equal(created.code, 0, created.err)
  const key = JSON.parse(created.out) as { key: string; id: string; name: string; bucket: string }
  t.match(key, { name: 'Web API', bucket: 'web' })
  t.match(key.key, /^lsk_[0-9a-f]{40}$/)
  const text = await cli('keys', 'create', '--name', 'iPhone API', '--bucket', 'ios', '--db', db)
  t.match(text.out, /^lsk_[0-9a-f]{40}\n# wk_[0-9a-f]{8} "iPhone API" → bucket ios/)

  const list = await cli('keys', 'list', '--db', db)
  t.equal(list.code, 0)
  t.equal(list.out.trim().split('\n').length, 2)
  t.match(list.out, /Web API\tweb\tlsk_\w{4}…\t.*\tactive/)
  t.notMatch(list.out, key.key, 'the list never shows a key')

  const store = new DuckDbEventStore({ path: db })
  await store.open()
  const rows = await store.sql.query<Record<string, unknown>>('SELECT * FROM write_keys')
  t.equal(rows.length, 2)
  t.notMatch(JSON.stringify(rows), key.key.slice(4), 'no column holds the key')
  t.ok(rows.some((row) => row['key_hash'] === hashWriteKey(key.key)), 'its SHA-256 is there')
  await store.close()

  const revoked = await cli('keys', 'revoke', 'Web API', '--db', db)
  t.equal(revoked.code, 0, revoked.err)
  t.match(revoked.out, /^revoked wk_\w+\tWeb API\tweb.*revoked 20/)
  const missing = await cli('keys', 'revoke', 'nobody', '--db', db)
  t.equal(missing.code, 2)
  t.match(missing.err, /no write key has the id or name "nobody"/)
  t.equal((await cli('keys', 'create', '--name', 'x', '--db', db)).code, 2, 'create needs --bucket')
  t.equal((await cli('keys', 'frobnicate', '--db', db)).code, 2)
})

t.test('check(): bucket and name of a good key, 401 errors naming why otherwise', async (t) => {
  const store = new DuckDbEventStore({ path: join(tempDir(t), 'events.duckdb') })
  await store.open()
  t.teardown(() => store.close())
  let now = 1_000
  const keys = new WriteKeys(store, { cacheMs: 100, now: () => now })
  const web = await keys.create({ name: 'Web API', bucket: 'web' })
  t.same(await keys.check(web.key), { id: web.id, name: 'Web API', bucket: 'web' })
  await t.rejects(keys.check(null), { code: 'LS_WRITE_KEY', reason: 'missing', statusCode: 401 })
  await t.rejects(keys.check('lsk_nope'), { code: 'LS_WRITE_KEY', reason: 'unknown', message: /unknown write key lsk_nope/ })
  await keys.revoke(web.id)
  await t.rejects(keys.check(web.key), { code: 'LS_WRITE_KEY', reason: 'revoked', message: /Web API\) was revoked/ }, 'a revoke in this process is seen at once')

  // A revoke by another process (another WriteKeys on the store) is seen once the cache entry expires.
  const other = await keys.create({ name: 'Other', bucket: 'web' })
  t.equal((await keys.check(other.key)).name, 'Other')
  await new WriteKeys(store).revoke(other.id)
  t.equal((await keys.check(other.key)).name, 'Other', 'still cached')
  now += 100
  await t.rejects(keys.check(other.key), { code: 'LS_WRITE_KEY', reason: 'revoked' })
  await t.rejects(keys.create({ name: '', bucket: 'web' }), { code: 'LS_INVALID_OPTION' })
})
