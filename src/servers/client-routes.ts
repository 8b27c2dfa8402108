/**
 * The EventServer routes analytics clients talk to directly: every path of
 * the Segment, PostHog, Mixpanel and Grouparoo formats. A request is decoded,
 * its write key checked, its events committed, and only then answered in the
 * format's own words (2xx = durably stored). Retries are free: events keep
 * the client's id as their key, and a key already stored is a duplicate.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { headerRecord } from '../decoders/live-request.js'
import { CLIENT_FORMATS, clientFormatPaths, findClientFormat } from '../decoders/client-formats.js'
import type { ClientAnswer, ClientRequest } from '../decoders/client-request.js'
import { randomToken } from '../formats/batch-v1/tokens.js'
import { ClientIngest } from '../ingest/client-ingest.js'
import type { EventServerContext } from './event-server-routes.js'
import type { FastifyInstance } from 'fastify'

/** Names the requests this process receives directly, as serverToken/reqId name logged ones. */
export class DirectRequestNames {
  readonly serverToken = `direct-${randomToken()}`
  private lastReqId = 0
  next(): number {
    return ++this.lastReqId
  }
}

function send(reply: FastifyReply, answer: ClientAnswer): FastifyReply {
  return reply.code(answer.status).header('content-type', answer.contentType).send(answer.body)
}

/** Registers the client-format routes on an EventServer scope. */
export async function registerClientRoutes(app: FastifyInstance, context: EventServerContext, ingest: ClientIngest, names: DirectRequestNames): Promise<void> {
  const { limits, now } = context
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.bodyLimit }, (_request, body, done) => done(null, body))
  const methods = [...new Set(CLIENT_FORMATS.flatMap((format) => format.methods))] as ('GET' | 'POST')[]

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const headers = headerRecord(request.headers)
    const clientRequest: ClientRequest = {
      method: request.method,
      path: request.url,
      headers,
      contentType: headers['content-type'] ?? '',
      body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      time: now(),
      ip: request.ip || null,
      serverToken: names.serverToken,
      reqId: names.next(),
    }
    const result = await ingest.decode(clientRequest)
    if (result.kind === 'refused') {
      if (result.format && result.url) return send(reply, result.format.failure(result.url, result.status, result.message))
      return reply.code(result.status).send({ error: result.code, reason: result.message })
    }
    // Group-committed with the other direct posts; store errors propagate: the server answers 503 and the client retries.
    await context.ingest.commit(result.events)
    return send(reply, result.format.success(result.url))
  }

  for (const path of clientFormatPaths()) {
    const format = findClientFormat(path)!.format
    const help = { description: `Events from ${format.name} clients (${format.methods.join(', ')}; formats/${format.name}.md); the write key names the bucket` }
    app.route({ method: methods, url: path, bodyLimit: limits.bodyLimit, config: { help }, handler })
  }
}
