/**
 * Grouparoo track (formats/grouparoo.md, seed 002): `POST /api/v1/track`
 * (the path @grouparoo/client-web posts to) with one event
 * `{type, userId?, anonymousId?, occurredAt?, data?}`.
 */
import { ClientRequestError } from '../errors.js'
import { basicAuthUser, bearerToken, bodyText, idText, jsonDocument, parseTime, uuidFromName } from './client-body.js'
import { jsonFailure, type ClientFormat } from './client-request.js'
import { stringKey } from './event-key.js'
import { isJsonObject } from './json-text.js'

const FORMAT = 'grouparoo'

function fail(message: string, status = 400): never {
  throw new ClientRequestError(FORMAT, status, message)
}

/**
 * The seed's event guid: `evt_` + a UUIDv4. It is derived from the request's
 * name (serverToken/reqId/index) instead of drawn at random, so a logged
 * request read twice gives the same guid, hence the same key, and is stored once.
 */
export function grouparooGuid(serverToken: string, reqId: number, index: number): string {
  return `evt_${uuidFromName(`${serverToken}/${reqId}/${index}`)}`
}

export const grouparooFormat: ClientFormat = {
  name: FORMAT,
  paths: ['/api/v1/track'],
  methods: ['POST'],

  decode(request, url) {
    const doc = jsonDocument(FORMAT, bodyText(FORMAT, request, url))
    const event = doc.value
    if (!isJsonObject(event)) fail('body must be a JSON object (one event)')
    if (typeof event.type !== 'string' || event.type === '') fail('"type" must be a non-empty string')
    const userId = idText(event.userId) ?? null
    const anonymousId = idText(event.anonymousId) ?? null
    if (userId === null && anonymousId === null) fail('anonymousId is required unless userId is given')
    // @grouparoo/client-web sends the field as `ocurredAt`; both spellings are read.
    const occurred = event.occurredAt ?? event.ocurredAt
    const clientTime = occurred === undefined || occurred === null ? request.time : parseTime(FORMAT, occurred, 'occurredAt')
    let value = '{}'
    if (event.data !== undefined && event.data !== null) {
      if (!isJsonObject(event.data)) fail('"data" must be a JSON object')
      const span = doc.members(doc.root()).get('data')!
      value = doc.text.slice(span.start, span.end)
    }
    const writeKey = idText(event.apiKey) ?? url.searchParams.get('apiKey') ?? bearerToken(request.headers) ?? basicAuthUser(request.headers) ?? null
    return {
      format: FORMAT,
      writeKey,
      events: [
        {
          key: stringKey(grouparooGuid(request.serverToken, request.reqId, 0)),
          type: event.type,
          value,
          clientTime,
          originalClientTime: null,
          serverTime: request.time,
          userId,
          anonymousId,
          ip: request.ip,
          source: FORMAT,
        },
      ],
    }
  },

  success() {
    return { status: 200, contentType: 'application/json; charset=utf-8', body: '{"success":true}' }
  },

  failure(_url, status, message) {
    return jsonFailure(status, status === 401 ? 'LS_WRITE_KEY' : 'LS_CLIENT_REQUEST', message)
  },
}
