// Forwarding to real HTTP servers on loopback: what each destination kind
// receives, retries (Retry-After, network errors), refusals split down to the
// refused events, the dead-letter store and a later retry from it.
import t from 'tap'
import { eventDedupId } from '../src/model/event-json.js'
import type { EventRecord } from '../src/model/event-record.js'
import { retryDeadLetters, dropDeadLetters } from '../src/forward/dead-letter-retry.js'
import { mixpanelInsertId, parseRetryAfter } from '../src/forward/destination.js'
import { Forwarder, type ForwarderOptions } from '../src/forward/forwarder.js'
import type { EventStore } from '../src/store/event-store.js'
import { openTestStore } from './helpers/duckdb-events.js'
import { sampleEvents } from './helpers/export-samples.js'
import { startReceiver, type Receiver } from './helpers/recording-receiver.js'

const noJitter = () => 0

function forwarder(store: EventStore, receiver: Receiver, options: Partial<ForwarderOptions> & Pick<ForwarderOptions, 'kind'>): Forwarder {
  return new Forwarder({ name: 'dest', store, url: `${receiver.url}/v1/batch`, settleMs: 0, random: noJitter, requestsPerSecond: 1000, ...options })
}

/** Stored events in the order the forwarder reads them (one write: bucket, then key). */
function storedOrder(events: EventRecord[]): string[] {
  return [...events]
    .sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : Buffer.compare(Buffer.from(a.key), Buffer.from(b.key))))
    .map(eventDedupId)
}

t.test('segment: every stored event once, in order, as a track call with the exact value and messageId', async (t) => {
  const store = await openTestStore(t)
  const events = sampleEvents(25)
  await store.write({ events })
  const receiver = await startReceiver(t)
  const fwd = forwarder(store, receiver, { kind: 'segment', writeKey: 'wk_123', batchSize: 10 })
  t.equal(await fwd.drain(), 25)
  t.equal(receiver.requests.length, 3, 'batches of 10, 10 and 5')
  t.same(receiver.requests.map((r) => r.ids.length), [10, 10, 5])
  t.same(receiver.accepted, storedOrder(events), 'each event once, in the stored order')
  const first = receiver.requests[0]!
  t.equal(first.path, '/v1/batch')
  t.equal(first.headers.authorization, 'Basic ' + Buffer.from('wk_123:').toString('base64'), 'write key as Basic auth')
  const calls = receiver.requests.flatMap((r) => (r.json as { batch: Record<string, unknown>[] }).batch)
  for (const call of calls) {
    const event = events.find((e) => eventDedupId(e) === call.messageId)!
    t.equal(call.type, 'track')
    t.equal(call.event, String(event.type))
    t.same(call.properties, JSON.parse(event.value), `properties of ${call.messageId}`)
    t.equal(call.timestamp, new Date(event.clientTime).toISOString())
    if (event.userId !== null) t.equal(call.userId, event.userId)
    else t.equal(call.anonymousId, event.anonymousId || eventDedupId(event), 'an anonymous id always (Segment needs one of the two)')
  }
  const compact = events.find((e) => !e.value.includes('\n'))!
  t.ok(receiver.requests.some((r) => r.text.includes(`"properties":${compact.value}`)), 'the value text is sent as received')
  t.equal(await fwd.drain(), 0, 'nothing left after the checkpoint')
  t.equal(receiver.requests.length, 3)
  const [checkpoint] = await store.checkpoints('forward:dest')
  t.ok(checkpoint, 'the checkpoint is in the store')
  // Events committed later are picked up after the checkpoint.
  const later = sampleEvents(30).slice(25)
  await store.write({ events: later })
  t.equal(await fwd.drain(), 5)
  t.same(receiver.accepted, [...storedOrder(events), ...storedOrder(later)])
})

t.test('mixpanel: a 2xx "0" refuses a batch; it is split down to the refused events, which go to the dead-letter store; retry delivers them later', async (t) => {
  const store = await openTestStore(t)
  const events = sampleEvents(12).map((e, i) => (i === 3 || i === 8 ? { ...e, value: '{"bad":true}' } : e))
  await store.write({ events })
  const receiver = await startReceiver(t)
  let healed = false
  receiver.answer = (request) => {
    const bad = (request.json as { properties: { bad?: boolean } }[]).some((e) => e.properties.bad)
    return bad && !healed ? { status: 200, body: '0' } : { status: 200, body: '1' }
  }
  const fwd = forwarder(store, receiver, { kind: 'mixpanel', url: `${receiver.url}/track`, token: 'tok', batchSize: 12 })
  await fwd.drain()
  const bad = [events[3]!, events[8]!]
  const good = events.filter((e) => !bad.includes(e))
  t.same(new Set(receiver.accepted), new Set(good.map(mixpanelInsertId)), 'the other 10 are delivered')
  t.equal(receiver.accepted.length, 10, 'each once')
  const sent = (receiver.requests[0]!.json as { event: string; properties: Record<string, unknown> }[])[0]!
  t.equal(sent.properties.token, 'tok')
  t.match(sent.properties.$insert_id, /^[0-9a-f]{32}$/)
  const dead = await fwd.deadLetters.list()
  t.same(dead.map((d) => d.id).sort(), bad.map(eventDedupId).sort(), 'exactly the refused events are dead letters')
  t.match(dead[0]!.reason, /refused: 0/)
  t.equal(dead[0]!.destination, 'dest')

  healed = true
  const report = await retryDeadLetters(fwd, store)
  t.same(report, { delivered: 2, failed: 0, missing: 0 })
  t.same(await fwd.deadLetters.list(), [], 'no dead letters left')
  t.same((await fwd.deadLetters.list({ status: 'delivered' })).map((d) => d.id).sort(), bad.map(eventDedupId).sort())
  t.same(new Set(receiver.accepted), new Set(events.map(mixpanelInsertId)), 'every event delivered in the end')
})

t.test('webhook failing mid-batch: the receiver kept part of a batch and answered 503 with Retry-After; after the retry every event is there (dedup by id), none lost', async (t) => {
  const store = await openTestStore(t)
  const events = sampleEvents(20)
  await store.write({ events })
  const receiver = await startReceiver(t)
  const kept = new Set<string>()
  const times: number[] = []
  receiver.answer = (request, index) => {
    times.push(Date.now())
    if (index === 1) {
      // Took the first half of the batch, then failed.
      request.ids.slice(0, 5).forEach((id) => kept.add(id))
      return { status: 503, headers: { 'retry-after': '1' }, body: 'overloaded' }
    }
    if (index === 2) return { status: 0, destroy: true }
    request.ids.forEach((id) => kept.add(id))
    return { status: 200 }
  }
  const fwd = forwarder(store, receiver, { kind: 'webhook', url: `${receiver.url}/hook`, headers: { authorization: 'Bearer s3cret' }, batchSize: 10, retry: { initialDelayMs: 10 } })
  t.equal(await fwd.drain(), 20)
  t.same([...kept].sort(), events.map(eventDedupId).sort(), 'every event arrived')
  t.equal(receiver.requests.length, 4, 'the second batch was sent three times (503, connection reset, 200)')
  t.same(receiver.requests[1]!.ids, receiver.requests[3]!.ids, 'the same batch, with the same ids')
  t.ok(times[2]! - times[1]! >= 1000, `waited for Retry-After: 1 (${times[2]! - times[1]!} ms)`)
  t.equal(receiver.requests[0]!.headers.authorization, 'Bearer s3cret')
  const body = receiver.requests[0]!.json as { events: Record<string, unknown>[] }
  t.same(Object.keys(body.events[0]!), ['id', 'bucket', 'key', 'type', 'value', 'clientTime', 'serverTime', 'originalClientTime', 'userId', 'anonymousId', 'producer', 'ip', 'source'])
  t.same(await fwd.deadLetters.list(), [])
  t.same(fwd.stats, { read: 20, delivered: 20, deadLettered: 0, requests: 4, retries: 2 })
})

t.test('out of retries: the batch goes to the dead-letter store and the checkpoint moves on; drop marks them dropped', async (t) => {
  const store = await openTestStore(t)
  const events = sampleEvents(6)
  await store.write({ events })
  const receiver = await startReceiver(t)
  receiver.answer = () => ({ status: 500, body: 'down' })
  const fwd = forwarder(store, receiver, { kind: 'webhook', batchSize: 3, retry: { initialDelayMs: 1, maxDelayMs: 5, maxRetries: 2 } })
  t.equal(await fwd.drain(), 6)
  t.equal(receiver.requests.length, 6, 'two batches, three attempts each')
  const dead = await fwd.deadLetters.list()
  t.equal(dead.length, 6)
  t.match(dead[0]!.reason, /gave up after 3 attempts: HTTP 500: down/)
  t.equal(await fwd.drain(), 0, 'the checkpoint moved past them')

  const retried = await retryDeadLetters(fwd, store, [eventDedupId(events[0]!)])
  t.same(retried, { delivered: 0, failed: 1, missing: 0 }, 'a retry while still down fails again')
  t.equal((await fwd.deadLetters.list({ ids: [eventDedupId(events[0]!)] }))[0]!.attempts, 2, 'one more attempt counted')
  t.equal(await dropDeadLetters(fwd.deadLetters, { destination: 'dest', ids: [eventDedupId(events[1]!)] }), 1)
  t.equal((await fwd.deadLetters.list()).length, 5)
  t.same((await fwd.deadLetters.list({ status: 'dropped' })).map((d) => d.id), [eventDedupId(events[1]!)])
  receiver.answer = () => ({ status: 200 })
  t.same(await retryDeadLetters(fwd, store), { delivered: 5, failed: 0, missing: 0 })
  t.same(new Set(receiver.accepted), new Set(events.filter((_, i) => i !== 1).map(eventDedupId)), 'all but the dropped one delivered')
})

t.test('a 4xx refusal is not retried; a 429 is, honouring Retry-After', async (t) => {
  const store = await openTestStore(t)
  await store.write({ events: sampleEvents(2) })
  const receiver = await startReceiver(t)
  receiver.answer = (_request, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 400, body: '{"error":"bad"}' })
  const fwd = forwarder(store, receiver, { kind: 'segment', batchSize: 1 })
  await fwd.drain()
  t.equal(receiver.requests.length, 3, '429 then 400 for the first event, 400 for the second')
  t.same((await fwd.deadLetters.list()).map((d) => d.reason), ['HTTP 400: {"error":"bad"}', 'HTTP 400: {"error":"bad"}'])
})

t.test('rate limit: requests beyond requestsPerSecond wait for a token', async (t) => {
  const store = await openTestStore(t)
  await store.write({ events: sampleEvents(5) })
  const receiver = await startReceiver(t)
  const times: number[] = []
  receiver.answer = () => {
    times.push(Date.now())
    return { status: 200 }
  }
  const fwd = forwarder(store, receiver, { kind: 'webhook', batchSize: 1, requestsPerSecond: 4 })
  await fwd.drain()
  t.equal(times.length, 5)
  // The fifth token comes 250 ms after the first take; the receiver's clock sees a little less (the first request's transit).
  t.ok(times[4]! - times[0]! >= 200, `5 requests at 4/s with a burst of 4 are spread over about 250 ms (${times[4]! - times[0]!} ms)`)
})

t.test('Retry-After: seconds or an HTTP date', async (t) => {
  t.equal(parseRetryAfter('3'), 3000)
  t.equal(parseRetryAfter(new Date(Date.UTC(2026, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2026, 0, 1)), 10_000)
  t.equal(parseRetryAfter('soon'), undefined)
  t.equal(parseRetryAfter(undefined), undefined)
})

t.test('bad destination options are refused with LS_INVALID_OPTION', async (t) => {
  const store = await openTestStore(t)
  t.throws(() => new Forwarder({ name: 'x', store, kind: 'webhook' }), { code: 'LS_INVALID_OPTION', message: /url/ })
  t.throws(() => new Forwarder({ name: 'x', store, kind: 'carrier-pigeon' as 'webhook', url: 'http://x' }), { code: 'LS_INVALID_OPTION' })
  t.throws(() => new Forwarder({ name: '', store, kind: 'segment' }), { code: 'LS_INVALID_OPTION' })
  t.throws(() => new Forwarder({ name: 'x', store, kind: 'segment', batchSize: 0 }), { code: 'LS_INVALID_OPTION' })
  t.throws(() => new Forwarder({ name: 'x', store, kind: 'segment', pollMs: 0 }), { code: 'LS_INVALID_OPTION', message: /pollMs/ })
  t.throws(() => new Forwarder({ name: 'x', store, kind: 'segment', retry: { maxRetries: -1 } }), { code: 'LS_INVALID_OPTION', message: /retry.maxRetries/ })
})
