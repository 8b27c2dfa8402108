/**
 * One JSON shape for an event outside the store (webhook batches, the NDJSON
 * file processor) and one dedup id per event, so every destination that
 * deduplicates gets the same stable id for the same stored event.
 */
import { encodedKeyToJson, keyjsonBase64Encode } from '../formats/keyjson.js'
import type { EventRecord } from './event-record.js'

/**
 * The event's id for destinations that deduplicate (Segment `messageId`,
 * webhook `id`): `bucket:` then the key as keyjson-base64 (formats/keyjson.md).
 * Keys are unique per bucket, so the bucket makes it unique across buckets.
 */
export function eventDedupId(event: Pick<EventRecord, 'bucket' | 'key'>): string {
  return `${event.bucket}:${keyjsonBase64Encode(event.key)}`
}

/** The key as JSON text (`"a"`, `["u",2]`); null when the bytes are not keyjson (a store never holds such a key). */
export function keyJsonText(key: Uint8Array): string | null {
  try {
    return encodedKeyToJson(key)
  } catch {
    return null
  }
}

/**
 * The event as JSON: `key` as its JSON value, `value` inlined as the exact
 * text received; with `oneLine`, line breaks between its tokens become spaces
 * (see inlineValue) so the event fits on one NDJSON line.
 */
export function eventToJson(event: EventRecord, oneLine = false): string {
  return (
    `{"id":${JSON.stringify(eventDedupId(event))},"bucket":${JSON.stringify(event.bucket)},"key":${keyJsonText(event.key) ?? JSON.stringify(keyjsonBase64Encode(event.key))},` +
    `"type":${JSON.stringify(event.type)},"value":${oneLine ? inlineValue(event.value) : event.value},"clientTime":${event.clientTime},"serverTime":${event.serverTime},` +
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
