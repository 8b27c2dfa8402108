/**
 * The event model shared by both wire formats, its validation rules, and the
 * total order over keys. The rules and their names are the contract in
 * formats/json-events.md; `rule` strings never change meaning.
 */
import { BadRequestError, EventValidationError } from '../errors.js'
import { MAX_JSON_DEPTH, scanJson, JsonTextError, utf8Offset, type JsonNode } from './json-text.js'
import { checkKey as checkKeyRules, compareEncodedKeys, decodeKey, encodeKey, hasLoneSurrogate, isPlainObject, type EventKey } from './keyjson.js'

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

/**
 * An event as a server reads it off the wire (either format): the value is
 * the exact JSON text received — never parsed into objects, never re-serialised.
 */
export interface ReceivedEvent {
  key: EventKey
  type: EventType
  /** The value's exact JSON text (an object), as it appeared in the body. */
  value: string
  clientTime: number
}

/** An event as a server returns it: with the time it was received. */
export interface StoredEvent extends LogEvent {
  /** Milliseconds since 1970, set by the server on receipt. */
  serverTime: number
}

export const EVENT_FIELDS = ['key', 'type', 'value', 'clientTime'] as const
export const MAX_EVENT_TYPE_CODE = 0xffff
/** Deepest nesting of a value (rule value-depth): MAX_JSON_DEPTH, kept under this name for the public API. */
export const MAX_VALUE_DEPTH = MAX_JSON_DEPTH
/** Largest value text in UTF-8 bytes (rule value-size): 1 MiB. */
export const MAX_VALUE_BYTES = 1024 * 1024

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
  | 'value-depth'
  | 'value-size'
  | 'client-time'

/** One broken rule, without the index (the caller knows it). */
export interface RuleViolation {
  rule: EventRule
  reason: string
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

/** Nesting depth of a parsed JSON value, counted without recursion; stops counting past `limit`. */
function depthOf(value: unknown, limit: number): number {
  let deepest = 0
  const pending: Array<[unknown, number]> = [[value, 1]]
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!
    if (typeof item !== 'object' || item === null) continue
    if (depth > deepest) deepest = depth
    if (deepest > limit) return deepest
    for (const child of Array.isArray(item) ? item : Object.values(item)) pending.push([child, depth + 1])
  }
  return deepest
}

/** Checks a parsed value (as a client holds it before sending). */
export function checkValue(value: unknown): RuleViolation | undefined {
  if (!isPlainObject(value)) {
    const what = value === undefined ? 'missing' : value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`
    return { rule: 'value-object', reason: `value is ${what}; it must be a JSON object` }
  }
  if (depthOf(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) return { rule: 'value-depth', reason: `value nests deeper than ${MAX_JSON_DEPTH} levels` }
  return undefined
}

/** Checks a value found in JSON text by the scanner: an object, at most MAX_JSON_DEPTH deep and MAX_VALUE_BYTES long. */
export function checkValueNode(node: JsonNode, text: string): RuleViolation | undefined {
  if (node.kind !== 'object') {
    const what = node.kind === 'array' ? 'an array' : node.kind === 'string' ? 'a string' : node.kind === 'number' ? 'a number' : node.kind
    return { rule: 'value-object', reason: `value is ${what}; it must be a JSON object` }
  }
  if (node.height > MAX_JSON_DEPTH) return { rule: 'value-depth', reason: `value nests ${node.height} levels deep; the limit is ${MAX_JSON_DEPTH}` }
  // UTF-16 length is at most the UTF-8 length; measure bytes only when it could matter.
  const chars = node.end - node.start
  if (chars * 3 > MAX_VALUE_BYTES) {
    const bytes = Buffer.byteLength(text.slice(node.start, node.end), 'utf8')
    if (bytes > MAX_VALUE_BYTES) return { rule: 'value-size', reason: `value is ${bytes} bytes; the limit is ${MAX_VALUE_BYTES}` }
  }
  return undefined
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

// ---- Reading bodies as text (servers) -----------------------------------------

/** The rule a too-deep part breaks, by the event field it is in. */
const DEPTH_RULE_BY_FIELD: Record<string, EventRule> = { key: 'key-shape', type: 'type-value', value: 'value-depth', clientTime: 'client-time' }

/** Turns the scanner's depth failure into the rule of the field it happened in. */
function depthViolation(err: JsonTextError, text: string): EventValidationError {
  const wrapped = err.path[0] === 'events'
  const index = wrapped && typeof err.path[1] === 'number' ? err.path[1] : 0
  const field = wrapped ? err.path[2] : err.path[0]
  const where = `at byte ${utf8Offset(text, err.offset)}`
  if (wrapped && typeof err.path[1] !== 'number') return new EventValidationError(0, 'event-object', `"events" is not an array (it nests too deep ${where})`)
  if (typeof field !== 'string') return new EventValidationError(index, 'event-object', `the event is not a JSON object (it nests too deep ${where})`)
  const rule = DEPTH_RULE_BY_FIELD[field] ?? 'event-fields'
  const reason = rule === 'event-fields' ? `unknown field ${JSON.stringify(field)}` : `${field} nests deeper than allowed`
  return new EventValidationError(index, rule, `${reason} (${rule === 'value-depth' ? `the limit is ${MAX_JSON_DEPTH} levels, ` : ''}${where})`)
}

function nodeKind(node: JsonNode): string {
  return node.kind === 'object' ? 'an object' : node.kind === 'array' ? 'an array' : node.kind === 'string' ? 'a string' : node.kind === 'number' ? 'a number' : node.kind
}

/** Reads one event object found by the scanner; throws EventValidationError for the first broken rule. */
function readEventNode(node: JsonNode, text: string, index: number): ReceivedEvent {
  if (node.kind !== 'object') throw new EventValidationError(index, 'event-object', `event is ${nodeKind(node)}, not a JSON object`)
  const fields = new Map<string, JsonNode>()
  for (const { name, node: member } of node.members!) {
    if (!(EVENT_FIELDS as readonly string[]).includes(name)) {
      throw new EventValidationError(index, 'event-fields', `unknown field ${JSON.stringify(name)}; an event has key, type, value and clientTime`)
    }
    if (fields.has(name)) throw new EventValidationError(index, 'event-fields', `field ${name} appears twice`)
    fields.set(name, member)
  }
  const parse = (name: string): unknown => {
    const member = fields.get(name)
    // Key, type and clientTime are small, and the scanner bounded their depth: JSON.parse is safe here.
    return member === undefined ? undefined : JSON.parse(text.slice(member.start, member.end))
  }
  if (!fields.has('key')) throw new EventValidationError(index, 'event-fields', 'field key is missing')
  const key = parse('key')
  const type = parse('type')
  const clientTime = parse('clientTime')
  const valueNode = fields.get('value')
  const violation =
    checkKey(key) ??
    checkType(type) ??
    (valueNode === undefined ? { rule: 'value-object' as const, reason: 'value is missing; it must be a JSON object' } : checkValueNode(valueNode, text)) ??
    checkClientTime(clientTime)
  if (violation) throw new EventValidationError(index, violation.rule, violation.reason)
  return { key: key as EventKey, type: type as EventType, value: text.slice(valueNode!.start, valueNode!.end), clientTime: clientTime as number }
}

/**
 * Reads the JSON text of a post-events body: one event, or `{"events": [...]}`.
 * Validates the whole text first (iteratively, with the depth limit), then each
 * event; values come back as their exact text. Throws BadRequestError (400) for
 * text that is not JSON, EventValidationError for a broken rule.
 */
export function readJsonEvents(text: string): ReceivedEvent[] {
  let root: JsonNode
  try {
    // Levels kept: the body (0), "events" (1), each event (2); the value is level 1 or 3.
    root = scanJson(text, { maxDepth: MAX_JSON_DEPTH + 3, keepLevels: 3 })
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err
    if (err.tooDeep) throw depthViolation(err, text)
    throw new BadRequestError(400, `malformed JSON at byte ${utf8Offset(text, err.offset)}: ${err.reason}`)
  }
  if (root.kind === 'array') throw new EventValidationError(0, 'event-object', 'body is an array; send one event or {"events": [...]}')
  if (root.kind === 'object' && root.members!.some((m) => m.name === 'events')) {
    const extra = root.members!.find((m) => m.name !== 'events')
    if (extra !== undefined) throw new EventValidationError(0, 'event-object', `unknown top-level field ${JSON.stringify(extra.name)} next to "events"`)
    if (root.members!.length > 1) throw new EventValidationError(0, 'event-object', '"events" appears twice')
    const list = root.members![0]!.node
    if (list.kind !== 'array') throw new EventValidationError(0, 'event-object', '"events" is not an array')
    return list.elements!.map((node, index) => readEventNode(node, text, index))
  }
  return [readEventNode(root, text, 0)]
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** readJsonEvents for a body as bytes: they must be UTF-8 (a value is kept as text, so no byte may be guessed at). */
export function readJsonEventsBody(body: Uint8Array): ReceivedEvent[] {
  let text: string
  try {
    text = strictUtf8.decode(body)
  } catch {
    throw new BadRequestError(400, 'malformed JSON: the body is not valid UTF-8')
  }
  return readJsonEvents(text)
}

/**
 * One event as JSON text for an answer or a line of output:
 * `{"key":…,"type":…,"value":<the exact text>,"clientTime":…,"serverTime":…}`.
 * `key` is keyjson bytes; the value text is embedded as is.
 */
export function storedEventJson(event: { key: Uint8Array; type: EventType; value: string; clientTime: number; serverTime: number }): string {
  return `{"key":${JSON.stringify(decodeKey(event.key))},"type":${JSON.stringify(event.type)},"value":${event.value},"clientTime":${event.clientTime},"serverTime":${event.serverTime}}`
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
