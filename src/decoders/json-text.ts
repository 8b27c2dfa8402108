/**
 * Where the parts of a JSON document are in its text, so an event's value can
 * be cut out of the body exactly as the client wrote it (never re-serialised).
 * The text is checked with JSON.parse first; the scanner only walks text that
 * is known to be valid JSON, and checks the nesting depth on the way.
 */

/** Deeper documents are refused: nothing a client sends needs more, and deep ones cost stack elsewhere. */
export const MAX_JSON_DEPTH = 64

/** A span [start, end) of the text. */
export interface TextSpan {
  start: number
  end: number
}

export class JsonTextError extends Error {}

/** Parses `text`, or throws JsonTextError saying why (JSON.parse's message names the position). */
export function parseJson(text: string): unknown {
  const depth = maxDepth(text)
  if (depth > MAX_JSON_DEPTH) throw new JsonTextError(`JSON nested ${depth} deep; the limit is ${MAX_JSON_DEPTH}`)
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new JsonTextError(`malformed JSON: ${(err as Error).message}`)
  }
}

/** The deepest nesting of arrays and objects, ignoring brackets inside strings. */
export function maxDepth(text: string): number {
  let depth = 0
  let deepest = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) i = stringEnd(text, i) - 1
    else if (c === 0x7b || c === 0x5b) {
      depth++
      if (depth > deepest) deepest = depth
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return deepest
}

function skipSpace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break
    i++
  }
  return i
}

/** `i` at an opening quote; returns the index after the closing one. */
function stringEnd(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x5c) i++
    else if (c === 0x22) return i + 1
  }
  return text.length
}

/** `i` at the start of a value; returns the index after it. */
function valueEnd(text: string, i: number): number {
  const c = text.charCodeAt(i)
  if (c === 0x22) return stringEnd(text, i)
  if (c === 0x7b || c === 0x5b) {
    let depth = 0
    for (; i < text.length; i++) {
      const d = text.charCodeAt(i)
      if (d === 0x22) i = stringEnd(text, i) - 1
      else if (d === 0x7b || d === 0x5b) depth++
      else if (d === 0x7d || d === 0x5d) {
        depth--
        if (depth === 0) return i + 1
      }
    }
    return text.length
  }
  // Number, true, false, null: up to the next delimiter.
  while (i < text.length) {
    const d = text.charCodeAt(i)
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) break
    i++
  }
  return i
}

/** The span of the whole document's value (without surrounding whitespace). */
export function rootSpan(text: string): TextSpan {
  const start = skipSpace(text, 0)
  return { start, end: valueEnd(text, start) }
}

/** The members of the object at `span`: name → span of its value. A repeated name keeps the last, as JSON.parse does. */
export function objectMembers(text: string, span: TextSpan): Map<string, TextSpan> {
  const members = new Map<string, TextSpan>()
  let i = skipSpace(text, span.start + 1)
  if (text.charCodeAt(i) === 0x7d) return members
  while (i < span.end) {
    const nameEnd = stringEnd(text, i)
    const name = JSON.parse(text.slice(i, nameEnd)) as string
    i = skipSpace(text, nameEnd) + 1 // past ':'
    const start = skipSpace(text, i)
    const end = valueEnd(text, start)
    members.set(name, { start, end })
    i = skipSpace(text, end)
    if (text.charCodeAt(i) !== 0x2c) break
    i = skipSpace(text, i + 1)
  }
  return members
}

/** The spans of the elements of the array at `span`. */
export function arrayElements(text: string, span: TextSpan): TextSpan[] {
  const elements: TextSpan[] = []
  let i = skipSpace(text, span.start + 1)
  if (text.charCodeAt(i) === 0x5d) return elements
  while (i < span.end) {
    const start = i
    const end = valueEnd(text, start)
    elements.push({ start, end })
    i = skipSpace(text, end)
    if (text.charCodeAt(i) !== 0x2c) break
    i = skipSpace(text, i + 1)
  }
  return elements
}

/** A parsed document with its text, for cutting values out exactly. */
export class JsonDocument {
  readonly value: unknown
  constructor(readonly text: string) {
    this.value = parseJson(text)
  }

  /** The text of member `name` of the object at `span`, or undefined when it has none. */
  memberText(span: TextSpan, name: string): string | undefined {
    const member = objectMembers(this.text, span).get(name)
    return member ? this.text.slice(member.start, member.end) : undefined
  }

  root(): TextSpan {
    return rootSpan(this.text)
  }
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
