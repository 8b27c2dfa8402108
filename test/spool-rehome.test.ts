// Spool segments and unsent batches left by another --workers layout are still delivered.
import t from 'tap'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeReqData, encodeReqEnd, formatObjectKey, Spool } from '../src/index.js'
import { rehomeLeftovers } from '../src/spool/rehome.js'
import { readLoggedRequests } from './helpers/batches.js'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname

t.test('rehomeLeftovers moves files out of folders no worker owns', async (t) => {
  const dir = tempDir(t)
  for (const file of ['worker-0/a.seg', 'worker-3/b.seg', 'worker-5/v1/x/c.gz', 'd.seg', 'v1/y/e.gz']) {
    mkdirSync(join(dir, file, '..'), { recursive: true })
    writeFileSync(join(dir, file), file)
  }
  t.equal(rehomeLeftovers(dir, 2), 4, 'two workers: worker-3, worker-5 and the single-process files move')
  for (const file of ['worker-0/a.seg', 'worker-1/b.seg', 'worker-1/v1/x/c.gz', 'worker-0/d.seg', 'worker-0/v1/y/e.gz']) t.ok(existsSync(join(dir, file)), file)
  t.notOk(existsSync(join(dir, 'worker-3')))
  t.equal(rehomeLeftovers(dir, 1), 5, 'one process: everything comes home to the folder itself')
  for (const file of ['a.seg', 'b.seg', 'v1/x/c.gz', 'd.seg', 'v1/y/e.gz']) t.ok(existsSync(join(dir, file)), file)
  t.equal(rehomeLeftovers(join(dir, 'missing'), 2), 0)
})

t.test('a segment of worker 3 of an earlier cluster is delivered by a single-process start', async (t) => {
  const cwd = tempDir(t)
  const spool = new Spool(join(cwd, 'spool', 'worker-3'))
  const key = formatObjectKey({ startTime: Date.UTC(2026, 10, 25, 12), serverToken: 'Wrkr3Tkn', randomToken: 'Rnd12345', batchNumber: 7 })
  const segment = spool.open(key)
  segment.append(encodeReqData(1, Date.UTC(2026, 10, 25, 12), Buffer.from('left behind')))
  segment.append(encodeReqEnd({ reqId: 1, serverTime: Date.UTC(2026, 10, 25, 12), ip: '', contentType: 'text/plain', path: '/x', method: 'POST', headers: {}, outcome: 0 }))
  await segment.commit()
  await segment.finish()

  const child = spawnNode(t, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--ack', 'spool'], { cwd })
  await child.waitForJson((line) => line['msg'] === 'batch stored')
  t.equal(await child.stop('SIGTERM'), 0)
  t.match(child.output(), /moved files left by a different number of workers/)
  const { requests, batches } = await readLoggedRequests(join(cwd, 'batches'))
  t.same(batches.map((batch) => batch.key), [key], 'stored under its original key')
  t.equal(requests[0]?.body.toString(), 'left behind')
})
