// The analytics-client decoders against their golden vectors (formats/vectors/{segment,posthog,mixpanel,grouparoo}),
// and against request bytes built by the real client libraries.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { decodeClientRequest, findClientFormat } from '../src/decoders/client-formats.js'
import type { ClientRequest } from '../src/decoders/client-request.js'
import { stringKey } from '../src/decoders/event-key.js'
import { ClientRequestError } from '../src/errors.js'

const VECTORS = fileURLToPath(new URL('../formats/vectors/', import.meta.url))

interface VectorRequest extends Omit<ClientRequest, 'body'> {
  bodyBase64: string
}
interface ExpectedEvent {
  key: string
  type: string
  value: string
  clientTime: number
  originalClientTime: number | null
  serverTime: number
  userId: string | null
  anonymousId: string | null
  ip: string | null
  source: string
}
interface Cases {
  valid: { name: string; request: VectorRequest; writeKey: string | null; events: ExpectedEvent[] }[]
  invalid: { name: string; request: VectorRequest; status: number; message: string }[]
}

function toRequest(vector: VectorRequest): ClientRequest {
  const { bodyBase64, ...rest } = vector
  return { ...rest, body: Buffer.from(bodyBase64, 'base64') }
}

for (const format of ['segment', 'posthog', 'mixpanel', 'grouparoo']) {
  const cases = JSON.parse(readFileSync(`${VECTORS}${format}/cases.json`, 'utf8')) as Cases
  t.test(`${format} vectors`, async (t) => {
    t.ok(cases.valid.length >= 3 && cases.invalid.length >= 5)
    for (const c of cases.valid) {
      const decoded = decodeClientRequest(toRequest(c.request))
      t.equal(decoded.format, format, `${c.name}: format`)
      t.equal(decoded.writeKey, c.writeKey, `${c.name}: write key`)
      t.same(
        decoded.events.map((e) => ({ ...e, key: Buffer.from(e.key).toString('hex') })),
        c.events.map((e) => ({ ...e, key: Buffer.from(stringKey(e.key)).toString('hex') })),
        `${c.name}: events`,
      )
      for (const event of decoded.events) t.equal(JSON.stringify(JSON.parse(event.value)).startsWith('{'), true, 'value is a JSON object')
    }
    for (const c of cases.invalid) {
      let error: unknown
      try {
        decodeClientRequest(toRequest(c.request))
      } catch (err) {
        error = err
      }
      t.type(error, ClientRequestError, `${c.name}: refused`)
      t.equal((error as ClientRequestError).statusCode, c.status, `${c.name}: status`)
      t.match((error as ClientRequestError).message, c.message, `${c.name}: message`)
    }
  })
}

t.test('the format is chosen by path, never by Content-Type', async (t) => {
  t.equal(findClientFormat('/v1/batch')?.format.name, 'segment')
  t.equal(findClientFormat('/batch/')?.format.name, 'posthog')
  t.equal(findClientFormat('/i/v0/e/?compression=gzip-js')?.format.name, 'posthog')
  t.equal(findClientFormat('/track?data=x')?.format.name, 'mixpanel')
  t.equal(findClientFormat('/engage/')?.format.name, 'mixpanel')
  t.equal(findClientFormat('/api/v1/track')?.format.name, 'grouparoo')
  t.equal(findClientFormat('/api/post-events'), undefined)
  const body = Buffer.from('{"batch":[{"type":"track","event":"E","userId":"u","messageId":"m"}],"writeKey":"k"}')
  for (const contentType of ['application/json', 'application/x-www-form-urlencoded', 'text/plain', '']) {
    const decoded = decodeClientRequest({ method: 'POST', path: '/v1/batch', headers: {}, contentType, body, time: 1, ip: null, serverToken: 's', reqId: 1 })
    t.equal(decoded.events.length, 1, `read with content type ${JSON.stringify(contentType)}`)
  }
})

t.test('answers in each format\'s own words', async (t) => {
  const answer = (target: string, ok: boolean) => {
    const found = findClientFormat(target)!
    return ok ? found.format.success(found.url) : found.format.failure(found.url, 400, 'bad')
  }
  t.equal(answer('/track', true).body, '1')
  t.equal(answer('/track', false).body, '0')
  t.same(JSON.parse(answer('/track?verbose=1', true).body), { status: 1, error: null })
  t.same(JSON.parse(answer('/track?verbose=1', false).body), { status: 0, error: 'bad' })
  t.same(JSON.parse(answer('/v1/batch', true).body), { success: true })
  t.same(JSON.parse(answer('/batch/', true).body), { status: 'Ok' })
  t.same(JSON.parse(answer('/v1/batch', false).body), { error: 'LS_CLIENT_REQUEST', message: 'bad' })
})

t.test('a logged request read twice gives the same keys (no client id)', async (t) => {
  const request: ClientRequest = {
    method: 'POST', path: '/api/v1/track', headers: {}, contentType: 'application/json',
    body: Buffer.from('{"type":"t","userId":"u"}'), time: 5, ip: '::1', serverToken: 'tokA', reqId: 9,
  }
  const first = decodeClientRequest(request).events[0]!
  const again = decodeClientRequest(request).events[0]!
  t.same(Buffer.from(again.key), Buffer.from(first.key))
  const other = decodeClientRequest({ ...request, reqId: 10 }).events[0]!
  t.not(Buffer.from(other.key).toString('hex'), Buffer.from(first.key).toString('hex'))
  t.match(Buffer.from(first.key).subarray(1).toString(), /^evt_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
})
