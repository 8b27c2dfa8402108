// The real analytics clients (@segment/analytics-node, posthog-node, mixpanel, @rudderstack/rudder-sdk-node)
// pointed at 127.0.0.1: first straight at the EventServer, then at a LoggingServer whose batches the
// EventServer tails. The stored events must be exactly what each client sent, retries must store nothing
// twice, bad write keys get 401 (direct) or are counted and kept as rejects (logged), identities merge.
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { LoggingServer } from '../src/index.js'
import { StoreUnavailableError } from '../src/errors.js'
import { encodeKey } from '../src/formats/keyjson.js'
import { WriteKeys } from '../src/ingest/write-keys.js'
import type { EventRecord } from '../src/model/event-record.js'
import { DirectorySource } from '../src/reader/directory-source.js'
import { EventServer } from '../src/servers/event-server.js'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import type { EventStore, WriteBatch } from '../src/store/event-store.js'
import { mixpanelClient, posthogClient, rudderClient, segmentClient, type SentRequest } from './helpers/analytics-clients.js'
import { tempDir } from './helpers/temp.js'

/** A DuckDB store whose next write can be made to commit and then fail, as a lost answer would look to a client. */
function storeWithLostAnswers(path: string): EventStore & { loseNextAnswer(): void } {
  const store = new DuckDbEventStore({ path })
  let lose = false
  const write = store.write.bind(store)
  return Object.assign(store, {
    loseNextAnswer: () => void (lose = true),
    write: async (batch: WriteBatch) => {
      const result = await write(batch)
      if (lose && batch.events.length > 0) {
        lose = false
        throw new StoreUnavailableError('answer lost on purpose (test)')
      }
      return result
    },
  })
}

async function startEventServer(t: Test, options: Partial<ConstructorParameters<typeof EventServer>[0]> = {}) {
  const store = storeWithLostAnswers(join(tempDir(t), 'events.duckdb'))
  await store.open()
  const server = new EventServer({ store, ...options })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  const keys = new WriteKeys(store)
  const web = await keys.create({ name: 'Web API', bucket: 'web' })
  const mobile = await keys.create({ name: 'iPhone API', bucket: 'mobile' })
  const revoked = await keys.create({ name: 'Old', bucket: 'web' })
  await keys.revoke(revoked.id)
  return { server, url, store, keys: { web: web.key, mobile: mobile.key, revoked: revoked.key } }
}

async function stored(store: EventStore, bucket: string): Promise<EventRecord[]> {
  const events: EventRecord[] = []
  for await (const event of store.read({ bucket })) events.push(event)
  return events
}

function byKey(events: EventRecord[], key: string): EventRecord {
  const wanted = Buffer.from(encodeKey(key)).toString('hex')
  const found = events.filter((event) => Buffer.from(event.key).toString('hex') === wanted)
  if (found.length !== 1) throw new Error(`${found.length} events with key ${key}`)
  return found[0]!
}

/** The messages of every Segment request body sent, by messageId, with the body's sentAt. */
function segmentMessages(sent: SentRequest[]): Map<string, { message: Record<string, unknown>; sentAt: string; propertiesText: string | undefined }> {
  const messages = new Map<string, { message: Record<string, unknown>; sentAt: string; propertiesText: string | undefined }>()
  for (const request of sent) {
    const body = JSON.parse(request.text) as { batch: Record<string, unknown>[]; sentAt: string }
    for (const message of body.batch) {
      const member = message.type === 'identify' || message.type === 'group' ? 'traits' : 'properties'
      messages.set(String(message.messageId), { message, sentAt: body.sentAt, propertiesText: message[member] === undefined ? undefined : JSON.stringify(message[member]) })
    }
  }
  return messages
}

async function profile(url: string, id: string) {
  const res = await fetch(`${url}/api/profiles/${encodeURIComponent(id)}`)
  return { status: res.status, body: (await res.json()) as { id: string; ids: string[]; events: number } }
}

async function profileEvents(url: string, id: string) {
  const res = await fetch(`${url}/api/profiles/${encodeURIComponent(id)}/events`)
  return (await res.json()) as { profile: string; events: { type: string; userId: string | null; anonymousId: string | null }[] }
}

t.test('direct: Segment (analytics-node) events stored as sent, skew-corrected, a retry stored once, identities merged', async (t) => {
  const { url, store, keys } = await startEventServer(t)
  const segment = segmentClient(url, keys.web)
  segment.client.track({ anonymousId: 'anon-1', event: 'Viewed Pricing', properties: { plan: 'pro', price: 12.5, tags: ['a', 'é'] } })
  segment.client.page({ anonymousId: 'anon-1', name: 'Home', properties: { path: '/' } })
  await segment.client.flush()
  // The answer to this one is lost after the commit: the client retries, the retry is a duplicate.
  store.loseNextAnswer()
  segment.client.identify({ userId: 'user-1', anonymousId: 'anon-1', traits: { email: 'a@b.c' } })
  await segment.client.closeAndFlush()
  t.same(segment.statuses, [200, 200, 503, 200], 'the client saw the lost answer, retried and then saw success')
  t.equal(segment.sent.length, 4)
  t.equal(segment.sent[2]!.text, segment.sent[3]!.text.replace(/"sentAt":"[^"]*"/, segment.sent[2]!.text.match(/"sentAt":"[^"]*"/)![0]), 'the retry carried the same messages')

  const events = await stored(store, 'web')
  const messages = segmentMessages(segment.sent)
  t.equal(events.length, 3, 'three events, the retried one once')
  for (const [messageId, { message, sentAt, propertiesText }] of messages) {
    const event = byKey(events, messageId)
    const expectedType = message.type === 'track' ? message.event : message.type
    t.equal(event.type, expectedType, `${messageId}: type`)
    t.equal(event.value, propertiesText, `${messageId}: the exact properties/traits text`)
    const timestamp = Date.parse(String(message.timestamp))
    t.equal(event.originalClientTime, timestamp, `${messageId}: original client time`)
    // The retry's own sentAt is what the stored copy was corrected by only if it was stored by the retry;
    // the first attempt committed, so its sentAt counts: clientTime = timestamp + (serverTime - sentAt of some attempt).
    const shift = event.clientTime - timestamp
    const candidates = segment.sent.filter((r) => r.text.includes(messageId)).map((r) => event.serverTime - Date.parse((JSON.parse(r.text) as { sentAt: string }).sentAt))
    t.ok(candidates.includes(shift), `${messageId}: corrected by (receive time - sentAt) (${shift} ms; sentAt ${sentAt})`)
    t.equal(event.producer, 'Web API')
    t.equal(event.source, 'segment')
    t.equal(event.ip, '127.0.0.1')
  }
  const identify = [...messages.values()].find((m) => m.message.type === 'identify')!
  t.equal(byKey(events, String(identify.message.messageId)).userId, 'user-1')

  const merged = await profile(url, 'anon-1')
  t.equal(merged.status, 200)
  t.match(merged.body, { id: 'user-1', ids: ['anon-1', 'user-1'], userIds: ['user-1'], anonymousIds: ['anon-1'], events: 3, truncated: false }, 'the anonymous id finds the merged profile')
  t.same((await profile(url, 'user-1')).body.ids, ['anon-1', 'user-1'], 'so does the user id')
  const history = (await profileEvents(url, 'user-1')).events as unknown as { type: string; clientTime: number }[]
  t.same(history.map((e) => e.type).sort(), ['Viewed Pricing', 'identify', 'page'], 'the whole history')
  t.same(history.map((e) => e.clientTime), history.map((e) => e.clientTime).sort((a, b) => a - b), 'by (corrected) client time')
})

t.test('direct: posthog-node (gzip /batch/), mixpanel (GET data= and POST form), RudderStack (gzip labelled as a form, Basic auth only)', async (t) => {
  const { url, store, keys } = await startEventServer(t)

  const posthog = posthogClient(url, keys.web)
  posthog.client.capture({ distinctId: 'ph-anon', event: 'clicked', properties: { button: 'buy', n: 3 }, uuid: '01890000-0000-7000-8000-000000000001' })
  posthog.client.identify({ distinctId: 'ph-user', properties: { $anon_distinct_id: 'ph-anon', email: 'p@h.g' } })
  await posthog.client.shutdown()
  t.same(posthog.errors, [], 'posthog saw success')
  t.ok(posthog.sent.every((r) => r.status === 200 && r.url.endsWith('/batch/')))

  const mixpanel = mixpanelClient(url, keys.mobile)
  t.equal(await mixpanel.track('Played', { distinct_id: 'mp-1', level: 7, $insert_id: 'ins-1' }), undefined, 'mixpanel saw 1')
  t.equal(await mixpanel.track('Played', { distinct_id: 'mp-1', level: 7, $insert_id: 'ins-1' }), undefined, 'a resend is a success too')
  t.equal(await mixpanel.trackBatch([{ event: 'Won', properties: { distinct_id: 'mp-1', time: 1_700_000_000, $insert_id: 'ins-2' } }, { event: 'Lost', properties: { distinct_id: 'mp-1', time: 1_700_000_001_234, $insert_id: 'ins-3' } }]), undefined)

  const rudder = rudderClient(url, keys.web)
  t.equal(await rudder.call('track', { userId: 'r-1', event: 'Rudder Event', properties: { ok: true }, messageId: 'rs-1' }), undefined, 'rudderstack saw success')
  await rudder.client.flush()

  const web = await stored(store, 'web')
  const phEvents = posthog.sent.flatMap((r) => (JSON.parse(r.text) as { batch: { uuid: string; event: string; distinct_id: string; properties: unknown; timestamp: string }[]; sent_at: string }).batch)
  t.equal(phEvents.length, 2)
  for (const sentEvent of phEvents) {
    const event = byKey(web, sentEvent.uuid)
    t.equal(event.type, sentEvent.event)
    t.equal(event.value, JSON.stringify(sentEvent.properties), `${sentEvent.event}: exact properties text`)
    t.equal(event.userId, sentEvent.distinct_id)
    t.equal(event.originalClientTime, Date.parse(sentEvent.timestamp))
    t.equal(event.source, 'posthog')
  }
  t.equal(byKey(web, phEvents[1]!.uuid).anonymousId, 'ph-anon', '$identify links the anonymous id')
  t.same((await profile(url, 'ph-anon')).body.ids, ['ph-anon', 'ph-user'])

  const rs = byKey(web, 'rs-1')
  t.match(rs, { type: 'Rudder Event', value: '{"ok":true}', userId: 'r-1', producer: 'Web API', source: 'segment' })

  const mobile = await stored(store, 'mobile')
  t.equal(mobile.length, 3, 'the resent mixpanel event is stored once')
  t.match(byKey(mobile, 'ins-1'), { type: 'Played', userId: 'mp-1', producer: 'iPhone API', source: 'mixpanel' })
  t.same(JSON.parse(byKey(mobile, 'ins-1').value), { distinct_id: 'mp-1', level: 7, $insert_id: 'ins-1', token: keys.mobile, mp_lib: 'node', $lib_version: (await import('mixpanel/package.json', { with: { type: 'json' } })).default.version })
  t.equal(byKey(mobile, 'ins-2').clientTime, 1_700_000_000_000, 'seconds')
  t.equal(byKey(mobile, 'ins-3').clientTime, 1_700_000_001_234, 'ms')
})

t.test('direct: unknown and revoked write keys get 401 with a clear message; nothing is stored', async (t) => {
  const { url, store, keys } = await startEventServer(t)
  const segment = segmentClient(url, 'lsk_not_a_key')
  segment.client.track({ userId: 'u', event: 'E' })
  await segment.client.closeAndFlush()
  t.same(segment.statuses, [401], 'no retry after a 401')

  const revoked = await fetch(`${url}/v1/track`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(keys.revoked + ':').toString('base64')}` }, body: '{"userId":"u","event":"E"}' })
  t.equal(revoked.status, 401)
  t.match(await revoked.json(), { error: 'LS_WRITE_KEY', message: /wk_\w+ \(Old\) was revoked/ })

  const missing = await fetch(`${url}/batch`, { method: 'POST', body: '{"batch":[{"event":"e","distinct_id":"d"}]}' })
  t.equal(missing.status, 401)
  t.match(await missing.json(), { error: 'LS_WRITE_KEY', message: /no write key/ })

  const mixpanel = mixpanelClient(url, 'lsk_wrong')
  t.match(await mixpanel.track('E', { distinct_id: 'd' }), { message: 'Mixpanel Server Error: 0' })
  const verbose = await fetch(`${url}/track?verbose=1&data=${encodeURIComponent(Buffer.from('{"event":"e","properties":{"token":"lsk_wrong"}}').toString('base64'))}`)
  t.equal(verbose.status, 401)
  t.match(await verbose.json(), { status: 0, error: /unknown write key/ })

  const bad = await fetch(`${url}/v1/batch`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(keys.web + ':').toString('base64')}` }, body: '{"batch":[{"type":"track","userId":"u"}]}' })
  t.equal(bad.status, 400)
  t.match(await bad.json(), { error: 'LS_CLIENT_REQUEST', message: 'batch[0].event must be a non-empty string' })
  t.same(await store.buckets(), [], 'nothing stored')
})

t.test('logged: clients → LoggingServer (answer profiles) → batches → EventServer tailing: same events, bad keys counted and kept', async (t) => {
  const dir = tempDir(t)
  const logger = new LoggingServer({ directory: dir, batchSeconds: 60 })
  const { port } = await logger.listen(0, '127.0.0.1')
  const base = `http://127.0.0.1:${port}`
  const { server, url, store, keys } = await startEventServer(t, { tail: { source: new DirectorySource(dir), intervalMs: 20 } })

  const segment = segmentClient(base, keys.web)
  segment.client.track({ anonymousId: 'dev-A', event: 'Opened', properties: { screen: 'home' } })
  segment.client.identify({ anonymousId: 'dev-A', userId: 'person-9' })
  await segment.client.closeAndFlush()
  t.same(segment.statuses, [200, 200])
  // A client retry of the same request (the answer was lost on the way back) is logged twice.
  const retry = segment.sent[0]!
  await fetch(retry.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(keys.web + ':').toString('base64')}`, 'x-retry-count': '1' }, body: retry.text })

  const posthog = posthogClient(base, keys.web)
  posthog.client.capture({ distinctId: 'dev-B', event: 'opened', properties: { screen: 'home' } })
  posthog.client.identify({ distinctId: 'person-9', properties: { $anon_distinct_id: 'dev-B' } })
  await posthog.client.shutdown()
  t.same(posthog.errors, [])

  const mixpanel = mixpanelClient(base, keys.mobile)
  t.equal(await mixpanel.track('Played', { distinct_id: 'person-9', $insert_id: 'mp-logged-1' }), undefined, 'mixpanel accepts the logger\'s 1')

  const rudder = rudderClient(base, keys.web)
  t.equal(await rudder.call('track', { anonymousId: 'dev-C', event: 'Rudder Logged', properties: { x: 1 }, messageId: 'rs-logged-1' }), undefined)

  const stranger = segmentClient(base, 'lsk_unknown_key')
  stranger.client.track({ userId: 'x', event: 'Sneaky' })
  await stranger.client.closeAndFlush()
  t.same(stranger.statuses, [200], 'the logger answers every request; the key is judged when tailed')

  await logger.flush()
  await server.tailer!.nextPoll()
  await server.tailer!.nextPoll()

  const web = await stored(store, 'web')
  const messages = segmentMessages(segment.sent)
  for (const [messageId, { message, propertiesText }] of messages) {
    const event = byKey(web, messageId)
    t.equal(event.value, propertiesText ?? '{}', `${messageId}: exact text`)
    t.equal(event.originalClientTime, Date.parse(String(message.timestamp)))
  }
  const phEvents = posthog.sent.flatMap((r) => (JSON.parse(r.text) as { batch: { uuid: string; event: string; properties: unknown }[] }).batch)
  for (const sentEvent of phEvents) t.equal(byKey(web, sentEvent.uuid).value, JSON.stringify(sentEvent.properties), `${sentEvent.event}: exact properties`)
  t.match(byKey(web, 'rs-logged-1'), { type: 'Rudder Logged', value: '{"x":1}', anonymousId: 'dev-C', producer: 'Web API' })
  t.equal(web.length, messages.size + phEvents.length + 1, 'the logged retry stored nothing twice')
  t.match(byKey(await stored(store, 'mobile'), 'mp-logged-1'), { type: 'Played', userId: 'person-9', producer: 'iPhone API' })

  t.equal(server.tailer!.report.duplicates, 1, 'the retry was counted as a duplicate')
  t.equal(server.tailer!.report.rejects, 1, 'the unknown key was counted')
  const [reject] = await store.rejects()
  t.match(reject, { reason: 'LS_WRITE_KEY', method: 'POST', path: '/v1/batch', message: /unknown write key lsk_/ })
  t.match(Buffer.from(reject!.body).toString(), /"Sneaky"/, 'kept with its body for a user to look at')
  t.match(await server.metrics.render(), /bad-write-key/)

  // Two devices of one user, merged by two different clients through the logger: one profile.
  const merged = await profile(url, 'dev-B')
  t.same(merged.body.ids, ['dev-A', 'dev-B', 'person-9'])
  t.equal(merged.body.id, 'person-9')
  t.same((await profile(url, 'dev-A')).body.ids, merged.body.ids)
  await logger.close()
})
