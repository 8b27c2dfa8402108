import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { main } from '../src/cli/main.js'
import { DevServer, RANDOM_EVENT_TYPES, type EventRecord } from '../src/index.js'
import { captureIo } from './helpers/cli-io.js'

async function devServer(t: { teardown(fn: () => unknown): void }): Promise<{ server: DevServer; url: string }> {
  const server = new DevServer()
  const url = await server.listen(0)
  t.teardown(() => server.close())
  return { server, url }
}

for (const [format, batch] of [['json', 1], ['eventbuf-v2', 7]] as const) {
  t.test(`gen --format ${format} --batch ${batch} fills a DevServer with exactly --total events`, async (t) => {
    const { server, url } = await devServer(t)
    const io = captureIo()
    const code = await main(['gen', '--uri', url, '--total', '250', '--concurrency', '20', '--bucket', 'load', '--format', format, '--batch', String(batch), '--startTime', '1456606932', '--endTime', '1456693332'], io)
    t.equal(code, 0, io.err())
    const events: EventRecord[] = server.store.events('load')
    t.equal(events.length, 250, 'exactly --total')
    t.equal(new Set(events.map((e) => Buffer.from(e.key).toString('hex'))).size, 250, 'unique keys')
    t.ok(events.every((e) => e.clientTime >= 1456606932000 && e.clientTime <= 1456693332999), 'times between the two dates')
    t.ok(events.every((e) => (RANDOM_EVENT_TYPES as readonly unknown[]).includes(e.type) && typeof (JSON.parse(e.value) as { user?: unknown }).user === 'string'), 'random types and users')
    t.ok(new Set(events.map((e) => e.type)).size > 3, 'several types')
    t.match(io.out(), new RegExp(`sent: +250 events in ${Math.ceil(250 / batch)} requests`))
    t.match(io.out(), /failed: 0 events in 0 requests/)
    t.match(io.out(), /server: 250 stored, 0 duplicates/)
    t.match(io.out(), /req\/s/)
  })
}

t.test('gen defaults: the last day, bucket gen, 100 events', async (t) => {
  const { server, url } = await devServer(t)
  const io = captureIo()
  const before = Date.now()
  t.equal(await main(['gen', '-u', url], io), 0, io.err())
  const events = server.store.events('gen')
  t.equal(events.length, 100)
  t.ok(events.every((e) => e.clientTime >= Math.floor(before / 1000) * 1000 - 86_400_000 - 1000 && e.clientTime <= Date.now() + 1000), 'within the last day')
})

t.test('gen counts failures and exits 1', async (t) => {
  const { url } = await devServer(t)
  const io = captureIo()
  // A URL path that is not the API: every request gets 404, which is not retried.
  t.equal(await main(['gen', '--uri', url + '/api/post-events/nope', '--total', '5', '--retries', '0'], io), 1)
  t.match(io.out(), /failed: 5 events in 5 requests/)
  t.match(io.err(), /HTTP 404/)
})

t.test('gen usage errors exit 2', async (t) => {
  for (const argv of [[], ['--uri', 'http://127.0.0.1:1', '--format', 'xml'], ['--uri', 'http://127.0.0.1:1', '--startTime', '10', '--endTime', '5'], ['--uri', 'http://127.0.0.1:1', '--concurrency', '0'], ['--uri', 'nope']]) {
    const io = captureIo()
    t.equal(await main(['gen', ...argv], io), 2, argv.join(' ') || '(no flags)')
    t.match(io.err(), /logging-system gen: /)
  }
})

t.test('the installed command runs gen end to end', async (t) => {
  const { server, url } = await devServer(t)
  const bin = fileURLToPath(new URL('../bin/logging-system.js', import.meta.url))
  const { stdout } = await promisify(execFile)(process.execPath, [bin, 'gen', '--uri', url, '--total', '30', '--bucket', 'spawned', '--format', 'eventbuf-v2'])
  t.match(stdout, /sent: +30 events/)
  t.equal(server.store.events('spawned').length, 30)
})
