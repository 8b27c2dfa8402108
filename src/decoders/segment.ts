/**
 * The Segment HTTP Tracking API (formats/segment.md), also spoken by
 * RudderStack and Jitsu: `POST /v1/{track,identify,page,screen,group,alias}`
 * with one message, `POST /v1/batch` and `/v1/import` with `{"batch": [...]}`.
 */
import { ClientRequestError } from '../errors.js'
import { basicAuthUser, bodyText, clientIdKeyText, correctedTimes, idText, jsonDocument, parseTime, requestKeyText } from './client-body.js'
import { jsonFailure, type ClientEvent, type ClientFormat, type ClientRequest } from './client-request.js'
import { stringKey } from './event-key.js'
import { isJsonObject, type JsonDocument, type TextSpan } from './json-text.js'

const FORMAT = 'segment'
/** Segment's documented limits: 32 KB an event, 500 KB a request. */
export const SEGMENT_MAX_EVENT_BYTES = 32 * 1024
export const SEGMENT_MAX_BATCH_BYTES = 500 * 1024

export const SEGMENT_CALLS = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const
type SegmentCall = (typeof SEGMENT_CALLS)[number]

/** Which member holds the event's data, by call. */
const VALUE_MEMBER: Record<SegmentCall, 'properties' | 'traits' | undefined> = {
  track: 'properties',
  page: 'properties',
  screen: 'properties',
  identify: 'traits',
  group: 'traits',
  alias: undefined,
}

function fail(message: string, status = 400): never {
  throw new ClientRequestError(FORMAT, status, message)
}

function isCall(value: unknown): value is SegmentCall {
  return typeof value === 'string' && (SEGMENT_CALLS as readonly string[]).includes(value)
}

export const segmentFormat: ClientFormat = {
  name: FORMAT,
  paths: [...SEGMENT_CALLS.map((call) => `/v1/${call}`), '/v1/batch', '/v1/import'],
  methods: ['POST'],

  decode(request, url) {
    const text = bodyText(FORMAT, request, url)
    const bytes = Buffer.byteLength(text)
    if (bytes > SEGMENT_MAX_BATCH_BYTES) fail(`request is ${bytes} bytes; Segment's limit is ${SEGMENT_MAX_BATCH_BYTES} (500 KB)`)
    const doc = jsonDocument(FORMAT, text)
    if (!isJsonObject(doc.value)) fail('body must be a JSON object')
    const body = doc.value
    const root = doc.root()
    const call = url.pathname.replace(/\/$/, '').slice('/v1/'.length)
    const batchSentAt = body.sentAt === undefined ? undefined : parseTime(FORMAT, body.sentAt, 'sentAt')

    let messages: { span: TextSpan; message: Record<string, unknown>; call: SegmentCall; at: string }[]
    if (call === 'batch' || call === 'import') {
      if (!Array.isArray(body.batch)) fail('body must have a "batch" array')
      const spans = doc.elements(doc.members(root).get('batch')!)
      messages = (body.batch as unknown[]).map((message, index) => {
        if (!isJsonObject(message)) fail(`batch[${index}] must be a JSON object`)
        if (!isCall(message.type)) fail(`batch[${index}].type must be one of ${SEGMENT_CALLS.join(', ')}, got ${JSON.stringify(message.type)}`)
        return { span: spans[index]!, message, call: message.type, at: `batch[${index}]` }
      })
    } else {
      if (!isCall(call)) fail(`no Segment call at ${url.pathname}`, 404)
      if (body.type !== undefined && body.type !== call) fail(`type ${JSON.stringify(body.type)} does not match the path /v1/${call}`)
      messages = [{ span: root, message: body, call, at: 'body' }]
    }

    const writeKey = basicAuthUser(request.headers) ?? idText(body.writeKey) ?? null
    const events = messages.map(({ span, message, call, at }, index) => messageEvent(request, doc, span, message, call, at, index, batchSentAt))
    return { format: FORMAT, writeKey, events }
  },

  success() {
    return { status: 200, contentType: 'application/json; charset=utf-8', body: '{"success":true}' }
  },

  failure(_url, status, message) {
    return jsonFailure(status, status === 401 ? 'LS_WRITE_KEY' : 'LS_CLIENT_REQUEST', message)
  },
}

function messageEvent(
  request: ClientRequest,
  doc: JsonDocument,
  span: TextSpan,
  message: Record<string, unknown>,
  call: SegmentCall,
  at: string,
  index: number,
  batchSentAt: number | undefined,
): ClientEvent {
  const eventBytes = Buffer.byteLength(doc.text.slice(span.start, span.end))
  if (eventBytes > SEGMENT_MAX_EVENT_BYTES) fail(`${at} is ${eventBytes} bytes; Segment's limit is ${SEGMENT_MAX_EVENT_BYTES} (32 KB) an event`)

  const userId = idText(message.userId) ?? null
  // alias names the earlier identity previousId; it is the anonymous side of the merge.
  const anonymousId = (call === 'alias' ? idText(message.previousId) : idText(message.anonymousId)) ?? null
  if (call === 'alias' && (userId === null || anonymousId === null)) fail(`${at}: alias needs userId and previousId`)
  if (userId === null && anonymousId === null) fail(`${at}: userId or anonymousId is required`)

  let type: string = call
  if (call === 'track') {
    if (typeof message.event !== 'string' || message.event === '') fail(`${at}.event must be a non-empty string`)
    type = message.event
  }

  let value = '{}'
  const member = VALUE_MEMBER[call]
  if (member !== undefined && message[member] !== undefined && message[member] !== null) {
    if (!isJsonObject(message[member])) fail(`${at}.${member} must be a JSON object`)
    value = doc.memberText(span, member)!
  }

  const given = message.timestamp ?? message.originalTimestamp
  const eventTime = given === undefined ? request.time : parseTime(FORMAT, given, `${at}.timestamp`)
  const sentAt = message.sentAt !== undefined ? parseTime(FORMAT, message.sentAt, `${at}.sentAt`) : batchSentAt
  const times = given === undefined ? { clientTime: request.time, originalClientTime: null } : correctedTimes(eventTime, sentAt, request.time)

  const messageId = idText(message.messageId)
  const keyText = messageId !== undefined ? clientIdKeyText(FORMAT, messageId, `${at}.messageId`) : requestKeyText(request, index)
  return {
    key: stringKey(keyText),
    type,
    value,
    ...times,
    serverTime: request.time,
    userId,
    anonymousId,
    ip: request.ip,
    source: FORMAT,
  }
}
