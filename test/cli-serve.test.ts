// `logging-system serve` as a user runs it: flags, environment, signals, logs.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { request } from 'undici'
import { join } from 'node:path'
import { readLoggedRequests, decodeBatches } from './helpers/batches.js'
import { startS3rver, S3RVER_CREDENTIALS } from './helpers/s3rver.js'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname
type LogLine = { msg: string; port?: number; key?: string; bytes?: number; events?: number }

t.test('--help lists every flag with its default and environment variable', async (t) => {
  const help = spawnSync(process.execPath, [BIN, 'serve', '--help'], { encoding: 'utf8' })
  t.equal(help.status, 0)
  for (const flag of ['--port', '--host', '--dir', '--s3-bucket', '--s3-prefix', '--s3-endpoint', '--s3-region', '--batch-seconds', '--max-body-bytes', '--trust-proxy']) {
    t.match(help.stdout, flag)
  }
  t.match(help.stdout, /default: 8080; env: LOGGING_SYSTEM_PORT/)
  const top = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' })
  t.match(top.stdout, /serve/)
})

t.test('bad command lines exit 2 with a message that says what is wrong', async (t) => {
  const both = spawnSync(process.execPath, [BIN, 'serve', '--dir', 'x', '--s3-bucket', 'y'], { encoding: 'utf8' })
  t.equal(both.status, 2)
  t.match(both.stderr, /--dir and --s3-bucket exclude each other/)
  const notNumber = spawnSync(process.execPath, [BIN, 'serve', '--port', 'eighty'], { encoding: 'utf8' })
  t.equal(notNumber.status, 2)
  t.match(notNumber.stderr, /--port must be an integer/)
  const badEnv = spawnSync(process.execPath, [BIN, 'serve'], { encoding: 'utf8', env: { ...process.env, LOGGING_SYSTEM_BATCH_SECONDS: 'soon' } })
  t.equal(badEnv.status, 2)
  t.match(badEnv.stderr, /LOGGING_SYSTEM_BATCH_SECONDS must be a number/)
  const unknown = spawnSync(process.execPath, [BIN, 'serve', '--colour'], { encoding: 'utf8' })
  t.equal(unknown.status, 2)
  t.match(unknown.stderr, /colour/)
  const badMode = spawnSync(process.execPath, [BIN, 'serve', '--ip-mode', 'half', '--port', '0'], { encoding: 'utf8' })
  t.equal(badMode.status, 2)
  t.match(badMode.stderr, /ipMode/)
  const badWorkers = spawnSync(process.execPath, [BIN, 'serve', '--workers', 'many', '--port', '0'], { encoding: 'utf8' })
  t.equal(badWorkers.status, 2)
  t.match(badWorkers.stderr, /--workers must be a positive integer or auto, got many/)
  const badEncoding = spawnSync(process.execPath, [BIN, 'serve', '--body-encoding', 'hex', '--port', '0'], { encoding: 'utf8' })
  t.equal(badEncoding.status, 2)
  t.match(badEncoding.stderr, /bodyEncoding/)
})

t.test('defaults: ./batches in the working directory; SIGTERM under load loses nothing', async (t) => {
  const cwd = tempDir(t)
  // Port from the environment, everything else default.
  const child = spawnNode(t, [BIN, 'serve', '--host', '127.0.0.1'], { cwd, env: { LOGGING_SYSTEM_PORT: '0' } })
  const { port } = await child.waitForJson<LogLine>((line) => line['msg'] === 'listening')
  const acknowledged: string[] = []
  let stopping: Promise<number | null> | undefined
  const senders = Array.from({ length: 8 }, async (_, sender) => {
    for (let i = 0; ; i++) {
      const body = `sender ${sender} request ${i}`
      try {
        const res = await request(`http://127.0.0.1:${port}/load`, { method: 'POST', body })
        const text = await res.body.text()
        if (res.statusCode === 200 && text === 'OK\n') acknowledged.push(body)
      } catch {
        return // the server stopped accepting
      }
      if (i === 25 && sender === 0) stopping = child.stop('SIGTERM')
    }
  })
  await Promise.all(senders)
  t.equal(await stopping, 0, 'exits 0 after writing the last batch')
  const { requests } = await readLoggedRequests(join(cwd, 'batches'))
  const logged = new Set(requests.filter((r) => r.outcomeName === 'complete').map((r) => r.body.toString()))
  t.ok(acknowledged.length > 25, `${acknowledged.length} requests acknowledged`)
  t.same(acknowledged.filter((body) => !logged.has(body)), [], 'every acknowledged request is in a batch')
  const stored = child.output().split('\n').filter((line) => line.includes('"batch stored"')).map((line) => JSON.parse(line) as LogLine)
  t.ok(stored.length >= 1)
  t.ok(stored.every((line) => line.key && line.bytes! > 0 && line.events! > 0), 'each stored batch is logged with key, bytes and events')
})

t.test('--s3-bucket with --s3-endpoint writes to an S3-compatible store', async (t) => {
  const s3 = await startS3rver('cli-bucket')
  t.teardown(() => s3.close())
  const child = spawnNode(t, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--s3-bucket', 'cli-bucket', '--s3-prefix', 'edge', '--s3-endpoint', s3.endpoint], {
    cwd: tempDir(t),
    env: { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' },
  })
  const { port } = await child.waitForJson<LogLine>((line) => line['msg'] === 'listening')
  const res = await request(`http://127.0.0.1:${port}/hello?x=1`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'to s3' })
  await res.body.dump()
  t.equal(await child.stop('SIGINT'), 0)
  const keys = await s3.keys()
  t.equal(keys.length, 1)
  t.match(keys[0]!, /^edge\/v1\//)
  const { requests } = decodeBatches([{ key: keys[0]!, body: await s3.get(keys[0]!) }])
  t.equal(requests[0]?.body.toString(), 'to s3')
  t.equal(requests[0]?.path, '/hello?x=1')
})
