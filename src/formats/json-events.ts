/**
 * The event model shared by both wire formats, its validation rules, and the
 * total order over keys. The rules and their names are the contract in
 * formats/json-events.md; `rule` strings never change meaning.
 */
import { EventValidationError } from '../errors.js'
import { checkKey as checkKeyRules, compareEncodedKeys, encodeKey, hasLoneSurrogate, type EventKey } from './keyjson.js'

/** A key: formats/keyjson.md (a scalar, or a list or object of scalars one level deep). */
export type { EventKey }
/** A type: an integer 0..65535 or a non-empty string. */
export type EventType = number | string
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

/** An event as clients send it (JSON event format, or one eventbuf-v2 event). */
export interface LogEvent {
  key: EventKey
  type: EventType
  value: JsonObject
  /** Milliseconds since 1970-01-01T00:00:00Z, as the client saw it. */
  clientTime: number
}

/** An event as a server returns it: with the time it was received. */
export interface StoredEvent extends LogEvent {
  /** Milliseconds since 1970, set by the server on receipt. */
  serverTime: number
}

export const EVENT_FIELDS = ['key', 'type', 'value', 'clientTime'] as const
export const MAX_EVENT_TYPE_CODE = 0xffff

/** The rule names a validation error can carry (formats/json-events.md, "Rules"). */
export type EventRule =
  | 'event-object'
  | 'event-fields'
  | 'key-shape'
  | 'key-integer'
  | 'key-string'
  | 'key-size'
  | 'type-value'
  | 'value-object'
  | 'client-time'

/** One broken rule, without the index (the caller knows it). */
export interface RuleViolation {
  rule: EventRule
  reason: string
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

export { hasLoneSurrogate }

/** Checks a key (formats/keyjson.md, including its encoded size); returns the broken rule or undefined. */
export function checkKey(key: unknown): RuleViolation | undefined {
  return checkKeyRules(key)
}

/** Checks a type; returns the broken rule or undefined. */
export function checkType(type: unknown): RuleViolation | undefined {
  if (typeof type === 'number') {
    if (Number.isInteger(type) && type >= 0 && type <= MAX_EVENT_TYPE_CODE) return undefined
    return { rule: 'type-value', reason: `type ${String(type)} is not an integer in 0..65535` }
  }
  if (typeof type === 'string') {
    if (type === '') return { rule: 'type-value', reason: 'type is an empty string' }
    if (hasLoneSurrogate(type)) return { rule: 'type-value', reason: 'type contains a lone surrogate (not valid Unicode)' }
    return undefined
  }
  return { rule: 'type-value', reason: `type is ${type === undefined ? 'missing' : type === null ? 'null' : `a ${Array.isArray(type) ? 'array' : typeof type}`}; types are 0..65535 or a non-empty string` }
}

export function checkValue(value: unknown): RuleViolation | undefined {
  if (isPlainObject(value)) return undefined
  const what = value === undefined ? 'missing' : value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`
  return { rule: 'value-object', reason: `value is ${what}; it must be a JSON object` }
}

export function checkClientTime(clientTime: unknown): RuleViolation | undefined {
  if (typeof clientTime === 'number' && Number.isSafeInteger(clientTime) && clientTime >= 0) return undefined
  const what = clientTime === undefined ? 'missing' : JSON.stringify(clientTime) ?? typeof clientTime
  return { rule: 'client-time', reason: `clientTime is ${what}; it must be an integer number of ms since 1970, 0..2^53-1` }
}

/** Checks one event in the JSON event shape; returns the first broken rule or undefined. */
export function checkEvent(event: unknown): RuleViolation | undefined {
  if (!isPlainObject(event)) return { rule: 'event-object', reason: 'event is not a JSON object' }
  for (const name of Object.keys(event)) {
    if (!(EVENT_FIELDS as readonly string[]).includes(name)) {
      return { rule: 'event-fields', reason: `unknown field ${JSON.stringify(name)}; an event has key, type, value and clientTime` }
    }
  }
  if (!('key' in event)) return { rule: 'event-fields', reason: 'field key is missing' }
  return checkKey(event.key) ?? checkType(event.type) ?? checkValue(event.value) ?? checkClientTime(event.clientTime)
}

/** Throws EventValidationError naming `index` and the rule unless `event` is a valid event. */
export function validateEvent(event: unknown, index = 0): asserts event is LogEvent {
  const violation = checkEvent(event)
  if (violation) throw new EventValidationError(index, violation.rule, violation.reason)
}

/** Validates every event (throwing for the first bad one) and returns them typed. */
export function validateEvents(events: readonly unknown[]): LogEvent[] {
  events.forEach((event, index) => validateEvent(event, index))
  return events as LogEvent[]
}

/**
 * Reads a parsed JSON body: one event, or `{"events": [...]}`. Throws
 * EventValidationError for a bad event; a body of another shape is reported
 * as event 0 breaking `event-object`, with a reason that says what was expected.
 */
export function eventsFromJsonBody(body: unknown): LogEvent[] {
  if (isPlainObject(body) && 'events' in body) {
    const extra = Object.keys(body).find((name) => name !== 'events')
    if (extra !== undefined) throw new EventValidationError(0, 'event-object', `unknown top-level field ${JSON.stringify(extra)} next to "events"`)
    if (!Array.isArray(body.events)) throw new EventValidationError(0, 'event-object', '"events" is not an array')
    return validateEvents(body.events)
  }
  if (Array.isArray(body)) throw new EventValidationError(0, 'event-object', 'body is an array; send one event or {"events": [...]}')
  validateEvent(body, 0)
  return [body]
}

/** The JSON events format: `{"events": [...]}`. */
export function encodeJsonEvents(events: readonly LogEvent[]): string {
  return JSON.stringify({ events })
}

// ---- Key order ------------------------------------------------------------

/**
 * The total order over keys: the byte order of their keyjson encodings
 * (formats/keyjson.md, "Order"). Returns a negative number, 0 or a positive number.
 */
export function compareKeys(a: EventKey, b: EventKey): number {
  return compareEncodedKeys(encodeKey(a), encodeKey(b))
}

/** A string that is equal for two keys exactly when they are the same key (their keyjson bytes, as latin1). */
export function keyIdentity(key: EventKey): string {
  return Buffer.from(encodeKey(key)).toString('latin1')
}
