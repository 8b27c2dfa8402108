/**
 * Destinations of the forwarder: how a batch of stored events becomes one
 * HTTP request, and how the answer is read. Three kinds:
 *   segment   POST {url} (default https://api.segment.io/v1/batch), `{"batch":[track...]}`,
 *             Basic auth with the write key; Segment, RudderStack, Jitsu and
 *             anything Segment-compatible. Dedup id: `messageId`.
 *   mixpanel  POST {url} (default https://api.mixpanel.com/track), a JSON array of
 *             `{event, properties}`; a 2xx answer `0` (or `{"status":0}`) is a refusal.
 *             Dedup id: `properties.$insert_id`.
 *   webhook   POST {url}, `{"events":[...]}` in the shape of src/model/event-json.ts.
 *             Dedup id: `id`.
 * The value is always inlined as the exact text received.
 */
import { createHash } from 'node:crypto'
import { request } from 'undici'
import { InvalidOptionError } from '../errors.js'
import { positiveNumber } from '../option-checks.js'
import { eventDedupId, eventToJson } from '../model/event-json.js'
import type { EventRecord } from '../model/event-record.js'

export const DESTINATION_KINDS = ['segment', 'mixpanel', 'webhook'] as const
export type DestinationKind = (typeof DESTINATION_KINDS)[number]

export const DEFAULT_DESTINATION_URLS: Readonly<Partial<Record<DestinationKind, string>>> = Object.freeze({
  segment: 'https://api.segment.io/v1/batch',
  mixpanel: 'https://api.mixpanel.com/track',
})

/** One request's timeout, ms. Default: 30 s. */
export const DEFAULT_SEND_TIMEOUT_MS = 30_000

export interface DestinationConfig {
  kind: DestinationKind
  /** The endpoint. Default: DEFAULT_DESTINATION_URLS[kind]; required for webhook. */
  url?: string
  /** segment: the write key (Basic auth user). Default: none (no Authorization header). */
  writeKey?: string
  /** mixpanel: the project token, added as `properties.token`. Default: none. */
  token?: string
  /** Extra request headers (e.g. a webhook's Authorization). Default: none. */
  headers?: Record<string, string>
  /** Default: DEFAULT_SEND_TIMEOUT_MS. */
  timeoutMs?: number
}

/** What became of one request. */
export type SendOutcome =
  | { kind: 'delivered'; status: number }
  /** Worth another try: 429, 5xx, a network error, a timeout; `retryAfterMs` from Retry-After. */
  | { kind: 'retry'; status?: number; reason: string; retryAfterMs?: number }
  /** Refused for good (another 4xx, or Mixpanel's `0`): the same request would be refused again. */
  | { kind: 'refused'; status: number; reason: string }

export interface Destination {
  readonly kind: DestinationKind
  readonly url: string
  send(events: readonly EventRecord[]): Promise<SendOutcome>
}

export function createDestination(config: DestinationConfig, where = 'destination'): Destination {
  if (!(DESTINATION_KINDS as readonly string[]).includes(config.kind)) {
    throw new InvalidOptionError(`${where}.kind`, `must be one of ${DESTINATION_KINDS.join(', ')}, got ${JSON.stringify(config.kind)}`)
  }
  const url = config.url ?? DEFAULT_DESTINATION_URLS[config.kind]
  if (url === undefined) throw new InvalidOptionError(`${where}.url`, `is required for a ${config.kind} destination`)
  try {
    new URL(url)
  } catch {
    throw new InvalidOptionError(`${where}.url`, `${JSON.stringify(url)} is not a URL`)
  }
  const timeoutMs = positiveNumber(`${where}.timeoutMs`, config.timeoutMs, DEFAULT_SEND_TIMEOUT_MS)
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'logging-system-forwarder', ...config.headers }
  if (config.kind === 'segment' && config.writeKey) headers.authorization = 'Basic ' + Buffer.from(`${config.writeKey}:`).toString('base64')
  const encode = { segment: segmentBody, mixpanel: (events: readonly EventRecord[]) => mixpanelBody(events, config.token), webhook: webhookBody }[config.kind]
  return {
    kind: config.kind,
    url,
    async send(events) {
      let response
      try {
        response = await request(url, { method: 'POST', headers, body: encode(events), headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
      } catch (err) {
        return { kind: 'retry', reason: `${(err as Error).name}: ${(err as Error).message}` }
      }
      const text = (await response.body.text().catch(() => '')).slice(0, 500)
      const status = response.statusCode
      if (status >= 200 && status < 300) {
        if (config.kind === 'mixpanel' && mixpanelRefused(text)) return { kind: 'refused', status, reason: `refused: ${text}` }
        return { kind: 'delivered', status }
      }
      const reason = `HTTP ${status}${text ? `: ${text}` : ''}`
      if (status === 429 || status >= 500) {
        const retryAfterMs = parseRetryAfter(response.headers['retry-after'])
        return { kind: 'retry', status, reason, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) }
      }
      return { kind: 'refused', status, reason }
    },
  }
}

/** Retry-After as delay-seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (value === undefined || value.trim() === '') return undefined
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000
  const date = Date.parse(value)
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined
}

function mixpanelRefused(text: string): boolean {
  const trimmed = text.trim()
  if (trimmed === '0') return true
  try {
    const parsed = JSON.parse(trimmed) as { status?: unknown }
    return parsed !== null && typeof parsed === 'object' && parsed.status === 0
  } catch {
    return false
  }
}

const iso = (ms: number) => new Date(ms).toISOString()

const present = (text: string | null) => (text === null || text === '' ? null : text)

/**
 * A Segment `track` call per event; the value is the properties object, as
 * received. Segment needs a userId or an anonymousId: without either, the
 * dedup id stands in as the anonymousId. `timestamp` is the stored client
 * time, already corrected for clock skew: no `sentAt`, so the destination
 * does not correct it again.
 */
export function segmentBody(events: readonly EventRecord[]): string {
  const calls = events.map((event) => {
    const userId = present(event.userId)
    const anonymousId = present(event.anonymousId) ?? (userId === null ? eventDedupId(event) : null)
    const who = (userId !== null ? `,"userId":${JSON.stringify(userId)}` : '') + (anonymousId !== null ? `,"anonymousId":${JSON.stringify(anonymousId)}` : '')
    return (
      `{"type":"track","messageId":${JSON.stringify(eventDedupId(event))},"event":${JSON.stringify(String(event.type))},` +
      `"properties":${event.value}${who},"timestamp":${JSON.stringify(iso(event.clientTime))},` +
      `"context":{${event.ip !== null ? `"ip":${JSON.stringify(event.ip)},` : ''}"library":{"name":"logging-system"},"bucket":${JSON.stringify(event.bucket)}}}`
    )
  })
  return `{"batch":[${calls.join(',')}]}`
}

/** Mixpanel's `$insert_id`: at most 36 letters and digits, so a hash of the dedup id (32 hex digits). */
export function mixpanelInsertId(event: Pick<EventRecord, 'bucket' | 'key'>): string {
  return createHash('sha256').update(eventDedupId(event)).digest('hex').slice(0, 32)
}

/**
 * Mixpanel events: the value's members are the properties, then the special
 * ones appended (they win over a same-named member of the value).
 */
export function mixpanelBody(events: readonly EventRecord[], token: string | undefined): string {
  const entries = events.map((event) => {
    const specials = [
      token !== undefined ? `"token":${JSON.stringify(token)}` : '',
      `"distinct_id":${JSON.stringify(present(event.userId) ?? present(event.anonymousId) ?? '')}`,
      `"time":${event.clientTime}`,
      `"$insert_id":${JSON.stringify(mixpanelInsertId(event))}`,
      event.ip !== null ? `"ip":${JSON.stringify(event.ip)}` : '',
    ].filter(Boolean)
    return `{"event":${JSON.stringify(String(event.type))},"properties":${withMembers(event.value, specials)}}`
  })
  return `[${entries.join(',')}]`
}

/** Appends members to a JSON object text without re-serialising it. */
function withMembers(objectText: string, members: string[]): string {
  const close = objectText.lastIndexOf('}')
  const open = objectText.indexOf('{')
  if (open < 0 || close < open) return `{${members.join(',')}}`
  const empty = objectText.slice(open + 1, close).trim() === ''
  return objectText.slice(0, close) + (empty ? '' : ',') + members.join(',') + objectText.slice(close)
}

export function webhookBody(events: readonly EventRecord[]): string {
  return `{"events":[${events.map((event) => eventToJson(event)).join(',')}]}`
}
