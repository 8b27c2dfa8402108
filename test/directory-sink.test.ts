// The directory sink: each batch at exactly its key's path, written atomically.
import t from 'tap'
import { chmodSync, existsSync, readdirSync, readFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DirectorySink } from '../src/index.js'
import { tempDir } from './helpers/temp.js'

t.test('stores the body at the key path, leaving no temp file', async (t) => {
  const dir = tempDir(t)
  const sink = new DirectorySink(dir)
  const key = 'p/v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz'
  await sink.put(key, Buffer.from('batch bytes'))
  t.equal(readFileSync(join(dir, key), 'utf8'), 'batch bytes')
  t.same(readdirSync(join(dir, 'p/v1/2011-09-26')), ['19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz'], 'no temp file left')
  await sink.put(key, Buffer.from('again'))
  t.equal(readFileSync(join(dir, key), 'utf8'), 'again', 'storing a key twice is harmless')
})

t.test('a key that would leave the directory is refused', async (t) => {
  const sink = new DirectorySink(tempDir(t))
  await t.rejects(sink.put('../escape.gz', Buffer.from('x')), { code: 'LS_SINK_WRITE', message: /'..' segment/ })
})

t.test('an unwritable directory fails with LS_SINK_WRITE and leaves nothing behind', { skip: process.getuid?.() === 0 ? 'root ignores permissions' : false }, async (t) => {
  const dir = tempDir(t)
  mkdirSync(join(dir, 'v1'))
  chmodSync(join(dir, 'v1'), 0o500)
  t.teardown(() => chmodSync(join(dir, 'v1'), 0o700))
  await t.rejects(new DirectorySink(dir).put('v1/x/y.gz', Buffer.from('x')), { code: 'LS_SINK_WRITE' })
})

t.test('a path blocked by a file fails with LS_SINK_WRITE, without a temp file', async (t) => {
  const dir = tempDir(t)
  const sink = new DirectorySink(dir)
  await sink.put('v1/blocker', Buffer.from('a file where a folder must go'))
  await t.rejects(sink.put('v1/blocker/inner.gz', Buffer.from('x')), { code: 'LS_SINK_WRITE' })
  t.same(readdirSync(join(dir, 'v1')), ['blocker'])
  t.notOk(existsSync(join(dir, 'v1/blocker/inner.gz')))
})
