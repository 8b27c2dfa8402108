/**
 * Mixpanel ingestion (formats/mixpanel.md, seed 000): `/track`, `/import` and
 * `/engage` with `data=` (base64 or plain JSON) in the query of a GET or the
 * form body of a POST, or a JSON body; `verbose=1` answers JSON, `ip=1` takes
 * the request's address.
 */
import { ClientRequestError } from '../errors.js'
import { bodyText, clientIdKeyText, decodeBase64, formFields, idText, jsonDocument, looksLikeJson, requestKeyText } from './client-body.js'
import type { ClientEvent, ClientFormat, ClientRequest } from './client-request.js'
import { stringKey } from './event-key.js'
import { isJsonObject, type JsonDocument, type TextSpan } from './json-text.js'

const FORMAT = 'mixpanel'

/** Times below this are seconds since 1970 (1e11 s is the year 5138; 1e11 ms is 1973). */
const SECONDS_BELOW = 1e11

/** The profile operations of /engage; an update holds exactly one. */
export const ENGAGE_OPERATIONS = ['$set', '$set_once', '$add', '$append', '$union', '$remove', '$unset', '$delete'] as const

function fail(message: string, status = 400): never {
  throw new ClientRequestError(FORMAT, status, message)
}

/** The JSON text of the request's `data`, wherever it is and however it is encoded. */
function dataText(request: ClientRequest, url: URL): string {
  let data = url.searchParams.get('data') ?? undefined
  if (request.method !== 'GET' && request.body.byteLength > 0) {
    const text = bodyText(FORMAT, request, url)
    if (looksLikeJson(text)) return text
    data = formFields(FORMAT, text.trim()).get('data') ?? data
  }
  if (data === undefined) fail('no data: send data= in the query, a data= form body, or a JSON body')
  return looksLikeJson(data) ? data : decodeBase64(FORMAT, data, 'data')
}

/** Seconds or ms, by size; returns ms. */
function mixpanelTime(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(`${field} ${JSON.stringify(value)} must be a number of seconds or ms since 1970`)
  return Math.round(value < SECONDS_BELOW ? value * 1000 : value)
}

export const mixpanelFormat: ClientFormat = {
  name: FORMAT,
  paths: ['/track', '/import', '/engage'],
  methods: ['GET', 'POST'],

  decode(request, url) {
    const doc = jsonDocument(FORMAT, dataText(request, url), 'data')
    const root = doc.root()
    const items: { span: TextSpan; item: unknown }[] = Array.isArray(doc.value)
      ? doc.elements(root).map((span, i) => ({ span, item: (doc.value as unknown[])[i] }))
      : [{ span: root, item: doc.value }]
    if (items.length === 0) fail('data holds no events')
    const engage = url.pathname.replace(/\/$/, '') === '/engage'
    const useRequestIp = url.searchParams.get('ip') === '1'
    const tokens = new Set<string>()
    const events = items.map(({ span, item }, index) =>
      engage ? engageEvent(request, doc, span, item, index, useRequestIp, tokens) : trackEvent(request, doc, span, item, index, useRequestIp, tokens),
    )
    if (tokens.size > 1) fail(`events carry ${tokens.size} different tokens; send one project's events a request`)
    return { format: FORMAT, writeKey: tokens.size === 1 ? [...tokens][0]! : null, events }
  },

  success(url) {
    if (url.searchParams.get('verbose') === '1') return { status: 200, contentType: 'application/json; charset=utf-8', body: '{"status":1,"error":null}' }
    return { status: 200, contentType: 'text/plain; charset=utf-8', body: '1' }
  },

  failure(url, status, message) {
    if (url.searchParams.get('verbose') === '1') return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ status: 0, error: message }) }
    return { status, contentType: 'text/plain; charset=utf-8', body: '0' }
  },
}

function trackEvent(request: ClientRequest, doc: JsonDocument, span: TextSpan, item: unknown, index: number, useRequestIp: boolean, tokens: Set<string>): ClientEvent {
  const at = `event ${index}`
  if (!isJsonObject(item)) fail(`${at} must be a JSON object`)
  if (typeof item.event !== 'string' || item.event === '') fail(`${at}: "event" must be a non-empty string`)
  if (!isJsonObject(item.properties)) fail(`${at}: "properties" must be a JSON object`)
  const props = item.properties
  const token = idText(props.token)
  if (token !== undefined) tokens.add(token)

  let userId = idText(props.distinct_id) ?? null
  let anonymousId: string | null = null
  if (item.event === '$identify') {
    userId = idText(props.$identified_id) ?? userId
    anonymousId = idText(props.$anon_id) ?? null
  } else if (item.event === '$create_alias') {
    // alias(distinct_id, alias): the new id `alias` now names the existing (usually anonymous) distinct_id.
    anonymousId = userId
    userId = idText(props.alias) ?? null
  }

  const propertiesSpan = doc.members(span).get('properties')!
  const insertId = idText(props.$insert_id)
  return {
    key: stringKey(insertId !== undefined ? clientIdKeyText(FORMAT, insertId, `${at}.properties.$insert_id`) : requestKeyText(request, index)),
    type: item.event,
    value: doc.text.slice(propertiesSpan.start, propertiesSpan.end),
    clientTime: props.time === undefined ? request.time : mixpanelTime(props.time, `${at}.properties.time`),
    originalClientTime: null,
    serverTime: request.time,
    userId,
    anonymousId,
    ip: useRequestIp ? request.ip : (idText(props.ip) ?? null),
    source: FORMAT,
  }
}

function engageEvent(request: ClientRequest, doc: JsonDocument, span: TextSpan, item: unknown, index: number, useRequestIp: boolean, tokens: Set<string>): ClientEvent {
  const at = `update ${index}`
  if (!isJsonObject(item)) fail(`${at} must be a JSON object`)
  const token = idText(item.$token)
  if (token !== undefined) tokens.add(token)
  const distinctId = idText(item.$distinct_id)
  if (distinctId === undefined) fail(`${at}: $distinct_id is required`)
  const operations = ENGAGE_OPERATIONS.filter((op) => op in item)
  if (operations.length !== 1) fail(`${at} must hold exactly one of ${ENGAGE_OPERATIONS.join(', ')}; it holds ${operations.length}`)
  return {
    key: stringKey(requestKeyText(request, index)),
    type: operations[0]!,
    value: doc.text.slice(span.start, span.end),
    clientTime: item.$time === undefined ? request.time : mixpanelTime(item.$time, `${at}.$time`),
    originalClientTime: null,
    serverTime: request.time,
    userId: distinctId,
    anonymousId: null,
    ip: useRequestIp ? request.ip : (idText(item.$ip) ?? null),
    source: FORMAT,
  }
}
