// Spool segments and unsent batches left by another --workers layout are still delivered.
import t from 'tap'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeReqData, encodeReqEnd, formatObjectKey, Spool } from '../src/index.js'
import { rehomeLeftovers } from '../src/cluster/rehome.js'
import { readLoggedRequests } from './helpers/batches.js'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname

t.test('rehomeLeftovers moves our files out of folders no worker owns, and nothing else', async (t) => {
  const dir = tempDir(t)
  const key = (n: number) => formatObjectKey({ startTime: Date.UTC(2026, 0, 1), serverToken: 'Srvr1234', randomToken: 'Rand1234', batchNumber: n })
  const files = { a: 'worker-0/a.seg', b: 'worker-3/b.seg', c: `worker-5/${key(1)}`, d: 'd.seg', e: key(2), other: 'notes.txt', otherInWorker: 'worker-4/keep.txt' }
  for (const file of Object.values(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true })
    writeFileSync(join(dir, file), file)
  }
  t.equal(rehomeLeftovers(dir, 2), 4, 'two workers: worker-3, worker-5 and the single-process files move')
  for (const file of ['worker-0/a.seg', 'worker-1/b.seg', `worker-1/${key(1)}`, 'worker-0/d.seg', `worker-0/${key(2)}`]) t.ok(existsSync(join(dir, file)), file)
  t.notOk(existsSync(join(dir, 'worker-3')), 'an emptied worker folder is removed')
  t.ok(existsSync(join(dir, 'notes.txt')), 'files that are not ours stay')
  t.ok(existsSync(join(dir, 'worker-4/keep.txt')), 'a worker folder with files that are not ours stays')
  t.equal(rehomeLeftovers(dir, 1), 5, 'one process: everything of ours comes home to the folder itself')
  for (const file of ['a.seg', 'b.seg', key(1), 'd.seg', key(2), 'notes.txt']) t.ok(existsSync(join(dir, file)), file)
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
