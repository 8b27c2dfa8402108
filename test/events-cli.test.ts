// `logging-system events` as a real child process: flags and their
// exclusions, the admin port, and kill -9 in the middle of tailing and after
// acknowledged direct posts: after a restart every acknowledged or tailed
// event is there exactly once.
import t from 'tap'
import { join } from 'node:path'
import { request } from 'undici'
import { main } from '../src/cli/main.js'
import { captureIo } from './helpers/cli-io.js'
import { writeTailBacklog } from './helpers/tail-backlog.js'
import { LoggingServer } from '../src/index.js'
import { makeEvents, postEvents } from './helpers/replay.js'
import { startS3rver, S3RVER_CREDENTIALS } from './helpers/s3rver.js'
import { spawnNode, type Child } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname

t.test('--help shows every flag with its default and variable', async (t) => {
  const io = captureIo()
  t.equal(await main(['events', '--help'], io), 0)
  const help = io.out()
  for (const flag of ['port', 'host', 'db', 'clickhouse', 'tail-dir', 'tail-s3-bucket', 'tail-s3-prefix', 'tail-s3-endpoint', 'tail-since', 'tail-interval-seconds', 'tail-write-events', 'admin-port']) {
    t.match(help, new RegExp(`--${flag} .*env: LOGGING_SYSTEM_EVENTS_${flag.toUpperCase().replace(/-/g, '_')}\\)`), `--${flag}`)
  }
  t.match(help, /--port <integer>.*default: 8090/)
  t.match(help, /--host <value>.*default: 0\.0\.0\.0/)
  t.match(help, /--tail-interval-seconds <number>.*default: 10/)
  t.match(help, /--db <value>.*\.\/events\.duckdb/)
  const top = captureIo()
  await main(['--help'], top)
  t.match(top.out(), /events\s+Run the EventServer/)
})

t.test('exclusive flags and bad values are refused with a clear error', async (t) => {
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [['--db', 'a.duckdb', '--clickhouse', 'http://127.0.0.1:8123'], {}, /--db and --clickhouse exclude each other/],
    [['--tail-dir', 'x'], { LOGGING_SYSTEM_EVENTS_TAIL_S3_BUCKET: 'b' }, /--tail-dir and --tail-s3-bucket \(from LOGGING_SYSTEM_EVENTS_TAIL_S3_BUCKET\) exclude each other/],
    [['--tail-dir', 'x', '--tail-since', '2026-13-01'], {}, /--tail-since must be a UTC day as YYYY-MM-DD/],
    [['--tail-since', '2026-11-01'], {}, /--tail-since needs --tail-dir or --tail-s3-bucket/],
    [['--tail-interval-seconds', '0', '--tail-dir', 'x'], {}, /--tail-interval-seconds must be more than 0/],
    [['--port', 'eighty'], {}, /--port must be an integer/],
    [['--tail-dir', 'x', '--tail-write-events', '0'], {}, /--tail-write-events must be 1 or more/],
  ]
  for (const [args, env, message] of cases) {
    const io = captureIo(env)
    t.equal(await main(['events', ...args], io), 2, args.join(' '))
    t.match(io.err(), message)
  }
})

interface Running {
  child: Child
  url: string
  admin: string
}

async function startEvents(t: { teardown(fn: () => unknown): void }, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawnNode(t, [BIN, 'events', '--port', '0', '--host', '127.0.0.1', '--admin-port', '0', ...args], { env })
  const listening = await child.waitForJson<{ url: string }>((line) => line.msg === 'EventServer listening')
  const admin = await child.waitForJson<{ port: number }>((line) => line.msg === 'admin listening')
  return { child, url: listening.url, admin: `http://127.0.0.1:${admin.port}` }
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await request(url)
  return { status: res.statusCode, text: await res.body.text() }
}

async function bucketCount(url: string, bucket: string): Promise<number> {
  const { text } = await get(`${url}/buckets.json`)
  return (JSON.parse(text) as { buckets: Array<{ bucket: string; count: number }> }).buckets.find((b) => b.bucket === bucket)?.count ?? 0
}

async function keysOf(url: string, bucket: string): Promise<string[]> {
  const { text } = await get(`${url}/events.json?bucket=${bucket}`)
  return (JSON.parse(text) as { events: Array<{ key: string }> }).events.map((e) => e.key)
}

function metric(text: string, name: string): number {
  const match = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)
  return match ? Number(match[1]) : Number.NaN
}

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0)

t.test('kill -9 in the middle of tailing, then restart: every logged event exactly once', async (t) => {
  const dir = tempDir(t)
  const db = join(tempDir(t), 'events.duckdb')
  // A backlog: 300 batches of one server, each with 60 whole requests and the first half of one finished in the next batch.
  const expected = writeTailBacklog(dir, { serverToken: 'KiLLtest', batches: 300, perBatch: 60, startTime: T0 })
  // Small writes (a few batches each), so the kill lands between commits of the backlog.
  const args = ['--db', db, '--tail-interval-seconds', '0.05', '--tail-write-events', '200']
  const first = await startEvents(t, args, { LOGGING_SYSTEM_EVENTS_TAIL_DIR: dir })
  let atKill = 0
  while ((atKill = await bucketCount(first.url, 'b')) < 1000) await new Promise((resolve) => setTimeout(resolve, 10))
  first.child.process.kill('SIGKILL')
  await first.child.exited
  t.ok(atKill < expected.length, `killed mid-tail (${atKill} of ${expected.length} stored)`)

  const second = await startEvents(t, args, { LOGGING_SYSTEM_EVENTS_TAIL_DIR: dir })
  while ((await bucketCount(second.url, 'b')) < expected.length) await new Promise((resolve) => setTimeout(resolve, 50))
  const keys = await keysOf(second.url, 'b')
  t.equal(keys.length, expected.length, 'as many events as logged')
  t.same([...keys].sort(), [...expected].sort(), 'each logged event exactly once')
  const metrics = (await get(`${second.admin}/metrics`)).text
  t.equal(metric(metrics, 'events_duplicates_total{origin="tail"}'), 0, 'the checkpoint was committed with its events: nothing handed out twice')
  t.equal(metric(metrics, 'events_tail_requests_skipped_total{reason="incomplete"}'), 0, 'the split request open at the kill was joined')
  t.equal((await get(`${second.admin}/readyz`)).status, 200)
  t.equal(await second.child.stop('SIGTERM'), 0, 'SIGTERM: a clean stop')
})

t.test('kill -9 after acknowledged direct posts: every acknowledged event is there after a restart', async (t) => {
  const db = join(tempDir(t), 'events.duckdb')
  const first = await startEvents(t, ['--db', db])
  const acknowledged: string[] = []
  let stop = false
  // Four writers post until the kill; only 200 answers count as acknowledged.
  const writers = Array.from({ length: 4 }, async (_, w) => {
    for (let n = 0; !stop; n++) {
      const events = Array.from({ length: 20 }, (_, i) => ({ key: `w${w}-${n}-${i}`, type: 'd', value: { w, n, i }, clientTime: 1 }))
      try {
        const res = await request(`${first.url}/api/post-events?bucket=direct`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) })
        await res.body.dump()
        if (res.statusCode === 200) acknowledged.push(...events.map((e) => e.key))
      } catch {
        return // the server died under this request: not acknowledged
      }
    }
  })
  while (acknowledged.length < 2000) await new Promise((resolve) => setTimeout(resolve, 5))
  first.child.process.kill('SIGKILL')
  stop = true
  await Promise.all(writers)
  await first.child.exited

  const second = await startEvents(t, ['--db', db])
  const keys = new Set(await keysOf(second.url, 'direct'))
  const count = await bucketCount(second.url, 'direct')
  t.equal(count, keys.size, 'no key twice')
  t.equal(acknowledged.filter((key) => !keys.has(key)).length, 0, `all ${acknowledged.length} acknowledged events are there`)
  // A second EventServer on the same file is refused with a clear error.
  const clash = spawnNode(t, [BIN, 'events', '--port', '0', '--host', '127.0.0.1', '--db', db])
  t.equal(await clash.exited, 1)
  t.match(clash.output(), /could not start: .*locked/)
})

t.test('--tail-s3-bucket/--tail-s3-prefix/--tail-s3-endpoint: a LoggingServer writing to s3rver, tailed by the command', async (t) => {
  const s3 = await startS3rver()
  t.teardown(() => s3.close())
  const logger = new LoggingServer({ s3: s3.location, keyPrefix: 'prod/web', batchSeconds: 0.2 })
  const { port } = await logger.listen(0, '127.0.0.1')
  t.teardown(() => logger.close())
  const sent = [...makeEvents('s3json', 9), ...makeEvents('s3buf', 9)]
  await postEvents(`http://127.0.0.1:${port}`, 'shop', sent.slice(0, 9), 'json', 2)
  const env = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' }
  const events = await startEvents(t, ['--db', join(tempDir(t), 'e.duckdb'), '--tail-s3-bucket', s3.bucket, '--tail-s3-prefix', 'prod/web', '--tail-s3-endpoint', s3.endpoint, '--tail-interval-seconds', '0.1'], env)
  // Traffic after the EventServer started is picked up too.
  await postEvents(`http://127.0.0.1:${port}`, 'shop', sent.slice(9), 'eventbuf-v2', 2)
  while ((await bucketCount(events.url, 'shop')) < sent.length) await new Promise((resolve) => setTimeout(resolve, 50))
  t.same((await keysOf(events.url, 'shop')).sort(), sent.map((e) => String(e.key)).sort(), 'exactly the posted events')
  const metrics = (await get(`${events.admin}/metrics`)).text
  t.ok(metric(metrics, 'events_tail_batches_total{result="read"}') >= 2, 'batches tailed are counted')
  t.equal(metric(metrics, 'events_stored_total{origin="tail"}'), sent.length)
})
