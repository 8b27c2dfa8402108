/**
 * Every value this backend puts into ClickHouse text goes through here: SQL
 * literals (query_params are unknown to 18.16) and TabSeparated rows for
 * inserts.
 *
 * Keys and request bodies are bytes, and bytes >= 0x80 do not survive
 * JSONEachRow (ClickHouse takes JSON strings as UTF-8 text). So bytes travel
 * raw in TabSeparated on the way in (only tab, newline and backslash need an
 * escape there) and as `hex(...)` on the way out. In SQL they are string
 * literals with `\xHH` escapes: plain literals, so the primary key serves
 * `key >= '...'` and `key IN (...)` (a list of 5,000 keys is looked up about
 * 5 times faster than as unhex('...') calls, measured on 18.16).
 */
import { InvalidOptionError } from '../../errors.js'

/** A value as a ClickHouse SQL literal: strings quoted with backslash escapes, bytes as a string of `\xHH` escapes. */
export function sqlLiteral(value: string | number | null | Uint8Array): string {
  if (value === null) return 'NULL'
  if (value instanceof Uint8Array) return bytesLiteral(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidOptionError('literal', `${value} has no SQL literal`)
    // Integers print as integers (Int64/UInt64); anything else as a Float64.
    return Number.isInteger(value) ? value.toFixed(0) : `toFloat64(${value})`
  }
  return `'${value.replace(/[\\']/g, (c) => '\\' + c)}'`
}

/** Printable ASCII as it is (but quote and backslash), every other byte as \xHH. */
function bytesLiteral(bytes: Uint8Array): string {
  let text = "'"
  for (const byte of bytes) {
    text += byte >= 0x20 && byte < 0x7f && byte !== 0x27 && byte !== 0x5c ? String.fromCharCode(byte) : BYTE_ESCAPES[byte]!
  }
  return text + "'"
}

const BYTE_ESCAPES = Array.from({ length: 256 }, (_, byte) => '\\x' + byte.toString(16).padStart(2, '0'))

/** A database, table or cluster name this backend accepts: no quoting needed anywhere. */
export function checkIdentifier(option: string, name: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
    throw new InvalidOptionError(option, `must be a name of letters, digits and _ (not starting with a digit), got ${JSON.stringify(name)}`)
  }
  return name
}

export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Bytes back from `hex(...)` (upper or lower case). */
export function bytesOfHex(hex: string): Uint8Array {
  const buffer = Buffer.from(hex, 'hex')
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

const TAB = 0x09
const NEWLINE = 0x0a
const BACKSLASH = 0x5c

/**
 * Builds TabSeparated rows: each field with tab, newline and backslash
 * escaped, `\N` for NULL. Everything else, NUL and bytes >= 0x80 included,
 * goes in as it is. Text fields gather in one string until a bytes field
 * (or take()) turns them into UTF-8, so a row costs a few buffers, not one
 * per field.
 */
export class TsvRows {
  private readonly chunks: Buffer[] = []
  private size = 0
  private pending = ''
  private fieldsInRow = 0

  bytes(value: Uint8Array): this {
    this.separator()
    this.flushText()
    const buffer = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    let start = 0
    for (let i = 0; i < buffer.length; i++) {
      const byte = buffer[i]!
      if (byte !== TAB && byte !== NEWLINE && byte !== BACKSLASH) continue
      if (i > start) this.push(buffer.subarray(start, i))
      this.pending += byte === TAB ? '\\t' : byte === NEWLINE ? '\\n' : '\\\\'
      this.flushText()
      start = i + 1
    }
    if (start < buffer.length) this.push(start === 0 ? buffer : buffer.subarray(start))
    return this
  }

  text(value: string): this {
    this.separator()
    this.pending += TSV_SPECIAL.test(value) ? value.replace(TSV_SPECIAL_ALL, escapeTsvChar) : value
    return this
  }

  nullableText(value: string | null): this {
    return value === null ? this.null() : this.text(value)
  }

  integer(value: number): this {
    this.separator()
    this.pending += value.toFixed(0)
    return this
  }

  nullableInteger(value: number | null): this {
    return value === null ? this.null() : this.integer(value)
  }

  null(): this {
    this.separator()
    this.pending += '\\N'
    return this
  }

  endRow(): this {
    this.pending += '\n'
    this.fieldsInRow = 0
    return this
  }

  /** Bytes buffered so far (text not yet converted counted by its UTF-16 length, close enough for batching). */
  get length(): number {
    return this.size + this.pending.length
  }

  /** The rows so far as one buffer; the builder starts empty again. */
  take(): Buffer {
    this.flushText()
    const out = Buffer.concat(this.chunks, this.size)
    this.chunks.length = 0
    this.size = 0
    return out
  }

  private separator(): void {
    if (this.fieldsInRow++ > 0) this.pending += '\t'
  }

  private flushText(): void {
    if (this.pending === '') return
    this.push(Buffer.from(this.pending, 'utf8'))
    this.pending = ''
  }

  private push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.size += chunk.length
  }
}

const TSV_SPECIAL = /[\t\n\\]/
const TSV_SPECIAL_ALL = /[\t\n\\]/g
function escapeTsvChar(c: string): string {
  return c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\\\'
}
