/**
 * Opens a stored batch: gunzip with a cap on the output (a gzip bomb stops at
 * the cap with an error), then batch V1 decoding. A body may be several gzip
 * members (formats/batch-v1.md §1); all are read, and the cap counts them all.
 * A truncated or damaged body still yields the events before the damage (every
 * whole member before it, and what inflates of the damaged one), then an error.
 * The reader uses the streamed form (readBatchBodyStream); the whole-buffer one
 * suits small bodies.
 */
import { createGunzip, gunzipSync, inflateRawSync, constants as zlibConstants } from 'node:zlib'
import { BatchDecodeError } from '../errors.js'
import { decodeBatchV1, DEFAULT_MAX_EVENT_BYTES, readLengthPrefix, type BatchDecodeOptions, type DecodedEvent } from '../formats/batch-v1/decode.js'

export const DEFAULT_MAX_BATCH_RAW_BYTES = 512 * 1024 * 1024

export interface BatchBodyOptions extends BatchDecodeOptions {
  /** Largest uncompressed batch accepted, in bytes. Default: 512 MiB. */
  maxRawBytes?: number
}

const isGzip = (body: Uint8Array) => body[0] === 0x1f && body[1] === 0x8b

/**
 * Gunzips a batch body; a body without the gzip magic bytes is taken as raw.
 * Returns the bytes and, for a damaged stream, the error to raise after them.
 */
export function gunzipBatch(body: Uint8Array, options: BatchBodyOptions = {}): { raw: Buffer; damage?: BatchDecodeError } {
  const maxRawBytes = options.maxRawBytes ?? DEFAULT_MAX_BATCH_RAW_BYTES
  if (!isGzip(body)) return { raw: Buffer.from(body.buffer, body.byteOffset, body.byteLength) }
  try {
    return { raw: gunzipSync(body, { maxOutputLength: maxRawBytes }) }
  } catch (err) {
    const error = err as NodeJS.ErrnoException
    if (error.code === 'ERR_BUFFER_TOO_LARGE') {
      throw new BatchDecodeError(maxRawBytes, `batch is larger than ${maxRawBytes} bytes uncompressed`, { cause: err })
    }
    // Salvage what inflates before the damage.
    const raw = Buffer.concat([...salvageMembers(body, maxRawBytes)])
    const reason = error.code === 'Z_BUF_ERROR' ? 'gzip stream is truncated' : `gzip stream is damaged (${error.message})`
    return { raw, damage: new BatchDecodeError(raw.byteLength, reason, { cause: err }) }
  }
}

/** An object with no bytes: a writer never stores an empty batch (formats/batch-v1.md §1). */
function emptyBatchError(): BatchDecodeError {
  return new BatchDecodeError(0, 'empty batch: a writer never stores one')
}

/** Every event of a stored batch, in order; throws BatchDecodeError after the last good one. */
export function* readBatchBody(body: Uint8Array, options: BatchBodyOptions = {}): Generator<DecodedEvent> {
  const { raw, damage } = gunzipBatch(body, options)
  if (raw.byteLength === 0 && !damage) throw emptyBatchError()
  yield* decodeBatchV1(raw, options)
  if (damage) throw damage
}

/**
 * readBatchBody as a stream: the body is inflated a chunk at a time and each
 * event is decoded as soon as its bytes are in, so memory holds one event and
 * one chunk, not the whole uncompressed batch; a bomb stops at `maxRawBytes`
 * after every event before it was handed out.
 */
export async function* readBatchBodyStream(body: Uint8Array, options: BatchBodyOptions = {}): AsyncGenerator<DecodedEvent> {
  if (!isGzip(body)) {
    yield* readBatchBody(body, options)
    return
  }
  const maxRawBytes = options.maxRawBytes ?? DEFAULT_MAX_BATCH_RAW_BYTES
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES
  const gunzip = createGunzip()
  gunzip.end(body)
  let chunks: Buffer[] = []
  let held = 0
  // Offset (in the uncompressed stream) of the first held byte, and the size of the frame it starts, once known.
  let base = 0
  let frameBytes: number | undefined
  let inflated = 0
  const frames = function* (atEnd: boolean): Generator<DecodedEvent> {
    for (;;) {
      if (held === 0) return
      if (frameBytes === undefined) {
        const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, held)
        chunks = [head]
        let length: number
        let prefixBytes: number
        try {
          ;[length, prefixBytes] = readLengthPrefix(head, 0)
        } catch (err) {
          // A prefix cut by the chunk boundary: wait for the next chunk.
          if (!atEnd && err instanceof BatchDecodeError && err.reason === 'truncated length prefix') return
          throw shifted(err, base)
        }
        if (length > maxEventBytes) throw new BatchDecodeError(base, `event of ${length} bytes is over the ${maxEventBytes}-byte limit`)
        frameBytes = prefixBytes + length
      }
      if (held < frameBytes) {
        if (atEnd) break
        return
      }
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, held)
      try {
        for (const decoded of decodeBatchV1(bytes.subarray(0, frameBytes), options)) yield { ...decoded, offset: decoded.offset + base }
      } catch (err) {
        throw shifted(err, base)
      }
      const rest = bytes.subarray(frameBytes)
      chunks = rest.byteLength > 0 ? [rest] : []
      held = rest.byteLength
      base += frameBytes
      frameBytes = undefined
    }
    // At the end with part of a frame: the general decoder words the error.
    const bytes = Buffer.concat(chunks, held)
    try {
      for (const _ of decodeBatchV1(bytes, options));
    } catch (err) {
      throw shifted(err, base)
    }
  }
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      inflated += chunk.byteLength
      if (inflated > maxRawBytes) {
        // Every whole event within the cap first, then the error.
        const within = chunk.subarray(0, chunk.byteLength - (inflated - maxRawBytes))
        if (within.byteLength > 0) {
          chunks.push(within)
          held += within.byteLength
          yield* frames(false)
        }
        throw new BatchDecodeError(maxRawBytes, `batch is larger than ${maxRawBytes} bytes uncompressed`)
      }
      chunks.push(chunk)
      held += chunk.byteLength
      yield* frames(false)
    }
  } catch (err) {
    if (err instanceof BatchDecodeError) throw err
    const error = err as NodeJS.ErrnoException
    // zlib drops the output of the write that failed: inflate again, member by member, for every
    // byte before the damage, and hand on those not handed on yet.
    let skip = inflated
    for (const raw of salvageMembers(body, maxRawBytes)) {
      const fresh = skip >= raw.byteLength ? undefined : raw.subarray(skip)
      skip = Math.max(0, skip - raw.byteLength)
      if (!fresh) continue
      chunks.push(fresh)
      held += fresh.byteLength
      inflated += fresh.byteLength
      yield* frames(false)
    }
    const reason = error.code === 'Z_BUF_ERROR' || /unexpected end/i.test(error.message) ? 'gzip stream is truncated' : `gzip stream is damaged (${error.message})`
    throw new BatchDecodeError(inflated, reason, { cause: err })
  } finally {
    gunzip.destroy()
  }
  if (inflated === 0) throw emptyBatchError()
  yield* frames(true)
}

/**
 * The raw bytes of a damaged gzip body, member by member: every member that gunzips whole, in
 * order, then what inflates of the first one that does not (a truncated member gives its bytes up
 * to the cut; a corrupt one usually nothing). Only for salvage: a sound body is inflated in one go.
 * A member is delimited by inflating the deflate data after its header (inflateRaw stops at the end
 * of the deflate stream and counts what it read), then checked by gunzip (CRC and length).
 * Throws the size-cap error once the members pass `maxRawBytes`.
 */
function* salvageMembers(body: Uint8Array, maxRawBytes: number): Generator<Buffer> {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  let start = 0
  let total = 0
  const capped = (err: unknown) =>
    (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
      ? new BatchDecodeError(maxRawBytes, `batch is larger than ${maxRawBytes} bytes uncompressed`, { cause: err })
      : undefined
  while (start < bytes.byteLength) {
    const end = memberEnd(bytes, start, maxRawBytes - total)
    if (end === undefined) break
    let raw: Buffer
    try {
      raw = gunzipSync(bytes.subarray(start, end), { maxOutputLength: Math.max(1, maxRawBytes - total) })
    } catch (err) {
      const cap = capped(err)
      if (cap) throw cap
      break
    }
    total += raw.byteLength
    yield raw
    start = end
  }
  if (start >= bytes.byteLength) return
  try {
    const partial = gunzipSync(bytes.subarray(start), { maxOutputLength: Math.max(1, maxRawBytes - total), finishFlush: zlibConstants.Z_SYNC_FLUSH })
    if (partial.byteLength > 0) yield partial
  } catch (err) {
    const cap = capped(err)
    if (cap) throw cap
  }
}

/** Where the gzip member starting at `start` ends (RFC 1952 §2.3), or undefined when it cannot be told. */
function memberEnd(bytes: Buffer, start: number, maxRawBytes: number): number | undefined {
  if (bytes.byteLength - start < 18 || bytes[start] !== 0x1f || bytes[start + 1] !== 0x8b || bytes[start + 2] !== 8) return undefined
  const flags = bytes[start + 3]!
  let at = start + 10
  if (flags & 0x04) at = at + 2 > bytes.byteLength ? Infinity : at + 2 + bytes.readUInt16LE(at) // FEXTRA
  for (const flag of [0x08, 0x10]) {
    // FNAME, FCOMMENT: zero-terminated
    if (flags & flag && at < bytes.byteLength) {
      const zero = bytes.indexOf(0, at)
      at = zero < 0 ? Infinity : zero + 1
    }
  }
  if (flags & 0x02) at += 2 // FHCRC
  if (at >= bytes.byteLength) return undefined
  try {
    const { engine } = inflateRawSync(bytes.subarray(at), { info: true, maxOutputLength: Math.max(1, maxRawBytes) }) as unknown as { engine: { bytesWritten: number } }
    const end = at + engine.bytesWritten + 8
    return end <= bytes.byteLength ? end : undefined
  } catch {
    // Damaged, or past the cap: gunzip of the rest tells which.
    return undefined
  }
}

/** The same error with its offset counted from the start of the batch. */
function shifted(err: unknown, base: number): unknown {
  if (!(err instanceof BatchDecodeError) || base === 0) return err
  return new BatchDecodeError(err.offset + base, err.reason, { cause: err.cause })
}
