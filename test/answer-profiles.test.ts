// LoggingServer answer profiles: what real analytics clients see from the logger, and that the logged
// request keeps what the client decoders need (authorization, content-encoding).
import t, { type Test } from 'tap'
import Mixpanel from 'mixpanel'
import { Analytics } from '@segment/analytics-node'
import { PostHog } from 'posthog-node'
import { LoggingServer } from '../src/index.js'
import { decodeClientRequest } from '../src/decoders/client-formats.js'
import { clientRequestFromLogged } from '../src/decoders/client-request.js'
import { AnswerProfiles } from '../src/servers/answer-profiles.js'
import { readLoggedRequests } from './helpers/batches.js'
import { tempDir } from './helpers/temp.js'

async function startLogger(t: Test, options: ConstructorParameters<typeof LoggingServer>[0] = {}) {
  const directory = tempDir(t)
  const server = new LoggingServer({ directory, batchSeconds: 60, ...options })
  const address = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  return { server, directory, base: `http://127.0.0.1:${address.port}` }
}

t.test('answers by path: Mixpanel 1, Segment and Grouparoo {"success":true}, PostHog {"status":"Ok"}, others OK', async (t) => {
  const { base } = await startLogger(t)
  const cases: [string, string, string][] = [
    ['GET', '/track?data=e30', '1'],
    ['GET', '/track/?verbose=1&data=e30', '{"status":1,"error":null}'],
    ['POST', '/engage', '1'],
    ['POST', '/v1/batch', '{"success":true}'],
    ['POST', '/api/v1/track', '{"success":true}'],
    ['POST', '/batch/', '{"status":"Ok"}'],
    ['POST', '/i/v0/e/?compression=gzip-js', '{"status":"Ok"}'],
    ['POST', '/anything-else', 'OK\n'],
  ]
  for (const [method, path, body] of cases) {
    const res = await fetch(base + path, { method, body: method === 'POST' ? 'x' : undefined })
    t.equal(res.status, 200, `${method} ${path}: status`)
    t.equal(await res.text(), body, `${method} ${path}: body`)
  }
})

t.test('configurable: a custom profile first, and answers: false', async (t) => {
  const custom = await startLogger(t, { answers: [{ name: 'mine', paths: ['/track'], status: 202, contentType: 'application/json', body: '{"ok":1}' }] })
  const res = await fetch(`${custom.base}/track?data=e30`)
  t.equal(res.status, 202)
  t.equal(res.headers.get('content-type'), 'application/json')
  t.equal(await res.text(), '{"ok":1}')
  t.equal(await (await fetch(`${custom.base}/v1/batch`, { method: 'POST', body: '{}' })).text(), 'OK\n', 'built-ins are replaced, not added to')
  const off = await startLogger(t, { answers: false })
  t.equal(await (await fetch(`${off.base}/track?data=e30`)).text(), 'OK\n')
  t.throws(() => new AnswerProfiles([{ name: 'bad', paths: ['track'], body: '' }]), { code: 'LS_INVALID_OPTION' })
})

t.test('the real clients see success from the logger, and the logged requests decode to what they sent', async (t) => {
  const { server, directory, base } = await startLogger(t)
  const port = new URL(base).port

  const mixpanel = Mixpanel.init('mp_token', { host: '127.0.0.1', port: Number(port), protocol: 'http' } as unknown as Mixpanel.InitConfig)
  const mixpanelError = await new Promise<Error | undefined>((resolve) => mixpanel.track('Played', { distinct_id: 'u1', level: 3 }, resolve))
  t.equal(mixpanelError, undefined, 'mixpanel saw 1')

  const segment = new Analytics({ writeKey: 'seg_key', host: base, maxRetries: 0, flushAt: 1 })
  const delivered = new Promise<{ status: number }>((resolve) => segment.once('http_response', resolve))
  segment.track({ userId: 'u2', event: 'Bought', properties: { price: 9.5 } })
  t.equal((await delivered).status, 200, 'segment saw 200')
  await segment.closeAndFlush()

  const posthog = new PostHog('phc_key', { host: base, flushAt: 1, fetchRetryCount: 0 })
  const posthogErrors: unknown[] = []
  posthog.on('error', (err) => posthogErrors.push(err))
  posthog.capture({ distinctId: 'u3', event: 'clicked', properties: { n: 1 } })
  await posthog.shutdown()
  t.same(posthogErrors, [], 'posthog saw success')

  await server.flush()
  const { requests } = await readLoggedRequests(directory)
  t.equal(requests.length, 3)
  const byFormat = new Map(requests.map((request) => {
    const decoded = decodeClientRequest(clientRequestFromLogged(request))
    return [decoded.format, { request, decoded }] as const
  }))
  const seg = byFormat.get('segment')!
  t.match(seg.request.headers['authorization'], /^Basic /, 'authorization recorded')
  t.equal(seg.decoded.writeKey, 'seg_key')
  t.same(seg.decoded.events.map((e) => [e.type, JSON.parse(e.value), e.userId]), [['Bought', { price: 9.5 }, 'u2']])
  const ph = byFormat.get('posthog')!
  t.equal(ph.request.headers['content-encoding'], 'gzip', 'content-encoding recorded')
  t.equal(ph.decoded.writeKey, 'phc_key')
  t.same(ph.decoded.events.map((e) => [e.type, JSON.parse(e.value).n, e.userId]), [['clicked', 1, 'u3']])
  const mp = byFormat.get('mixpanel')!
  t.equal(mp.decoded.writeKey, 'mp_token')
  t.same(mp.decoded.events.map((e) => [e.type, JSON.parse(e.value).level, e.userId]), [['Played', 3, 'u1']])
})
