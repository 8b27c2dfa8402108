/**
 * One JSON shape for an event outside the store (webhook batches, the NDJSON
 * file processor) and one dedup id per event, so every destination that
 * deduplicates gets the same stable id for the same stored event.
 */
import type { EventRecord } from './event-record.js'

/** The key as text: URL-safe base64 (no padding) of its keyjson bytes. */
export function keyBase64(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64url')
}

/**
 * The event's id for destinations that deduplicate (Segment `messageId`,
 * webhook `id`): `bucket:` then the key as URL-safe base64. Keys are unique per
 * bucket, so the bucket makes it unique across buckets.
 */
export function eventDedupId(event: Pick<EventRecord, 'bucket' | 'key'>): string {
  return `${event.bucket}:${keyBase64(event.key)}`
}

/** The event as one line of JSON, `value` inlined as the text received (see inlineValue). */
export function eventToJson(event: EventRecord): string {
  return (
    `{"id":${JSON.stringify(eventDedupId(event))},"bucket":${JSON.stringify(event.bucket)},"key":${JSON.stringify(keyBase64(event.key))},` +
    `"type":${JSON.stringify(event.type)},"value":${inlineValue(event.value)},"clientTime":${event.clientTime},"serverTime":${event.serverTime},` +
    `"originalClientTime":${JSON.stringify(event.originalClientTime)},"userId":${JSON.stringify(event.userId)},` +
    `"anonymousId":${JSON.stringify(event.anonymousId)},"producer":${JSON.stringify(event.producer)},"ip":${JSON.stringify(event.ip)},` +
    `"source":${JSON.stringify(event.source)}}`
  )
}

/**
 * The value text as it was received. JSON allows CR and LF only as whitespace
 * between tokens (inside strings they are escaped), so replacing them with
 * spaces keeps one event per line and changes no value.
 */
export function inlineValue(value: string): string {
  return /[\r\n]/.test(value) ? value.replace(/[\r\n]/g, ' ') : value
}
