// The forward and dead-letters commands: a forwarder process killed with -9
// mid-stream and started again ends with every stored event delivered (the
// receiver dedups by id) and none lost; a refused event goes to the
// dead-letter store, which list shows and retry empties.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { main } from '../src/cli/main.js'
import { eventDedupId } from '../src/model/event-json.js'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { captureIo } from './helpers/cli-io.js'
import { sampleEvents } from './helpers/export-samples.js'
import { startReceiver } from './helpers/recording-receiver.js'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname

async function storeFile(t: Parameters<typeof tempDir>[0], count: number) {
  const dir = tempDir(t)
  const path = join(dir, 'events.duckdb')
  const store = new DuckDbEventStore({ path, threads: 1 })
  await store.open()
  const events = sampleEvents(count)
  // Several commits, so ingested_at differs between groups.
  for (let i = 0; i < events.length; i += 50) await store.write({ events: events.slice(i, i + 50) })
  await store.close()
  return { dir, path, events }
}

t.test('a forwarder killed with -9 mid-stream, then restarted: every event delivered, none lost', async (t) => {
  const { dir, path, events } = await storeFile(t, 300)
  const receiver = await startReceiver(t)
  const config = join(dir, 'processors.json')
  await writeFile(config, JSON.stringify({ processors: [{ kind: 'forward', name: 'hook', options: { kind: 'webhook', url: `${receiver.url}/hook`, batchSize: 10, settleMs: 0, pollMs: 50, requestsPerSecond: 1000 } }] }))
  const args = [BIN, 'forward', '--config', config, '--db', path]
  let child = spawnNode(t, args)
  await child.waitForJson((line) => 'forwarding' in line)
  let killedBatch: string[] = []
  receiver.answer = (request, index) => {
    if (index === 7) {
      // The batch arrived; the forwarder dies before it hears the answer, so its checkpoint never moved past it.
      child.process.kill('SIGKILL')
      killedBatch = request.ids
    }
    return { status: 200 }
  }
  t.equal(await child.exited, null, 'killed by the signal')
  const before = new Set(receiver.accepted)
  t.ok(before.size >= 80 && before.size < 300, `part of the events went out before the kill (${before.size})`)

  child = spawnNode(t, args)
  await child.waitForJson((line) => 'forwarding' in line)
  const all = events.map(eventDedupId)
  while (!all.every((id) => receiver.accepted.includes(id))) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(await child.stop('SIGTERM'), 0, 'the restarted forwarder stops cleanly on SIGTERM')
  t.same(new Set(receiver.accepted), new Set(all), 'every stored event was delivered')
  t.ok(killedBatch.length === 10 && killedBatch.every((id) => receiver.accepted.filter((x) => x === id).length === 2), 'the batch in flight at the kill was sent again (the receiver dedups it by id)')
  t.equal(receiver.accepted.length, 300 + killedBatch.length, 'nothing else was repeated')
  const stats = JSON.parse(child.output().trim().split('\n').filter((line) => line.includes('"destination"')).pop()!)
  t.equal(stats.deadLettered, 0)
})

t.test('dead-letters list, retry and drop through the CLI', async (t) => {
  const { dir, path, events } = await storeFile(t, 8)
  const receiver = await startReceiver(t)
  const bad = new Set([eventDedupId(events[2]!), eventDedupId(events[5]!), eventDedupId(events[6]!)])
  let healed = false
  receiver.answer = (request) => (!healed && request.ids.some((id) => bad.has(id)) ? { status: 422, body: '{"error":"unprocessable"}' } : { status: 200 })
  const config = join(dir, 'processors.json')
  await writeFile(config, JSON.stringify([{ kind: 'forward', name: 'seg', options: { kind: 'segment', url: `${receiver.url}/v1/batch`, writeKey: 'k', settleMs: 0 } }]))

  const once = captureIo()
  t.equal(await main(['forward', '--once', '--config', config, '--db', path], once), 1, '--once exits 1 when something was dead-lettered')
  t.match(once.out(), /"destination":"seg","read":8,"delivered":5,"deadLettered":3/)

  const list = captureIo()
  t.equal(await main(['dead-letters', 'list', '--db', path], list), 0)
  const listed = list.out().trim().split('\n').map((line) => JSON.parse(line))
  t.same(new Set(listed.map((l) => l.id)), bad, 'list shows the refused events')
  t.match(listed[0], { destination: 'seg', status: 'dead', attempts: 1, reason: 'HTTP 422: {"error":"unprocessable"}' })

  const drop = captureIo()
  t.equal(await main(['dead-letters', 'drop', '--db', path, '--id', eventDedupId(events[6]!)], drop), 0)
  t.same(JSON.parse(drop.out()), { dropped: 1 })

  healed = true
  const retry = captureIo()
  t.equal(await main(['dead-letters', 'retry', '--destination', 'seg', '--config', config, '--db', path], retry), 0)
  t.same(JSON.parse(retry.out()), { delivered: 2, failed: 0, missing: 0 })
  const after = captureIo()
  await main(['dead-letters', 'list', '--db', path], after)
  t.equal(after.out(), '', 'nothing dead any more')
  const dropped = captureIo()
  await main(['dead-letters', 'list', '--status', 'dropped', '--db', path], dropped)
  t.equal(JSON.parse(dropped.out()).id, eventDedupId(events[6]!))
  t.same(new Set(receiver.accepted), new Set(events.filter((_, i) => i !== 6).map(eventDedupId)), 'delivered: all but the dropped one')

  const usage = captureIo()
  t.equal(await main(['dead-letters', 'retry', '--db', path], usage), 2, 'retry without --destination is a usage error')
  t.match(usage.err(), /retry needs --destination/)
  t.equal(await main(['dead-letters', 'purge', '--db', path], captureIo()), 2)
})
