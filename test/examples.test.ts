// Every example in examples/ runs as written (importing the built package by
// name), answers as its app should, and logs the requests byte-exact.
import t from 'tap'
import { request } from 'undici'
import { readLoggedRequests } from './helpers/batches.js'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

const order = JSON.stringify({ sku: 'A-1', qty: 2, note: 'ünïcode ✓' })

const examples = [
  { file: 'node-http.js', path: '/collect/orders?src=web', expect: (text: string) => text === 'OK\n' },
  { file: 'express.js', path: '/orders', expect: (text: string) => JSON.parse(text).received.sku === 'A-1' },
  { file: 'fastify.js', path: '/orders', expect: (text: string) => JSON.parse(text).received.sku === 'A-1' },
]

for (const example of examples) {
  t.test(`examples/${example.file}`, async (t) => {
    const dir = tempDir(t)
    const child = spawnNode(t, [new URL(`../examples/${example.file}`, import.meta.url).pathname], { env: { PORT: '0', BATCH_DIR: dir } })
    const { listening } = await child.waitForJson<{ listening: number }>((line) => 'listening' in line)
    const res = await request(`http://127.0.0.1:${listening}${example.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: order })
    const text = await res.body.text()
    t.equal(res.statusCode, 200, 'the app answers')
    t.ok(example.expect(text), `the app saw the whole body: ${text.trim()}`)
    const other = await request(`http://127.0.0.1:${listening}/health`)
    await other.body.dump()
    t.equal(await child.stop('SIGTERM'), 0, 'exits 0 on SIGTERM')
    const { requests } = await readLoggedRequests(dir)
    const logged = requests.find((r) => r.path === example.path)
    t.ok(logged, 'the request is logged')
    t.equal(logged?.body.toString(), order, 'byte-exact body')
    t.equal(logged?.contentType, 'application/json')
    t.equal(logged?.outcomeName, 'complete')
    if (example.file !== 'node-http.js') t.ok(requests.find((r) => r.path === '/health' && r.method === 'GET'), 'middleware logs every route')
  })
}
