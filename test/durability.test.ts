// Acknowledgement modes and failures: what reached the sink, decoded, after
// crashes, outages, full disks and shutdowns.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { LoggingServer, S3Sink } from '../src/index.js'
import { decodeBatches, readLoggedRequests } from './helpers/batches.js'
import { startS3rver, S3RVER_CREDENTIALS } from './helpers/s3rver.js'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname
const FAST_RETRY = { initialDelayMs: 20, maxDelayMs: 100, multiplier: 2 }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Posts `body` and says whether the server acknowledged it (2xx). */
async function post(url: string, body: string): Promise<number> {
  try {
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body })
    await res.body.dump()
    return res.statusCode
  } catch {
    return 0
  }
}

function bodiesOf(requests: Array<{ body: Buffer; outcomeName: string }>): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of requests) if (r.outcomeName === 'complete') counts.set(r.body.toString(), (counts.get(r.body.toString()) ?? 0) + 1)
  return counts
}

// One process, and a cluster (the default on a multi-core machine): SIGKILL of its primary makes node
// end every worker at once (a worker exits when its primary's channel closes), as abrupt as a crash.
for (const workers of ['1', '2']) t.test(`ack=spool, --workers ${workers}: SIGKILL under load, restart on the same spool: every acknowledged request is delivered`, async (t) => {
  const cwd = tempDir(t)
  const args = [BIN, 'serve', '--workers', workers, '--port', '0', '--host', '127.0.0.1', '--ack', 'spool', '--batch-seconds', '0.5']
  const first = spawnNode(t, args, { cwd })
  const listening: Array<{ port: number; pid: number }> = []
  for (let i = 0; i < Number(workers); i++) listening.push(await first.waitForJson<{ port: number; pid: number }>((line) => line['msg'] === 'listening' && (workers === '1' || line['worker'] === i)))
  const port = listening[0]!.port
  const acknowledged: string[] = []
  let killed = false
  await Promise.all(
    Array.from({ length: 16 }, async (_, sender) => {
      for (let i = 0; !killed; i++) {
        const body = `sender ${sender} request ${i} ` + 'x'.repeat(i % 7 === 0 ? 5000 : 50)
        const status = await post(`http://127.0.0.1:${port}/e`, body)
        if (status === 200) acknowledged.push(body)
        if (status === 0) return
        if (acknowledged.length >= 600 && !killed) {
          killed = true
          first.process.kill('SIGKILL')
        }
      }
    }),
  )
  await first.exited
  const segments = spoolSegments(join(cwd, 'spool'))
  t.ok(segments.length > 0, `${segments.length} segment(s) left in the spool by the killed process`)

  // The workers of the killed primary go away on their own: the next start waits for that.
  for (const { pid } of listening) await waitForExit(pid)
  const second = spawnNode(t, [BIN, 'serve', '--workers', workers, '--port', '0', '--host', '127.0.0.1', '--ack', 'spool'], { cwd })
  for (let i = 0; i < Number(workers); i++) await second.waitForJson((line) => line['msg'] === 'listening' && (workers === '1' || line['worker'] === i))
  t.equal(await second.stop('SIGTERM'), 0, 'the restarted server delivers the recovered segments and exits 0')
  t.match(second.output(), /recovered a spool segment/)
  t.same(spoolSegments(join(cwd, 'spool')), [], 'the spool is empty afterwards')

  const delivered = bodiesOf((await readLoggedRequests(join(cwd, 'batches'))).requests)
  t.ok(acknowledged.length >= 600, `${acknowledged.length} requests acknowledged before the kill`)
  const lost = acknowledged.filter((body) => !delivered.has(body))
  const duplicates = [...delivered.values()].filter((n) => n > 1).length
  t.comment(`${acknowledged.length} acknowledged, ${delivered.size} delivered, ${duplicates} duplicated`)
  t.same(lost, [], '0 acknowledged requests lost')
  t.equal(duplicates, 0, 'recovered batches keep their keys, so none is stored twice')
})

/** Spool segment files under `directory`, workers' folders included. */
function spoolSegments(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.seg'))
}

/** Resolves once process `pid` is gone. */
async function waitForExit(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    await sleep(20)
  }
}

t.test('S3 down under load: backlog bounded, 503 past the limit, everything acknowledged arrives', async (t) => {
  const s3 = await startS3rver()
  t.teardown(() => s3.close())
  const maxBacklogBytes = 8 * 1024
  const server = new LoggingServer({ sink: new S3Sink(s3.location), batchSeconds: 0.05, maxBacklogBytes, retryPolicy: FAST_RETRY })
  t.teardown(() => server.close().catch(() => {}))
  const { port } = await server.listen(0, '127.0.0.1')
  const url = `http://127.0.0.1:${port}/load`
  const acknowledged: string[] = []
  const statuses: number[] = []
  let peakBacklog = 0
  let n = 0
  const send = async (count: number) => {
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < count / 4; i++) {
          const body = `request ${n++} ${Math.random().toString(36).repeat(20)}`
          const status = await post(url, body)
          statuses.push(status)
          if (status === 200) acknowledged.push(body)
          peakBacklog = Math.max(peakBacklog, server.backlogBytes)
        }
      }),
    )
  }
  await send(40)
  await s3.stop()
  // Enough traffic to fill the backlog while S3 is away.
  for (let round = 0; round < 40 && !statuses.includes(503); round++) {
    await send(40)
    await sleep(60)
  }
  t.ok(statuses.includes(503), '503s appear once the backlog limit is reached')
  const refused = await request(url, { method: 'POST', body: 'refused' })
  t.equal(refused.statusCode, 503)
  t.equal(refused.headers['retry-after'], '5')
  t.match(await refused.body.text(), /backlog of \d+ bytes .* is over the 8192-byte limit/)
  t.notOk(server.ready, 'not ready while the sink fails')
  // Bounded: the limit plus the batches sealed while the last accepted requests were in flight.
  t.ok(peakBacklog < maxBacklogBytes + 64 * 1024, `peak backlog ${peakBacklog} bytes stays bounded`)

  await s3.start()
  while (server.backlogBytes > 0) await sleep(50)
  t.equal(await post(url, 'after the outage'), 200, 'the 503s stop once the backlog drained')
  acknowledged.push('after the outage')
  await server.close()
  const keys = await s3.keys()
  const { requests } = decodeBatches(await Promise.all(keys.map(async (key) => ({ key, body: await s3.get(key) }))))
  const delivered = bodiesOf(requests)
  t.same(acknowledged.filter((body) => !delivered.has(body)), [], `all ${acknowledged.length} acknowledged requests arrived`)
})

t.test('ack=s3: the answer waits until the batch holding the request is stored', async (t) => {
  const s3 = await startS3rver()
  t.teardown(() => s3.close())
  await s3.stop()
  // Down from the start: the start-up check is skipped (it would refuse to start).
  const server = new LoggingServer({ sink: new S3Sink(s3.location), ack: 's3', checkSinkAtStart: false, batchSeconds: 0.05, retryPolicy: FAST_RETRY })
  t.teardown(() => server.close().catch(() => {}))
  const { port } = await server.listen(0, '127.0.0.1')
  let answered = false
  const pending = post(`http://127.0.0.1:${port}/wait`, 'durable').then((status) => {
    answered = true
    return status
  })
  await sleep(500)
  t.notOk(answered, 'no answer while the sink is down')
  await s3.start()
  t.equal(await pending, 200)
  const keys = await s3.keys()
  t.equal(keys.length, 1, 'the batch was in S3 before the answer')
})

t.test('ack=spool, SIGTERM with the sink down: exits non-zero leaving the spool; the next start delivers', async (t) => {
  const s3 = await startS3rver('spool-bucket')
  t.teardown(() => s3.close())
  await s3.stop()
  const cwd = tempDir(t)
  const env = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' }
  const args = [BIN, 'serve', '--workers', '1', '--port', '0', '--host', '127.0.0.1', '--ack', 'spool', '--s3-bucket', 'spool-bucket', '--s3-endpoint', s3.endpoint, '--close-timeout-ms', '800', '--skip-sink-check']
  const first = spawnNode(t, args, { cwd, env })
  const { port } = await first.waitForJson<{ port: number }>((line) => line['msg'] === 'listening')
  const acknowledged: string[] = []
  for (let i = 0; i < 30; i++) if ((await post(`http://127.0.0.1:${port}/x`, `spooled ${i}`)) === 200) acknowledged.push(`spooled ${i}`)
  t.equal(acknowledged.length, 30, 'spool mode acknowledges while the sink is down')
  t.equal(await first.stop('SIGTERM'), 1, 'exits 1: batches left in the spool')
  t.match(first.output(), /left in the spool/)
  t.ok(readdirSync(join(cwd, 'spool')).some((name) => name.endsWith('.seg')))

  await s3.start()
  const second = spawnNode(t, args, { cwd, env })
  await second.waitForJson((line) => line['msg'] === 'batch stored')
  t.equal(await second.stop('SIGTERM'), 0)
  const keys = await s3.keys()
  const delivered = bodiesOf(decodeBatches(await Promise.all(keys.map(async (key) => ({ key, body: await s3.get(key) })))).requests)
  t.same(acknowledged.filter((body) => !delivered.has(body)), [], 'nothing lost')
})

// A tiny tmpfs is a disk that fills up; mounting one needs root (CI runs as root, so it runs there).
const notRoot = process.getuid?.() !== 0 && !process.env['CI'] ? 'mounting a tmpfs needs root' : false
t.test('a full spool disk: 503 with a clear reason, no crash, earlier requests kept', { skip: notRoot }, async (t) => {
  const spoolDirectory = tempDir(t, 'ls-full-spool-')
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', spoolDirectory], { stdio: 'ignore' })
  t.teardown(() => execFileSync('umount', [spoolDirectory]))
  const directory = tempDir(t)
  const server = new LoggingServer({ ack: 'spool', spoolDirectory, directory, batchSeconds: 60 })
  const rejectedReasons: string[] = []
  server.on('rejected', ({ reason }) => rejectedReasons.push(reason))
  const { port } = await server.listen(0, '127.0.0.1')
  const acknowledged: string[] = []
  const statuses: number[] = []
  for (let i = 0; i < 80; i++) {
    const body = `${i} `.padEnd(8 * 1024, '.')
    const status = await post(`http://127.0.0.1:${port}/fill`, body)
    statuses.push(status)
    if (status === 200) acknowledged.push(body)
  }
  t.ok(acknowledged.length > 5, `${acknowledged.length} acknowledged before the disk filled`)
  t.ok(statuses.includes(503), 'then 503')
  t.notOk(statuses.includes(0), 'no connection ever failed: the server did not crash')
  t.ok(rejectedReasons.some((reason) => /ENOSPC|spool/.test(reason)), `the reason names the spool: ${rejectedReasons[0]}`)
  const health = await request(`http://127.0.0.1:${port}/still-alive`)
  t.ok([200, 503].includes(health.statusCode), 'still answering')
  await health.body.dump()
  await server.close()
  const delivered = bodiesOf((await readLoggedRequests(directory)).requests)
  t.same(acknowledged.filter((body) => !delivered.has(body)), [], 'every acknowledged request is in the sink')
})
