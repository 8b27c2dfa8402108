// WebSocket JSON-RPC on the EventServer (/rpc): results after the commit, notifications stored unanswered,
// JSON-RPC error codes, and `logging-system gen --ws`.
import { join } from 'node:path'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { main } from '../src/cli/main.js'
import { RpcClient } from '../src/client/rpc-client.js'
import { WriteKeys } from '../src/ingest/write-keys.js'
import type { EventRecord } from '../src/model/event-record.js'
import { EventServer } from '../src/servers/event-server.js'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { captureIo } from './helpers/cli-io.js'
import { tempDir } from './helpers/temp.js'

async function start(t: Test) {
  const store = new DuckDbEventStore({ path: join(tempDir(t), 'events.duckdb') })
  await store.open()
  const server = new EventServer({ store })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  const key = await new WriteKeys(store).create({ name: 'Socket', bucket: 'ws' })
  return { server, store, ws: url.replace(/^http/, 'ws') + '/rpc', key: key.key }
}

async function stored(store: DuckDbEventStore, bucket: string): Promise<EventRecord[]> {
  const events: EventRecord[] = []
  for await (const event of store.read({ bucket })) events.push(event)
  return events
}

/** Opens a raw socket and returns a function sending text and awaiting the next message. */
async function raw(t: Test, url: string) {
  const socket = new WebSocket(url)
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
  t.teardown(() => socket.close())
  const inbox: string[] = []
  const waiting: ((text: string) => void)[] = []
  socket.on('message', (data) => {
    const text = data.toString()
    const waiter = waiting.shift()
    if (waiter) waiter(text)
    else inbox.push(text)
  })
  return {
    send: (text: string) => socket.send(text),
    next: () => new Promise<unknown>((resolve) => {
      const queued = inbox.shift()
      if (queued !== undefined) resolve(JSON.parse(queued))
      else waiting.push((text) => resolve(JSON.parse(text)))
    }),
  }
}

t.test('track and batch answer after the commit; a key sent twice is a duplicate; values keep their exact text', async (t) => {
  const { store, ws, key } = await start(t)
  const client = new RpcClient(ws, key)
  t.teardown(() => client.close())
  t.same(await client.track({ key: 'e-1', type: 'click', value: { x: 1 }, clientTime: 1000, userId: 'u1' }), { stored: 1, duplicates: 0 })
  t.same(await client.track({ key: 'e-1', type: 'click', value: { x: 1 }, clientTime: 1000 }), { stored: 0, duplicates: 1 }, 'a retry is a duplicate')
  t.same(await client.batch([{ key: ['list', 1], type: 7, value: {} }, { key: 'e-2', type: 'view' }]), { stored: 2, duplicates: 0 })

  const socket = await raw(t, `${ws}?writeKey=${key}`)
  socket.send('{"jsonrpc":"2.0","id":"a","method":"track","params":{"key":"e-3","type":"t","value":{ "b" : [1.50, "é"] }}}')
  t.same(await socket.next(), { jsonrpc: '2.0', id: 'a', result: { stored: 1, duplicates: 0 } })

  const events = await stored(store, 'ws')
  t.equal(events.length, 4)
  const byKey = new Map(events.map((e) => [Buffer.from(e.key).toString('hex'), e]))
  const e3 = events.find((e) => e.type === 't')!
  t.equal(e3.value, '{ "b" : [1.50, "é"] }', 'exact value text')
  t.match(e3, { producer: 'Socket', source: 'rpc', ip: '127.0.0.1' })
  t.ok(byKey.size === 4)
  t.match(events.find((e) => e.type === 'click'), { userId: 'u1', clientTime: 1000 })
})

t.test('notifications are stored and never answered; JSON-RPC batches; error codes', async (t) => {
  const { store, ws, key } = await start(t)
  const socket = await raw(t, ws)
  socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'track', params: { writeKey: key, key: 'n-1', type: 'note' } }))
  socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'track', params: { writeKey: key, key: 'n-2', type: 'note' } }))
  t.same(await socket.next(), { jsonrpc: '2.0', id: 1, result: { stored: 1, duplicates: 0 } }, 'the first answer is the request\'s, not the notification\'s')
  let notes: EventRecord[] = []
  for (let i = 0; i < 50 && notes.length < 2; i++) {
    notes = await stored(store, 'ws')
    if (notes.length < 2) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.equal(notes.length, 2, 'the notification was stored')

  const errorOf = async (text: string) => ((await (socket.send(text), socket.next())) as { error: { code: number; message: string; data?: unknown } }).error
  t.match(await errorOf('{"jsonrpc":"2.0","id":'), { code: -32700, message: /malformed JSON/ })
  t.match(await errorOf('{"id":2,"method":"track"}'), { code: -32600 })
  t.match(await errorOf('{"jsonrpc":"2.0","id":3,"method":"delete","params":{}}'), { code: -32601, message: /no method "delete"/ })
  t.match(await errorOf(`{"jsonrpc":"2.0","id":4,"method":"track","params":{"writeKey":"${key}","type":""}}`), { code: -32602, message: /params.type/ })
  t.match(await errorOf(`{"jsonrpc":"2.0","id":5,"method":"batch","params":{"writeKey":"${key}","events":[{"type":"a","key":[[1]]}]}}`), { code: -32602, message: /params.events\[0\].key/ })
  t.match(await errorOf('{"jsonrpc":"2.0","id":6,"method":"track","params":{"type":"a","writeKey":"lsk_bad"}}'), { code: -32001, message: /unknown write key/, data: { error: 'LS_WRITE_KEY' } })
  t.match(await errorOf('{"jsonrpc":"2.0","id":7,"method":"track","params":{"type":"a"}}'), { code: -32001, message: /no write key/ })

  socket.send(`[{"jsonrpc":"2.0","id":8,"method":"track","params":{"writeKey":"${key}","type":"b","key":"b-1"}},{"jsonrpc":"2.0","method":"track","params":{"writeKey":"${key}","type":"b","key":"b-2"}},{"jsonrpc":"2.0","id":9,"method":"nope"}]`)
  t.match(await socket.next(), [{ id: 8, result: { stored: 1 } }, { id: 9, error: { code: -32601 } }], 'a batch answers its requests, not its notifications')
  t.equal((await stored(store, 'ws')).length, 4)
})

t.test('logging-system gen --ws drives /rpc', async (t) => {
  const { store, ws, key } = await start(t)
  const io = captureIo()
  const code = await main(['gen', '--ws', ws, '--write-key', key, '--total', '45', '--batch', '10', '--concurrency', '3', '--seed', '7'], io)
  t.equal(code, 0, io.err())
  t.match(io.out(), /sent: {3}45 events in 5 requests/)
  t.match(io.out(), /server: 45 stored, 0 duplicates/)
  t.equal((await stored(store, 'ws')).length, 45)
  const bad = captureIo()
  t.equal(await main(['gen', '--ws', ws, '--write-key', 'lsk_bad', '--total', '5', '--batch', '5'], bad), 1)
  t.match(bad.err(), /rpc error -32001: unknown write key/)
  t.equal(await main(['gen', '--ws', 'http://x', '--total', '1'], captureIo()), 2)
})
