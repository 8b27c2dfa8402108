// One prefix rule (formats/batch-v1.md §1.1) for the option check and every sink:
// a prefix the server accepts is one its batches can be stored, read back and recovered under.
import t from 'tap'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { BatchReader, DirectorySink, DirectorySource, encodeReqData, encodeReqEnd, LoggingServer, normalizeKeyPrefix, parseObjectKey, Spool } from '../src/index.js'
import { SPOOL_MAGIC } from '../src/spool/spool.js'
import { tempDir } from './helpers/temp.js'

/** A name safe in a TAP stream: JSON, with everything outside printable ASCII escaped. */
const named = (text: string) => JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

// Prefixes the old option check let through and the directory sink then refused ("key leaves the batch directory").
const ODD_BUT_VALID = ['...', '..a', 'a/...', '.hidden/x', '..x/..y', 'é/ü', 'a b', 'a\\b']

t.test('every prefix the option check accepts is stored, listed and read back by replay', async (t) => {
  for (const prefix of ODD_BUT_VALID) {
    const dir = tempDir(t)
    const server = new LoggingServer({ directory: dir, keyPrefix: prefix, closeTimeoutMs: 3000, unsentDirectory: join(dir, '..', 'unsent-' + dir.split('/').pop()) })
    const address = await server.listen(0, '127.0.0.1')
    const res = await request(`http://127.0.0.1:${address.port}/hello`, { method: 'POST', body: 'body of ' + prefix })
    await res.body.dump()
    t.equal(res.statusCode, 200)
    // close() rejects with UnsentBatchesError when the sink refuses the key: that was the loss.
    await t.resolves(server.close(), `prefix ${named(prefix)}: the batch is stored`)
    const reader = new BatchReader({ source: new DirectorySource(dir, { prefix }) })
    const bodies: string[] = []
    for await (const logged of reader.requests()) bodies.push(logged.body.toString())
    t.same(bodies, ['body of ' + prefix], `prefix ${named(prefix)}: replay reads the request back`)
  }
})

t.test('the directory sink and the option check apply the same rule', async (t) => {
  const sink = new DirectorySink(tempDir(t))
  const key = (prefix: string) => `${prefix}/v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz`
  for (const prefix of [...ODD_BUT_VALID, '..', '.', 'a/../b', 'a//b', 'x\ny', 'x\u2028y']) {
    let accepted = true
    try {
      normalizeKeyPrefix(prefix)
    } catch {
      accepted = false
    }
    let stored = true
    try {
      sink.pathOf(key(prefix))
    } catch {
      stored = false
    }
    t.equal(stored, accepted, `${named(prefix)}: option check ${accepted ? 'accepts' : 'refuses'}, sink ${stored ? 'stores' : 'refuses'}`)
  }
})

t.test('prefixes with control characters or line separators are refused with a clear message', async (t) => {
  for (const prefix of ['a\nb', 'a\rb', 'a\tb', 'a\u0000b', 'a\u007fb', 'a\u0085b', 'a\u2028b', 'a\u2029b']) {
    t.throws(() => new LoggingServer({ directory: tempDir(t), keyPrefix: prefix }), { code: 'LS_INVALID_OPTION', message: /control character/ }, named(prefix))
  }
})

t.test('parseObjectKey reads a key whatever characters its prefix holds', async (t) => {
  const tail = 'v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz'
  for (const prefix of ['a\u2028b', 'a\nb', 'x\u2029/y']) t.equal(parseObjectKey(`${prefix}/${tail}`)?.prefix, prefix, named(prefix))
})

t.test('a spool segment whose key holds a line break (written by an older version) is recovered', async (t) => {
  const dir = tempDir(t)
  const key = 'old\nprefix/v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz'
  const frames = Buffer.concat([encodeReqData(1, 5, Buffer.from('kept')), encodeReqEnd({ reqId: 1, serverTime: 6, ip: '', contentType: '', path: '/', method: 'POST', headers: {}, outcome: 0 })])
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, encodeURIComponent(key) + '.seg'), Buffer.concat([Buffer.from(`${SPOOL_MAGIC}${key}\n`), frames]))
  const errors: string[] = []
  const spool = new Spool(dir, { onError: (err) => errors.push(err.message) })
  const recovered = await spool.recover()
  t.same(errors, [], 'no "not a spool segment"')
  t.equal(recovered.length, 1)
  t.equal(recovered[0]?.key, key)
  t.equal(recovered[0]?.events, 2)
  t.same(recovered[0]?.frames, frames)
  t.same(readdirSync(dir).length, 1)
})
