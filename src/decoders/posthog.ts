/**
 * PostHog capture (formats/posthog.md): `/capture`, `/batch`, `/e`, `/i/v0/e`
 * with one event, an array, or `{"batch": [...]}`; JSON, gzip (header, query
 * `compression=gzip-js`, or the bytes), base64, and the legacy `data=` form.
 */
import { ClientRequestError } from '../errors.js'
import {
  bearerToken,
  bodyText,
  clientIdKeyText,
  correctedTimes,
  decodeBase64,
  formFields,
  idText,
  jsonDocument,
  looksLikeJson,
  parseTime,
  requestKeyText,
} from './client-body.js'
import { jsonFailure, type ClientEvent, type ClientFormat, type ClientRequest } from './client-request.js'
import { stringKey } from './event-key.js'
import { isJsonObject, type JsonDocument, type TextSpan } from './json-text.js'

const FORMAT = 'posthog'

function fail(message: string, status = 400): never {
  throw new ClientRequestError(FORMAT, status, message)
}

/** Identity events and the property naming the other id they join to distinct_id. */
const MERGED_ID_PROPERTY: Record<string, string> = {
  $identify: '$anon_distinct_id',
  $create_alias: 'alias',
  $merge_dangerously: 'alias',
}

/** The JSON text the body carries, through whichever of the accepted encodings it uses. */
function payloadText(request: ClientRequest, url: URL): string {
  const text = bodyText(FORMAT, request, url)
  const compression = url.searchParams.get('compression') ?? ''
  if (compression === 'lz64') fail('compression=lz64 is not supported (send gzip-js, base64 or plain JSON)', 415)
  if (looksLikeJson(text)) return text
  // A form: `name=value...`. Base64's `=` only pads its end, so `xyz=` and `xy==` stay base64.
  const form = /^[A-Za-z0-9_]+=([^=])/.exec(text.trimStart())
  if (form) {
    const fields = formFields(FORMAT, text.trim())
    if (fields.get('compression') === 'lz64') fail('compression=lz64 is not supported (send gzip-js, base64 or plain JSON)', 415)
    const data = fields.get('data')
    if (data === undefined) fail('form body has no data= field')
    return looksLikeJson(data) ? data : decodeBase64(FORMAT, data, 'data=')
  }
  if (text.trim() === '') {
    const data = url.searchParams.get('data')
    if (data !== null) return looksLikeJson(data) ? data : decodeBase64(FORMAT, data, 'data=')
    fail('empty body')
  }
  return decodeBase64(FORMAT, text, 'body')
}

export const posthogFormat: ClientFormat = {
  name: FORMAT,
  paths: ['/capture', '/batch', '/e', '/i/v0/e'],
  methods: ['POST', 'GET'],

  decode(request, url) {
    const doc = jsonDocument(FORMAT, payloadText(request, url))
    const root = doc.root()
    let top: Record<string, unknown> = {}
    let items: { span: TextSpan; event: unknown }[]
    if (Array.isArray(doc.value)) {
      items = doc.elements(root).map((span, i) => ({ span, event: (doc.value as unknown[])[i] }))
    } else if (isJsonObject(doc.value)) {
      top = doc.value
      if (Array.isArray(top.batch)) {
        const spans = doc.elements(doc.members(root).get('batch')!)
        items = spans.map((span, i) => ({ span, event: (top.batch as unknown[])[i] }))
      } else if (top.event !== undefined) {
        items = [{ span: root, event: top }]
      } else fail('body must be an event, an array of events, or {"batch": [...]}')
    } else fail('body must be a JSON object or array')

    const querySentAt = url.searchParams.get('_')
    const sentAt =
      top.sent_at !== undefined ? parseTime(FORMAT, top.sent_at, 'sent_at') : querySentAt !== null && /^\d+$/.test(querySentAt) ? Number(querySentAt) : undefined

    const events = items.map(({ span, event }, index) => captureEvent(request, doc, span, event, index, sentAt))
    return { format: FORMAT, writeKey: apiKeyOf(request, url, top, items.map((item) => item.event)), events }
  },

  success() {
    return { status: 200, contentType: 'application/json; charset=utf-8', body: '{"status":"Ok"}' }
  },

  failure(_url, status, message) {
    return jsonFailure(status, status === 401 ? 'LS_WRITE_KEY' : 'LS_CLIENT_REQUEST', message)
  },
}

/** The project key: `api_key` or `token` at the top, in an event, in its properties, the query, or a Bearer header. */
function apiKeyOf(request: ClientRequest, url: URL, top: Record<string, unknown>, events: unknown[]): string | null {
  const candidates: unknown[] = [top.api_key, top.token]
  for (const event of events) {
    if (!isJsonObject(event)) continue
    candidates.push(event.api_key, event.token)
    if (isJsonObject(event.properties)) candidates.push(event.properties.token)
  }
  candidates.push(url.searchParams.get('api_key'), url.searchParams.get('token'), bearerToken(request.headers))
  for (const candidate of candidates) {
    const key = idText(candidate)
    if (key !== undefined) return key
  }
  return null
}

function captureEvent(request: ClientRequest, doc: JsonDocument, span: TextSpan, event: unknown, index: number, sentAt: number | undefined): ClientEvent {
  const at = `event ${index}`
  if (!isJsonObject(event)) fail(`${at} must be a JSON object`)
  if (typeof event.event !== 'string' || event.event === '') fail(`${at}: "event" must be a non-empty string`)
  const properties = event.properties
  if (properties !== undefined && properties !== null && !isJsonObject(properties)) fail(`${at}: "properties" must be a JSON object`)
  const props = (properties ?? {}) as Record<string, unknown>
  const distinctId = idText(event.distinct_id) ?? idText(event.$distinct_id) ?? idText(props.distinct_id)
  if (distinctId === undefined) fail(`${at}: distinct_id is required (top level or in properties)`)

  const mergedProperty = MERGED_ID_PROPERTY[event.event]
  const anonymousId = mergedProperty === undefined ? null : (idText(props[mergedProperty]) ?? null)

  const propertiesSpan = properties === undefined || properties === null ? undefined : doc.members(span).get('properties')
  const value = propertiesSpan ? doc.text.slice(propertiesSpan.start, propertiesSpan.end) : '{}'

  let times: { clientTime: number; originalClientTime: number | null }
  if (event.timestamp !== undefined && event.timestamp !== null) {
    times = correctedTimes(parseTime(FORMAT, event.timestamp, `${at}.timestamp`), sentAt, request.time)
  } else if (typeof event.offset === 'number' && Number.isFinite(event.offset)) {
    // offset: ms between the event and the send, measured on the client's clock: no skew to correct.
    times = { clientTime: Math.max(0, Math.round(request.time - event.offset)), originalClientTime: null }
  } else {
    times = { clientTime: request.time, originalClientTime: null }
  }

  const uuid = idText(event.uuid)
  return {
    key: stringKey(uuid !== undefined ? clientIdKeyText(FORMAT, uuid, `${at}.uuid`) : requestKeyText(request, index)),
    type: event.event,
    value,
    ...times,
    serverTime: request.time,
    userId: distinctId,
    anonymousId,
    ip: request.ip,
    source: FORMAT,
  }
}
