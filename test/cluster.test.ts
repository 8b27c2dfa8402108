// `serve --workers N`: workers share the port, a dead worker is replaced and
// its spool recovered, metrics are summed, SIGTERM stops everything cleanly.
import t from 'tap'
import { request } from 'undici'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { availableParallelism } from 'node:os'
import { parseObjectKey } from '../src/index.js'
import { readLoggedRequests } from './helpers/batches.js'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname
type Line = { msg: string; pid: number; port?: number; worker?: number }

t.test('two workers: shared port, restart after a crash, clean shutdown, nothing acknowledged lost', async (t) => {
  const cwd = tempDir(t)
  const child = spawnNode(t, [BIN, 'serve', '--workers', '2', '--port', '0', '--host', '127.0.0.1', '--ack', 'spool', '--admin-port', '0', '--batch-seconds', '60'], { cwd })
  const admin = await child.waitForJson<Line>((line) => line['msg'] === 'admin listening')
  const first = await child.waitForJson<Line>((line) => line['msg'] === 'listening' && line['worker'] === 0)
  const second = await child.waitForJson<Line>((line) => line['msg'] === 'listening' && line['worker'] === 1)
  t.not(first.pid, second.pid, 'two processes')
  t.equal(first.port, second.port, 'sharing one port')
  const base = `http://127.0.0.1:${first.port}`
  const adminBase = `http://127.0.0.1:${admin.port}`

  const acknowledged: string[] = []
  const send = async (count: number, tag: string) => {
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const body = `${tag} ${i}`
        const res = await request(`${base}/c`, { method: 'POST', body })
        await res.body.dump()
        if (res.statusCode === 200) acknowledged.push(body)
      }),
    )
  }
  await send(100, 'before')
  t.equal(acknowledged.length, 100)
  // Workers report readiness once a second.
  let ready
  for (let i = 0; i < 50; i++) {
    ready = await request(`${adminBase}/readyz`)
    if (ready.statusCode === 200) break
    await ready.body.dump()
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(ready!.statusCode, 200)
  t.match(await ready!.body.json(), { workers: 2 })
  const metrics = await (await request(`${adminBase}/metrics`)).body.text()
  t.match(metrics, /logging_requests_total\{outcome="complete"\} 100\b/, 'metrics are summed over the workers')

  process.kill(second.pid, 'SIGKILL')
  await child.waitForJson((line) => line['msg'] === 'worker died; restarting it' && line['worker'] === 1)
  // The next worker to listen, whatever its index: a replacement under another index must fail here, not time out.
  const replacement = await child.waitForJson<Line>((line) => line['msg'] === 'listening' && line['pid'] !== first.pid && line['pid'] !== second.pid)
  t.equal(replacement.worker, 1, 'the replacement keeps the dead worker\'s index (and so its spool folder)')
  t.match(child.output(), /recovered a spool segment/, "the replacement delivers the dead worker's spool")
  await send(50, 'after')

  t.equal(await child.stop('SIGTERM'), 0, 'SIGTERM to the primary stops every worker cleanly')
  const { requests, batches } = await readLoggedRequests(join(cwd, 'batches'))
  const delivered = new Set(requests.map((r) => r.body.toString()))
  t.same(acknowledged.filter((body) => !delivered.has(body)), [], `all ${acknowledged.length} acknowledged requests delivered`)
  const tokens = new Set(batches.map((batch) => parseObjectKey(batch.key)!.serverToken))
  t.equal(tokens.size, 3, 'three serverTokens: two workers and the replacement')
})

t.test('the primary exits with the workers\' worst exit code', async (t) => {
  const cwd = tempDir(t)
  const child = spawnNode(t, [BIN, 'serve', '--workers', '2', '--port', '0', '--host', '127.0.0.1', '--dir', 'batches', '--close-timeout-ms', '500', '--batch-seconds', '60'], { cwd })
  const first = await child.waitForJson<Line>((line) => line['msg'] === 'listening' && line['worker'] === 0)
  await child.waitForJson<Line>((line) => line['msg'] === 'listening' && line['worker'] === 1)
  const res = await request(`http://127.0.0.1:${first.port}/kept`, { method: 'POST', body: 'saved as unsent' })
  await res.body.dump()
  // The batch directory turns into a file: the workers cannot store their last batch and exit 1.
  rmSync(join(cwd, 'batches'), { recursive: true, force: true })
  writeFileSync(join(cwd, 'batches'), 'not a directory')
  const code = await child.stop('SIGTERM')
  t.equal(code, 1, 'a worker that ended with unsent batches makes the primary exit 1')
  t.match(child.output(), /stopped with batches not stored/)
})

t.test('--workers auto: one worker per core', { skip: availableParallelism() < 2 ? 'one core: auto is a single process' : false }, async (t) => {
  const cwd = tempDir(t)
  const child = spawnNode(t, [BIN, 'serve', '--workers', 'auto', '--port', '0', '--host', '127.0.0.1'], { cwd })
  const starting = await child.waitForJson<Line & { workers: number }>((line) => line['msg'] === 'starting workers')
  t.equal(starting.workers, availableParallelism(), `${starting.workers} workers on ${availableParallelism()} cores`)
  for (let index = 0; index < starting.workers; index++) {
    const listening = await child.waitForJson<Line>((line) => line['msg'] === 'listening' && line['worker'] === index)
    if (process.platform === 'linux') {
      const argv = readFileSync(`/proc/${listening.pid}/cmdline`, 'utf8').split('\0')
      t.ok(argv.includes('--max-semi-space-size=1'), `worker ${index} runs with a small young generation`)
    }
  }
  t.equal(await child.stop('SIGTERM'), 0)
})

t.test('workers get a small young generation unless the operator set one', async (t) => {
  const { workerExecArgv, WORKER_MAX_SEMI_SPACE_MB } = await import('../src/cluster/primary.js')
  t.same(workerExecArgv(['--enable-source-maps'], ''), ['--enable-source-maps', `--max-semi-space-size=${WORKER_MAX_SEMI_SPACE_MB}`])
  t.same(workerExecArgv(['--max-semi-space-size=8'], ''), ['--max-semi-space-size=8'], 'a flag given wins')
  t.same(workerExecArgv([], '--max_semi_space_size=4'), [], 'so does one in NODE_OPTIONS')
})
