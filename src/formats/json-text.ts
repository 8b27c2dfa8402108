/**
 * A defensive JSON scanner: validates JSON text (RFC 8259) without building
 * values and without recursion, enforces a nesting-depth limit, and returns
 * the exact text span of every value down to a chosen level. Event values are
 * kept as the exact text received, so this is how a reader finds them: no
 * JSON.parse of the value, no re-serialising, and a 5,000-deep value costs a
 * loop, not the call stack.
 */

/**
 * Deepest nesting of objects and arrays accepted in JSON we read (`{}` is 1
 * level): an event value (rule value-depth), a client body, an /api/events
 * body. One limit, so what one format accepts every other can carry.
 */
export const MAX_JSON_DEPTH = 64

export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'true' | 'false' | 'null'

/** One value of the scanned text. `start`/`end` are UTF-16 indexes into the text (slice them). */
export interface JsonNode {
  kind: JsonKind
  start: number
  end: number
  /** Nesting depth of the value itself: 0 for a scalar, 1 for `{}` or `[1]`, 2 for `{"a":[]}` ... */
  height: number
  /** An object's members, in text order (repeats kept), when its level is kept. */
  members?: Array<{ name: string; node: JsonNode }>
  /** An array's elements, when its level is kept. */
  elements?: JsonNode[]
}

export interface JsonScanOptions {
  /** Deepest nesting accepted for the whole text (the outermost object or array is depth 1). */
  maxDepth: number
  /** Containers at levels below this (the root is level 0) record their children. Default: 0 (only the root's span). */
  keepLevels?: number
}

/**
 * Text that is not JSON, or nests deeper than the limit. `offset` is a UTF-16
 * index into the text; `path` names where it happened through the kept levels
 * (member names and array indexes); `tooDeep` tells the depth limit from
 * malformed text. Readers turn it into their format's error: it never leaves
 * the formats layer.
 */
export class JsonTextError extends Error {
  readonly offset: number
  readonly reason: string
  readonly path: Array<string | number>
  readonly tooDeep: boolean

  constructor(offset: number, reason: string, path: Array<string | number>, tooDeep: boolean) {
    super(`${reason} at offset ${offset}`)
    this.name = 'JsonTextError'
    this.offset = offset
    this.reason = reason
    this.path = path
    this.tooDeep = tooDeep
  }
}

interface Frame {
  node: JsonNode
  keep: boolean
  /** Height of the deepest child so far. */
  childHeight: number
  /** The member name being read (objects) or the element count (arrays), for paths. */
  name: string | undefined
  count: number
}

const enum Expect {
  Value,
  /** After `{`: a member name or `}`. */
  FirstName,
  /** After `,` in an object: a member name. */
  Name,
  /** After a value inside a container: `,` or the closing bracket. */
  Next,
}

const CH_TAB = 0x09
const CH_LF = 0x0a
const CH_CR = 0x0d
const CH_SPACE = 0x20
const CH_QUOTE = 0x22
const CH_COMMA = 0x2c
const CH_MINUS = 0x2d
const CH_DOT = 0x2e
const CH_0 = 0x30
const CH_9 = 0x39
const CH_COLON = 0x3a
const CH_BACKSLASH = 0x5c
const CH_OPEN_SQUARE = 0x5b
const CH_CLOSE_SQUARE = 0x5d
const CH_OPEN_CURLY = 0x7b
const CH_CLOSE_CURLY = 0x7d

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9
}
function isHex(c: number): boolean {
  return (c >= CH_0 && c <= CH_9) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}
function describeChar(text: string, at: number): string {
  return at >= text.length ? 'the end of the text' : JSON.stringify(text[at])
}

/** Scans `text` as one JSON value (with optional whitespace around it). Throws JsonTextError. */
export function scanJson(text: string, options: JsonScanOptions): JsonNode {
  const { maxDepth } = options
  const keepLevels = options.keepLevels ?? 0
  const length = text.length
  const stack: Frame[] = []
  let root: JsonNode | undefined
  let expect = Expect.Value as Expect
  let i = 0

  const path = (): Array<string | number> => stack.filter((f) => f.keep).map((f) => (f.node.kind === 'object' ? (f.name ?? '') : f.count))
  const fail = (at: number, reason: string, tooDeep = false): never => {
    throw new JsonTextError(at, reason, path(), tooDeep)
  }
  const skipSpace = (): void => {
    while (i < length) {
      const c = text.charCodeAt(i)
      if (c !== CH_SPACE && c !== CH_LF && c !== CH_CR && c !== CH_TAB) return
      i++
    }
  }
  /** Reads a string starting at the quote at `i`; leaves `i` after the closing quote. */
  const readString = (): void => {
    const start = i
    i++
    for (;;) {
      if (i >= length) fail(start, 'unterminated string')
      const c = text.charCodeAt(i)
      if (c === CH_QUOTE) {
        i++
        return
      }
      if (c === CH_BACKSLASH) {
        const e = text.charCodeAt(i + 1)
        if (e === 0x75 /* u */) {
          for (let k = 2; k < 6; k++) if (!isHex(text.charCodeAt(i + k))) fail(i, 'bad \\u escape (four hex digits expected)')
          i += 6
        } else if (e === CH_QUOTE || e === CH_BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          i += 2
        } else {
          fail(i, `bad escape \\${i + 1 < length ? text[i + 1] : ''}`)
        }
      } else if (c < 0x20) {
        fail(i, 'control character in a string (escape it)')
      } else {
        i++
      }
    }
  }
  const readNumber = (): void => {
    const start = i
    if (text.charCodeAt(i) === CH_MINUS) i++
    if (text.charCodeAt(i) === CH_0) i++
    else if (isDigit(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i++
    else fail(start, 'bad number')
    if (text.charCodeAt(i) === CH_DOT) {
      i++
      if (!isDigit(text.charCodeAt(i))) fail(i, 'digit expected after the decimal point')
      while (isDigit(text.charCodeAt(i))) i++
    }
    const e = text.charCodeAt(i)
    if (e === 0x65 || e === 0x45) {
      i++
      const sign = text.charCodeAt(i)
      if (sign === 0x2b || sign === CH_MINUS) i++
      if (!isDigit(text.charCodeAt(i))) fail(i, 'digit expected in the exponent')
      while (isDigit(text.charCodeAt(i))) i++
    }
  }
  /** A complete value `node` just ended: attach it to its parent. */
  const finished = (node: JsonNode): void => {
    const parent = stack[stack.length - 1]
    if (parent === undefined) {
      root = node
      return
    }
    if (node.height > parent.childHeight) parent.childHeight = node.height
    if (parent.keep) {
      if (parent.node.kind === 'object') parent.node.members!.push({ name: parent.name!, node })
      else parent.node.elements!.push(node)
    }
    parent.count++
    expect = Expect.Next
  }

  for (;;) {
    skipSpace()
    if (root !== undefined) {
      if (i < length) fail(i, `unexpected ${describeChar(text, i)} after the JSON value`)
      return root
    }
    if (i >= length) fail(i, root === undefined && stack.length === 0 ? 'no JSON value (empty text)' : 'unexpected end of the text')
    const c = text.charCodeAt(i)
    const top = stack[stack.length - 1]

    if (expect === Expect.Next) {
      const close = top!.node.kind === 'object' ? CH_CLOSE_CURLY : CH_CLOSE_SQUARE
      if (c === CH_COMMA) {
        i++
        expect = top!.node.kind === 'object' ? Expect.Name : Expect.Value
        continue
      }
      if (c !== close) fail(i, `expected "," or "${String.fromCharCode(close)}", found ${describeChar(text, i)}`)
      i++
      stack.pop()
      top!.node.end = i
      top!.node.height = top!.childHeight + 1
      finished(top!.node)
      continue
    }

    if (expect === Expect.FirstName || expect === Expect.Name) {
      if (c === CH_CLOSE_CURLY && expect === Expect.FirstName) {
        i++
        stack.pop()
        top!.node.end = i
        top!.node.height = 1
        finished(top!.node)
        continue
      }
      if (c !== CH_QUOTE) fail(i, `expected a member name (a string), found ${describeChar(text, i)}`)
      const nameStart = i
      readString()
      if (top!.keep) top!.name = JSON.parse(text.slice(nameStart, i)) as string
      skipSpace()
      if (text.charCodeAt(i) !== CH_COLON) fail(i, `expected ":" after a member name, found ${describeChar(text, i)}`)
      i++
      expect = Expect.Value
      continue
    }

    // Expect.Value
    if (c === CH_OPEN_CURLY || c === CH_OPEN_SQUARE) {
      if (stack.length + 1 > maxDepth) fail(i, `nested deeper than ${maxDepth} levels`, true)
      const keep = stack.length < keepLevels
      const node: JsonNode = { kind: c === CH_OPEN_CURLY ? 'object' : 'array', start: i, end: -1, height: 0 }
      if (keep) {
        if (node.kind === 'object') node.members = []
        else node.elements = []
      }
      stack.push({ node, keep, childHeight: 0, name: undefined, count: 0 })
      i++
      if (node.kind === 'object') {
        expect = Expect.FirstName
      } else {
        skipSpace()
        if (text.charCodeAt(i) === CH_CLOSE_SQUARE) {
          i++
          stack.pop()
          node.end = i
          node.height = 1
          finished(node)
        } else {
          expect = Expect.Value
        }
      }
      continue
    }
    const start = i
    let kind: JsonKind
    if (c === CH_QUOTE) {
      readString()
      kind = 'string'
    } else if (c === CH_MINUS || isDigit(c)) {
      readNumber()
      kind = 'number'
    } else if (text.startsWith('true', i)) {
      i += 4
      kind = 'true'
    } else if (text.startsWith('false', i)) {
      i += 5
      kind = 'false'
    } else if (text.startsWith('null', i)) {
      i += 4
      kind = 'null'
    } else {
      return fail(i, `unexpected ${describeChar(text, i)} where a value should start`)
    }
    finished({ kind, start, end: i, height: 0 })
  }
}

/** The UTF-8 byte offset of UTF-16 index `index` in `text`, for error messages about bytes received. */
export function utf8Offset(text: string, index: number): number {
  return Buffer.byteLength(text.slice(0, index), 'utf8')
}
