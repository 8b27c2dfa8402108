/**
 * The one check every EventStore backend runs before a write: a record the
 * store could not keep exactly (a time that is not a safe integer, a key that
 * is not bytes, ...) fails the whole batch with LS_EVENT_INVALID before
 * anything is written. Format rules (type range, bucket syntax, value depth)
 * belong to the decoders; this only guards what the columns can hold.
 */
import { EventValidationError } from '../errors.js'
import type { EventRecord } from '../model/event-record.js'
import type { WriteBatch } from './event-store.js'

const RULE = 'storable'

function fail(index: number, reason: string): never {
  throw new EventValidationError(index, RULE, reason)
}

function checkTime(index: number, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(index, `${name} must be a safe integer of ms, got ${String(value)}`)
}

function checkNullableText(index: number, name: string, value: unknown): void {
  if (value !== null && typeof value !== 'string') fail(index, `${name} must be a string or null`)
}

export function checkStorableEvent(event: EventRecord, index: number): void {
  if (typeof event.bucket !== 'string' || event.bucket === '') fail(index, 'bucket must be a non-empty string')
  if (!(event.key instanceof Uint8Array)) fail(index, 'key must be keyjson bytes (a Uint8Array)')
  if (typeof event.type === 'number') {
    if (!Number.isSafeInteger(event.type) || event.type < 0) fail(index, `an integer type must be a non-negative integer, got ${event.type}`)
  } else if (typeof event.type !== 'string' || event.type === '') {
    fail(index, 'type must be a non-empty string or an integer')
  }
  if (typeof event.value !== 'string') fail(index, 'value must be JSON text (a string)')
  checkTime(index, 'clientTime', event.clientTime)
  checkTime(index, 'serverTime', event.serverTime)
  if (event.originalClientTime !== null) checkTime(index, 'originalClientTime', event.originalClientTime)
  checkNullableText(index, 'userId', event.userId)
  checkNullableText(index, 'anonymousId', event.anonymousId)
  checkNullableText(index, 'producer', event.producer)
  checkNullableText(index, 'ip', event.ip)
  if (typeof event.source !== 'string') fail(index, 'source must be a string')
}

/** Throws EventValidationError (LS_EVENT_INVALID) naming the first record the store cannot keep. */
export function checkStorableBatch(batch: WriteBatch): void {
  batch.events.forEach(checkStorableEvent)
  for (const checkpoint of batch.checkpoints ?? []) {
    if (typeof checkpoint.name !== 'string' || typeof checkpoint.position !== 'string') {
      throw new EventValidationError(-1, RULE, 'a checkpoint needs a string name and position')
    }
  }
  for (const reject of batch.rejects ?? []) {
    if (!(reject.body instanceof Uint8Array)) throw new EventValidationError(-1, RULE, 'a rejected request body must be bytes')
    if (!Number.isSafeInteger(reject.time)) throw new EventValidationError(-1, RULE, 'a rejected request time must be a safe integer of ms')
  }
}

/** The `type` column's text and `type_is_code` flag for an event type. */
export function typeColumns(type: EventRecord['type']): { text: string; isCode: boolean } {
  return typeof type === 'number' ? { text: String(type), isCode: true } : { text: type, isCode: false }
}
