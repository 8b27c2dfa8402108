// The real analytics client libraries pointed at a base URL, each recording the exact bodies it sent.
import { gunzipSync } from 'node:zlib'
import { Analytics } from '@segment/analytics-node'
import { PostHog } from 'posthog-node'
import Mixpanel from 'mixpanel'
import RudderAnalytics from '@rudderstack/rudder-sdk-node'

export interface SentRequest {
  url: string
  status?: number
  /** The body as JSON text (gunzipped when the client gzipped it). */
  text: string
}

export function segmentClient(base: string, writeKey: string) {
  const sent: SentRequest[] = []
  const statuses: number[] = []
  const client = new Analytics({ writeKey, host: base, flushAt: 1, maxRetries: 3, httpRequestTimeout: 10_000 })
  client.on('http_request', (request) => sent.push({ url: request.url, text: request.body }))
  client.on('http_response', (response) => statuses.push(response.status))
  return { client, sent, statuses }
}

export function posthogClient(base: string, apiKey: string) {
  const sent: SentRequest[] = []
  const errors: unknown[] = []
  const client = new PostHog(apiKey, {
    host: base,
    flushAt: 1,
    flushInterval: 0,
    fetchRetryCount: 3,
    fetchRetryDelay: 20,
    fetch: async (url, options) => {
      const body = options.body
      const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body as Uint8Array)
      const response = await fetch(url, options as RequestInit)
      sent.push({ url, status: response.status, text: (options.headers as Record<string, string>)['Content-Encoding'] === 'gzip' ? gunzipSync(bytes).toString() : bytes.toString() })
      return response
    },
  })
  client.on('error', (err) => errors.push(err))
  return { client, sent, errors }
}

export function mixpanelClient(base: string, token: string) {
  const url = new URL(base)
  const client = Mixpanel.init(token, { host: url.hostname, port: Number(url.port), protocol: 'http' } as unknown as Mixpanel.InitConfig)
  const track = (event: string, properties: Mixpanel.PropertyDict) => new Promise<Error | undefined>((resolve) => client.track(event, properties, (err) => resolve(err ?? undefined)))
  const trackBatch = (events: Mixpanel.Event[]) => new Promise<Error[] | undefined>((resolve) => client.track_batch(events, (errs) => resolve(errs && errs.length ? errs : undefined)))
  return { client, track, trackBatch }
}

export function rudderClient(base: string, writeKey: string) {
  const client = new RudderAnalytics(writeKey, { dataPlaneUrl: base, flushAt: 1, flushInterval: 50, retryCount: 2, logLevel: 'error' } as ConstructorParameters<typeof RudderAnalytics>[1])
  const call = (method: 'track' | 'identify', message: Record<string, unknown>) =>
    new Promise<Error | undefined>((resolve) => (client[method] as (m: unknown, cb: (err?: Error) => void) => void).call(client, message, (err) => resolve(err ?? undefined)))
  return { client, call }
}
