/**
 * A parsed client body with the text spans of its parts, so an event's value
 * can be cut out exactly as the client wrote it (never re-serialised). The
 * text is checked and scanned by the formats layer's scanner
 * (src/formats/json-text.ts: RFC 8259, no recursion, a depth limit); values
 * for the decoders' checks come from JSON.parse of the same, valid, text.
 */
import { MAX_JSON_DEPTH, scanJson, JsonTextError as ScanError, type JsonNode } from '../formats/json-text.js'
/** Levels whose children are kept: a JSON-RPC batch → request → params → events → event is 4 below the root. */
const KEEP_LEVELS = 5

/** A span [start, end) of the text (UTF-16 indexes). */
export interface TextSpan {
  start: number
  end: number
}

/** The body is not JSON, or nests too deep; the message names the offset. */
export class JsonTextError extends Error {}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export class JsonDocument {
  readonly value: unknown
  private readonly nodes = new Map<number, JsonNode>()
  private readonly rootNode: JsonNode

  constructor(readonly text: string) {
    try {
      this.rootNode = scanJson(text, { maxDepth: MAX_JSON_DEPTH, keepLevels: KEEP_LEVELS })
    } catch (err) {
      if (!(err instanceof ScanError)) throw err
      throw new JsonTextError(err.tooDeep ? `JSON nested deeper than ${MAX_JSON_DEPTH} at offset ${err.offset}` : `malformed JSON: ${err.message}`)
    }
    this.index(this.rootNode)
    this.value = JSON.parse(text)
  }

  private index(node: JsonNode): void {
    this.nodes.set(node.start, node)
    for (const member of node.members ?? []) this.index(member.node)
    for (const element of node.elements ?? []) this.index(element)
  }

  root(): TextSpan {
    return { start: this.rootNode.start, end: this.rootNode.end }
  }

  /** The members of the object at `span`: name → span of its value (a repeated name keeps the last, as JSON.parse does). */
  members(span: TextSpan): Map<string, TextSpan> {
    const members = new Map<string, TextSpan>()
    for (const { name, node } of this.nodes.get(span.start)?.members ?? []) members.set(name, { start: node.start, end: node.end })
    return members
  }

  /** The spans of the elements of the array at `span`. */
  elements(span: TextSpan): TextSpan[] {
    return (this.nodes.get(span.start)?.elements ?? []).map((node) => ({ start: node.start, end: node.end }))
  }

  /** The exact text of member `name` of the object at `span`, or undefined when it has none. */
  memberText(span: TextSpan, name: string): string | undefined {
    const member = this.members(span).get(name)
    return member ? this.text.slice(member.start, member.end) : undefined
  }
}
