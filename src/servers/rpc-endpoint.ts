/**
 * WebSocket + JSON-RPC 2.0 on the EventServer (seed 001, docs/rpc.md):
 * `ws://host/rpc`, methods `track` (one event) and `batch` (several). A
 * request's result is sent once its events are durably committed; a
 * notification (no id) is stored the same way and never answered. Errors use
 * the JSON-RPC codes, with `data.error` naming our LS_* code.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { WebSocketServer, type WebSocket } from 'ws'
import { basicAuthUser, bearerToken, idText } from '../decoders/client-body.js'
import { JsonDocument, JsonTextError, isJsonObject, type TextSpan } from '../decoders/json-text.js'
import { LoggingSystemError } from '../errors.js'
import { checkKey, encodeKey, type EventKey } from '../formats/keyjson.js'
import type { WriteKeys } from '../ingest/write-keys.js'
import { eventRecord, type EventRecord } from '../model/event-record.js'
import type { DirectRequestNames } from './client-routes.js'
import type { EventServerContext } from './event-server-routes.js'

export const RPC_PATH = '/rpc'

/** JSON-RPC 2.0 error codes; -32001.. are ours (the server-error range). */
export const RPC_ERRORS = {
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  writeKey: -32001,
  storeUnavailable: -32002,
} as const

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message)
  }
}

type RpcId = string | number | null

function response(id: RpcId, result: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id, result })
}

function errorResponse(id: RpcId, error: RpcError): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: { code: error.code, message: error.message, ...(error.data ? { data: error.data } : {}) } })
}

function invalidParams(message: string): never {
  throw new RpcError(RPC_ERRORS.invalidParams, message)
}

/** One event of `track` params (or of `batch`'s events), with its value cut from the message text. */
function rpcEvent(doc: JsonDocument, span: TextSpan, event: unknown, at: string, base: { serverToken: string; reqId: number; index: number; time: number; ip: string | null }): Omit<EventRecord, 'bucket' | 'producer'> {
  if (!isJsonObject(event)) invalidParams(`${at} must be an object`)
  const type = event.type
  if (!((typeof type === 'string' && type !== '') || (Number.isInteger(type) && (type as number) >= 0 && (type as number) <= 65535))) {
    invalidParams(`${at}.type must be a non-empty string or an integer 0..65535`)
  }
  let key: Uint8Array
  if (event.key !== undefined) {
    const violation = checkKey(event.key)
    if (violation) invalidParams(`${at}.key: ${violation.reason}`)
    key = encodeKey(event.key as EventKey)
  } else key = encodeKey(`${base.serverToken}/${base.reqId}/${base.index}`)
  let value = '{}'
  if (event.value !== undefined) {
    if (!isJsonObject(event.value)) invalidParams(`${at}.value must be a JSON object`)
    const valueSpan = doc.members(span).get('value')!
    value = doc.text.slice(valueSpan.start, valueSpan.end)
  }
  let clientTime = base.time
  if (event.clientTime !== undefined) {
    if (!Number.isSafeInteger(event.clientTime) || (event.clientTime as number) < 0) invalidParams(`${at}.clientTime must be ms since 1970 (a non-negative integer)`)
    clientTime = event.clientTime as number
  }
  return {
    key,
    type: type as string | number,
    value,
    clientTime,
    originalClientTime: null,
    serverTime: base.time,
    userId: idText(event.userId) ?? null,
    anonymousId: idText(event.anonymousId) ?? null,
    ip: base.ip,
    source: 'rpc',
  }
}

interface Connection {
  writeKey: string | undefined
  ip: string | null
}

export function registerRpcEndpoint(app: FastifyInstance, context: EventServerContext, writeKeys: WriteKeys, names: DirectRequestNames): void {
  const { limits, now, logger } = context
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.bodyLimit })

  /** One request object (already parsed, with its span): its response text, or undefined for a notification. */
  async function call(doc: JsonDocument, span: TextSpan, message: unknown, connection: Connection): Promise<string | undefined> {
    let id: RpcId = null
    const notification = isJsonObject(message) && !('id' in message)
    try {
      if (!isJsonObject(message) || message.jsonrpc !== '2.0' || typeof message.method !== 'string') {
        throw new RpcError(RPC_ERRORS.invalidRequest, 'a request is {"jsonrpc":"2.0","method":...,"params":...,"id":...}')
      }
      if ('id' in message) {
        if (!(typeof message.id === 'string' || typeof message.id === 'number' || message.id === null)) throw new RpcError(RPC_ERRORS.invalidRequest, 'id must be a string, a number or null')
        id = message.id
      }
      if (message.method !== 'track' && message.method !== 'batch') throw new RpcError(RPC_ERRORS.methodNotFound, `no method ${JSON.stringify(message.method)}; the methods are track and batch`)
      const params = message.params
      if (!isJsonObject(params)) invalidParams('params must be an object')
      const paramsSpan = doc.members(span).get('params')!
      const reqId = names.next()
      const time = now()
      const base = { serverToken: names.serverToken, reqId, time, ip: connection.ip }
      let events: Omit<EventRecord, 'bucket' | 'producer'>[]
      if (message.method === 'track') {
        events = [rpcEvent(doc, paramsSpan, params, 'params', { ...base, index: 0 })]
      } else {
        if (!Array.isArray(params.events)) invalidParams('params.events must be an array')
        if (params.events.length > limits.maxEvents) invalidParams(`${params.events.length} events in one call; the limit is ${limits.maxEvents}`)
        const spans = doc.elements(doc.members(paramsSpan).get('events')!)
        events = params.events.map((event, index) => rpcEvent(doc, spans[index]!, event, `params.events[${index}]`, { ...base, index }))
      }
      let key: { name: string; bucket: string }
      try {
        key = await writeKeys.check(idText(params.writeKey) ?? connection.writeKey)
      } catch (err) {
        throw new RpcError(RPC_ERRORS.writeKey, (err as Error).message, { error: 'LS_WRITE_KEY' })
      }
      const records = events.map((event) => eventRecord({ ...event, bucket: key.bucket, producer: key.name }))
      let written
      try {
        written = await context.ingest.commit(records)
      } catch (err) {
        throw new RpcError(RPC_ERRORS.storeUnavailable, `not stored: ${(err as Error).message}`, { error: (err as LoggingSystemError).code ?? 'LS_STORE_UNAVAILABLE' })
      }
      return notification ? undefined : response(id, { stored: written.stored, duplicates: written.duplicates })
    } catch (err) {
      const rpcError = err instanceof RpcError ? err : new RpcError(RPC_ERRORS.internal, 'internal error')
      if (!(err instanceof RpcError)) logger.error({ err }, 'rpc call failed')
      return notification ? undefined : errorResponse(id, rpcError)
    }
  }

  async function handleMessage(socket: WebSocket, text: string, connection: Connection): Promise<void> {
    let doc: JsonDocument
    try {
      doc = new JsonDocument(text)
    } catch (err) {
      socket.send(errorResponse(null, new RpcError(RPC_ERRORS.parse, err instanceof JsonTextError ? err.message : 'parse error')))
      return
    }
    const root = doc.root()
    if (Array.isArray(doc.value)) {
      if (doc.value.length === 0) return socket.send(errorResponse(null, new RpcError(RPC_ERRORS.invalidRequest, 'an empty batch')))
      const spans = doc.elements(root)
      const answers = await Promise.all(doc.value.map((message, i) => call(doc, spans[i]!, message, connection)))
      const sent = answers.filter((answer): answer is string => answer !== undefined)
      if (sent.length > 0 && socket.readyState === socket.OPEN) socket.send(`[${sent.join(',')}]`)
      return
    }
    const answer = await call(doc, root, doc.value, connection)
    if (answer !== undefined && socket.readyState === socket.OPEN) socket.send(answer)
  }

  wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://rpc.invalid')
    const headers = { authorization: req.headers.authorization ?? '' }
    const connection: Connection = {
      writeKey: url.searchParams.get('writeKey') ?? bearerToken(headers) ?? basicAuthUser(headers),
      ip: req.socket.remoteAddress ?? null,
    }
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        socket.send(errorResponse(null, new RpcError(RPC_ERRORS.parse, 'send JSON-RPC as text frames')))
        return
      }
      void handleMessage(socket, data.toString(), connection)
    })
  })

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] !== RPC_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  }
  app.server.on('upgrade', onUpgrade)
  // Upgrades never reach fastify; this route answers a plain GET and puts /rpc in the route table (GET /help).
  app.get(RPC_PATH, { config: { help: { description: 'WebSocket JSON-RPC 2.0 endpoint (docs/rpc.md): connect with Upgrade: websocket' } } }, async (_request, reply) =>
    reply.code(426).header('upgrade', 'websocket').send({ error: 'LS_BAD_REQUEST', reason: `${RPC_PATH} is a WebSocket endpoint: connect with Upgrade: websocket` }),
  )
  app.addHook('onClose', async () => {
    app.server.off('upgrade', onUpgrade)
    for (const client of wss.clients) client.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })
}
