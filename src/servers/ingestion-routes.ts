/**
 * Issue 11's routes on the EventServer, as one plugin: the analytics-client
 * endpoints (client-routes.ts), the profiles API, and the WebSocket JSON-RPC
 * endpoint `/rpc` (rpc-endpoint.ts).
 */
import { BadRequestError } from '../errors.js'
import { encodedKeyToJson } from '../formats/keyjson.js'
import { ClientIngest } from '../ingest/client-ingest.js'
import { Identity, type ProfileEvent } from '../ingest/identity.js'
import { DirectRequestNames, registerClientRoutes } from './client-routes.js'
import type { EventServerRoutes } from './event-server-routes.js'
import { limitParam } from './event-query.js'
import { registerRpcEndpoint } from './rpc-endpoint.js'

/** Events in one page of /api/profiles/:id/events. Default 1000, at most 100,000. */
export const DEFAULT_PROFILE_EVENTS_LIMIT = 1000
export const MAX_PROFILE_EVENTS_LIMIT = 100_000

function profileEventJson(event: ProfileEvent): string {
  const type = event.typeIsCode ? event.type : JSON.stringify(event.type)
  const text = (value: string | null) => (value === null ? 'null' : JSON.stringify(value))
  return (
    `{"bucket":${JSON.stringify(event.bucket)},"key":${encodedKeyToJson(Buffer.from(event.keyHex, 'hex'))},"type":${type},"value":${event.value},` +
    `"clientTime":${event.clientTime},"serverTime":${event.serverTime},"originalClientTime":${event.originalClientTime ?? 'null'},` +
    `"userId":${text(event.userId)},"anonymousId":${text(event.anonymousId)},"producer":${text(event.producer)},"ip":${text(event.ip)},"source":${JSON.stringify(event.source)}}`
  )
}

function encodeAfter(event: ProfileEvent): string {
  return Buffer.from(JSON.stringify({ clientTime: event.clientTime, bucket: event.bucket, keyHex: event.keyHex })).toString('base64url')
}

function decodeAfter(text: string): { clientTime: number; bucket: string; keyHex: string } {
  try {
    const after = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { clientTime: unknown; bucket: unknown; keyHex: unknown }
    if (typeof after.clientTime === 'number' && typeof after.bucket === 'string' && typeof after.keyHex === 'string' && /^[0-9A-F]*$/.test(after.keyHex)) {
      return after as { clientTime: number; bucket: string; keyHex: string }
    }
  } catch {
    // answered below
  }
  throw new BadRequestError(400, 'after is not a cursor from an earlier page (nextCursor)')
}

export const ingestionRoutes: EventServerRoutes = {
  name: 'ingestion',
  async plugin(app, context) {
    const clientIngest = new ClientIngest(context.store)
    const names = new DirectRequestNames()
    const identity = new Identity(context.store.sql)

    await registerClientRoutes(app, context, clientIngest, names)
    registerRpcEndpoint(app, context, clientIngest.writeKeys, names)

    app.get('/api/profiles/:id', { config: { help: { description: 'The profile of an id (user id, anonymous id or alias): every id joined to it' } } }, async (request, reply) => {
      const { id } = request.params as { id: string }
      const profile = await identity.profile(id)
      if (!profile) return reply.code(404).send({ error: 'LS_BAD_REQUEST', reason: `no event names the id ${JSON.stringify(id)}` })
      return profile
    })

    app.get('/api/profiles/:id/events', {
      config: {
        help: {
          description: 'The events of the profile of an id, oldest first, paged with nextCursor',
          parameters: { limit: `How many (default ${DEFAULT_PROFILE_EVENTS_LIMIT}, at most ${MAX_PROFILE_EVENTS_LIMIT})`, after: 'The nextCursor of the previous page', bucket: 'Only events of this bucket' },
        },
      },
    }, async (request, reply) => {
      const { id } = request.params as { id: string }
      const query = request.query as Record<string, string | undefined>
      const limit = limitParam(query, MAX_PROFILE_EVENTS_LIMIT, DEFAULT_PROFILE_EVENTS_LIMIT)
      const after = query.after === undefined ? undefined : decodeAfter(query.after)
      const profile = await identity.profile(id)
      if (!profile) return reply.code(404).send({ error: 'LS_BAD_REQUEST', reason: `no event names the id ${JSON.stringify(id)}` })
      const events = await identity.events(profile, { limit: limit + 1, ...(query.bucket !== undefined ? { bucket: query.bucket } : {}), ...(after ? { after } : {}) })
      const page = events.slice(0, limit)
      const next = events.length > limit ? `,"nextCursor":${JSON.stringify(encodeAfter(page[page.length - 1]!))}` : ''
      return reply
        .header('content-type', 'application/json; charset=utf-8')
        .send(`{"profile":${JSON.stringify(profile.id)},"ids":${JSON.stringify(profile.ids)},"events":[${page.map(profileEventJson).join(',')}]${next}}\n`)
    })
  },
}
