// A real HTTP server on loopback that records every request a forwarder
// sends, and answers as the test scripts it: the default answer, or a
// function of the parsed body (to fail mid-way, refuse some events, ...).
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  text: string
  json: unknown
  /** The dedup ids in the body (Segment messageId, Mixpanel $insert_id, webhook id). */
  ids: string[]
}

export interface Answer {
  status: number
  body?: string
  headers?: Record<string, string>
  /** Close the connection without an answer. */
  destroy?: boolean
}

export interface Receiver {
  url: string
  requests: ReceivedRequest[]
  /** Ids of requests answered 2xx and not `0` (what the receiver kept), in order, repeats included. */
  accepted: string[]
  /** Decides the answer; default 200 `{"success":true}`. */
  answer: (request: ReceivedRequest, index: number) => Answer
  close(): Promise<void>
}

export function idsOf(json: unknown): string[] {
  if (Array.isArray(json)) return json.map((e) => (e as { properties: { $insert_id: string } }).properties.$insert_id)
  const body = json as { batch?: { messageId: string }[]; events?: { id: string }[] }
  if (body.batch) return body.batch.map((c) => c.messageId)
  if (body.events) return body.events.map((e) => e.id)
  return []
}

export async function startReceiver(t: { teardown(fn: () => unknown): void }): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    requests: [],
    accepted: [],
    answer: () => ({ status: 200, body: '{"success":true}' }),
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      const request: ReceivedRequest = { method: req.method!, path: req.url!, headers: req.headers, text, json, ids: idsOf(json) }
      const index = receiver.requests.push(request) - 1
      const answer = receiver.answer(request, index)
      if (answer.destroy) {
        req.socket.destroy()
        return
      }
      // Mixpanel answers a refusal with 200 and body 0.
      if (answer.status >= 200 && answer.status < 300 && answer.body !== '0') receiver.accepted.push(...request.ids)
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
      res.end(answer.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(() => receiver.close())
  return receiver
}
