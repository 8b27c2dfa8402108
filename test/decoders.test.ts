// The shared request decoders (src/decoders/): one post-events decoder for live and logged
// requests, EventRecords with keyjson keys and exact value text, and how the registry picks.
import { gzipSync } from 'node:zlib'
import t from 'tap'
import {
  decodeKey,
  decodePostEvents,
  encodeEventbufV2Events,
  encodeKey,
  eventRecord,
  liveDecoderRequest,
  RequestDecoderRegistry,
  targetUrl,
  type DecoderRequest,
  type LoggedRequest,
  type RequestDecoder,
} from '../src/index.js'

const T = 1_700_000_000_000
const jsonText = '{"events":[{"key":["user-17",5],"type":"t","value":{"n": 1.0, "big": 12345678901234567890},"clientTime":3},{"key":"b","type":2,"value":{},"clientTime":4}]}'

function logged(fields: Partial<LoggedRequest>): LoggedRequest {
  return {
    serverToken: 'Srv1',
    reqId: 9,
    time: T,
    ip: '10.0.0.7',
    method: 'POST',
    path: '/api/post-events?bucket=shop',
    contentType: 'application/json',
    headers: { 'content-type': 'application/json' },
    outcome: 0,
    outcomeName: 'complete',
    body: Buffer.from(jsonText),
    ...fields,
  } as LoggedRequest
}

t.test('a logged request and the same live request give the same EventRecords', async (t) => {
  const registry = new RequestDecoderRegistry()
  const fromLog = registry.decode(logged({}))!
  const live = liveDecoderRequest({ method: 'post', url: '/api/post-events?bucket=shop', headers: { 'content-type': 'application/json', 'x-many': ['a', 'b'] }, ip: '10.0.0.7', body: Buffer.from(jsonText), time: T })
  t.same(live.headers, { 'content-type': 'application/json', 'x-many': 'a, b' }, 'headers lower case, repeated ones joined')
  t.equal(live.method, 'POST')
  const fromLive = registry.decode(live)!
  t.same(fromLive, fromLog)
  t.same(fromLog, [
    eventRecord({ bucket: 'shop', key: encodeKey(['user-17', 5]), type: 't', value: '{"n": 1.0, "big": 12345678901234567890}', clientTime: 3, serverTime: T, ip: '10.0.0.7', source: 'post-events/json' }),
    eventRecord({ bucket: 'shop', key: encodeKey('b'), type: 2, value: '{}', clientTime: 4, serverTime: T, ip: '10.0.0.7', source: 'post-events/json' }),
  ])
  t.same(Buffer.from(fromLog[0]!.key).toString('hex'), '3534757365722d313700c085', 'the key is keyjson bytes')
})

t.test('eventbuf-v2 through the registry: same model, source named', async (t) => {
  const body = Buffer.from(encodeEventbufV2Events([{ key: { a: 1 }, type: 'x', value: { v: [1, 2] }, clientTime: 8 }]))
  const records = new RequestDecoderRegistry().decode(logged({ contentType: 'Application/EventBuf-V2; q=1', body, ip: '' }))!
  t.equal(records.length, 1)
  t.same(decodeKey(records[0]!.key), { a: 1 })
  t.equal(records[0]!.value, '{"v":[1,2]}')
  t.equal(records[0]!.source, 'post-events/eventbuf-v2')
  t.equal(records[0]!.ip, null, 'an unknown address is null')
})

t.test('decodePostEvents refuses with 4xx errors', async (t) => {
  const request = (fields: Partial<DecoderRequest>): DecoderRequest => ({ ...logged({}), ...fields })
  const decode = (fields: Partial<DecoderRequest>, maxEvents?: number) => () => decodePostEvents(request(fields), targetUrl(request(fields).path)!, { maxEvents })
  t.throws(decode({ path: '/api/post-events' }), { code: 'LS_BAD_REQUEST', statusCode: 400, reason: /missing bucket/ })
  t.throws(decode({ contentType: 'text/plain' }), { code: 'LS_BAD_REQUEST', statusCode: 415 })
  t.throws(decode({ contentType: '' }), { code: 'LS_BAD_REQUEST', statusCode: 415, reason: /\(none\)/ })
  t.throws(decode({}, 1), { code: 'LS_BAD_REQUEST', statusCode: 413, reason: /limit is 1/ })
  t.throws(decode({ body: Buffer.from('{"key":1,') }), { code: 'LS_BAD_REQUEST', statusCode: 400, reason: /malformed JSON at byte 9/ })
  t.throws(decode({ body: Buffer.from('{"key":1,"type":"t","value":[],"clientTime":0}') }), { code: 'LS_EVENT_INVALID', rule: 'value-object' })
})

t.test('the registry picks by path, then method, then media type; sniffers come last', async (t) => {
  const made = (name: string): RequestDecoder['decode'] => (request) => [eventRecord({ bucket: name, key: encodeKey(request.reqId), type: name, value: '{}', clientTime: 0, serverTime: request.time, source: name })]
  const gzipMagic = (request: DecoderRequest): boolean => request.body[0] === 0x1f && request.body[1] === 0x8b
  const form: RequestDecoder = { name: 'form', paths: ['/v1/batch', '/v1/track'], contentTypes: ['application/x-www-form-urlencoded'], methods: ['POST'], decode: made('form') }
  const sniffGzip: RequestDecoder = { name: 'gzip', paths: ['/v1/batch'], methods: ['POST'], accepts: gzipMagic, decode: made('gzip') }
  const anyJson: RequestDecoder = { name: 'any', paths: ['/v1/batch'], methods: ['POST'], decode: made('any') }
  const registry = new RequestDecoderRegistry([form, sniffGzip, anyJson])
  const pick = (fields: Partial<LoggedRequest>): string | undefined => registry.find(logged(fields))?.decoder.name
  t.equal(pick({ path: '/v1/batch?x=1', contentType: 'application/x-www-form-urlencoded' }), 'form', 'the named media type first')
  t.equal(pick({ path: '/v1/track', contentType: 'application/x-www-form-urlencoded; charset=utf-8' }), 'form', 'a decoder may read several paths')
  t.equal(pick({ path: '/v1/batch', contentType: 'text/plain', body: gzipSync('{}') }), 'gzip', 'a sniffer whose accepts says yes')
  t.equal(pick({ path: '/v1/batch', contentType: 'text/plain' }), 'any', 'then one without accepts')
  t.equal(pick({ path: '/v1/batch', method: 'GET' }), undefined, 'the method must fit')
  t.equal(pick({ path: '/v1/batch', method: '' }), 'any', 'an unknown method (head not logged) fits')
  t.equal(pick({ path: '/v1/other' }), undefined, 'no decoder for the path')
  t.equal(pick({ path: '/api/post-events?bucket=b' }), undefined, 'only what was registered')
  t.equal(registry.decode(logged({ path: '/v1/batch', contentType: 'x/y', reqId: 4 }))![0]!.bucket, 'any')
  t.equal(registry.decode(logged({ path: '/elsewhere' })), undefined)

  t.throws(() => new RequestDecoderRegistry([form, { ...form, name: 'again', paths: ['/v1/track'] }]), { code: 'LS_INVALID_OPTION', message: /again and form both read \/v1\/track/ })
  t.throws(() => new RequestDecoderRegistry([anyJson, { ...anyJson, name: 'again' }]), { code: 'LS_INVALID_OPTION' }, 'two catch-alls on one path')
  t.doesNotThrow(() => new RequestDecoderRegistry([anyJson, { ...anyJson, name: 'sniffer', accepts: gzipMagic }]), 'accepts tells them apart')
  t.doesNotThrow(() => new RequestDecoderRegistry([form, { ...form, name: 'get-form', methods: ['GET'] }]), 'other methods')
  t.throws(() => new RequestDecoderRegistry([{ ...form, paths: ['v1/batch'] }]), { code: 'LS_INVALID_OPTION', message: /must start with \// })
  t.throws(() => new RequestDecoderRegistry([{ ...form, paths: [] }]), { code: 'LS_INVALID_OPTION' })
})
