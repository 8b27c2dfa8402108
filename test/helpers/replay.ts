// Shared pieces of the replay tests: events to send, posting them to a
// LoggingServer, hand-made batches, and reading a DevServer's bucket.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { request } from 'undici'
import {
  encodeEventbufV2Events,
  encodeJsonEvents,
  encodeReqData,
  encodeReqEnd,
  formatObjectKey,
  type LogEvent,
  type StoredEvent,
} from '../../src/index.js'

/** `count` events with distinct keys (the DevServer keeps one event per key). */
export function makeEvents(prefix: string, count: number): LogEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${prefix}-${i}`,
    type: i % 3 === 0 ? 7 : 'click',
    value: { i, page: `/p/${i}`, note: 'ünïcode ✓' },
    clientTime: 1_700_000_000_000 + i,
  }))
}

/** Posts events to `/api/post-events?bucket=` as JSON or eventbuf-v2, `perRequest` at a time. */
export async function postEvents(base: string, bucket: string, events: LogEvent[], format: 'json' | 'eventbuf-v2', perRequest = 3): Promise<void> {
  for (let i = 0; i < events.length; i += perRequest) {
    const slice = events.slice(i, i + perRequest)
    const body = format === 'json' ? encodeJsonEvents(slice) : encodeEventbufV2Events(slice)
    const contentType = format === 'json' ? 'application/json' : 'application/eventbuf-v2'
    const res = await request(`${base}/api/post-events?bucket=${encodeURIComponent(bucket)}`, { method: 'POST', headers: { 'content-type': contentType }, body })
    await res.body.dump()
    if (res.statusCode !== 200) throw new Error(`LoggingServer answered ${res.statusCode}`)
  }
}

/** The bucket's events as the DevServer returns them, without serverTime (the replay's clock). */
export async function devServerEvents(url: string, bucket: string): Promise<LogEvent[]> {
  const res = await request(`${url}/events.json?bucket=${encodeURIComponent(bucket)}`)
  const { events } = (await res.body.json()) as { events: StoredEvent[] }
  return events.map(({ key, type, value, clientTime }) => ({ key, type, value, clientTime }))
}

export function byKey(events: LogEvent[]): LogEvent[] {
  return [...events].sort((a, b) => String(a.key).localeCompare(String(b.key)))
}

export interface HandRequest {
  reqId: number
  time: number
  path?: string
  contentType?: string
  body?: Buffer
  outcome?: 0 | 1 | 2 | 3 | 4
  /** Leave out the REQ_END (the request continues in a later batch). */
  noEnd?: boolean
  /** Leave out the REQ_DATA (it was in an earlier batch). */
  noData?: boolean
}

/** The raw events of hand-made requests, in order. */
export function rawEvents(requests: HandRequest[]): Buffer {
  const parts: Buffer[] = []
  for (const r of requests) {
    if (!r.noData && r.body && r.body.length > 0) parts.push(encodeReqData(r.reqId, r.time, r.body))
    if (!r.noEnd) {
      parts.push(
        encodeReqEnd({ reqId: r.reqId, serverTime: r.time, ip: '10.0.0.1', contentType: r.contentType ?? 'application/json', path: r.path ?? '/api/post-events?bucket=b', method: 'POST', headers: {}, outcome: r.outcome ?? 0 }),
      )
    }
  }
  return Buffer.concat(parts)
}

/** Writes a batch file under `dir` at its key; returns the key. */
export function writeBatch(dir: string, parts: { serverToken: string; batchNumber: number; startTime: number; prefix?: string }, body: Buffer, gzip = true): string {
  const key = formatObjectKey({ ...parts, randomToken: 'RandomTk', gzipped: true })
  const path = join(dir, ...key.split('/'))
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, gzip ? gzipSync(body) : body)
  return key
}

export const jsonBody = (events: LogEvent[]) => Buffer.from(encodeJsonEvents(events))
