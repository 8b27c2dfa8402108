/**
 * Opens a stored batch: gunzip with a cap on the output (a gzip bomb stops at
 * the cap with an error), then batch V1 decoding. A truncated gzip stream
 * still yields the events before the cut, then an error.
 */
import { gunzipSync, constants as zlibConstants } from 'node:zlib'
import { BatchDecodeError } from '../errors.js'
import { decodeBatchV1, type BatchDecodeOptions, type DecodedEvent } from '../formats/batch-v1/decode.js'

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
    let raw: Buffer
    try {
      raw = gunzipSync(body, { maxOutputLength: maxRawBytes, finishFlush: zlibConstants.Z_SYNC_FLUSH })
    } catch {
      raw = Buffer.alloc(0)
    }
    const reason = error.code === 'Z_BUF_ERROR' ? 'gzip stream is truncated' : `gzip stream is damaged (${error.message})`
    return { raw, damage: new BatchDecodeError(raw.byteLength, reason, { cause: err }) }
  }
}

/** Every event of a stored batch, in order; throws BatchDecodeError after the last good one. */
export function* readBatchBody(body: Uint8Array, options: BatchBodyOptions = {}): Generator<DecodedEvent> {
  const { raw, damage } = gunzipBatch(body, options)
  yield* decodeBatchV1(raw, options)
  if (damage) throw damage
}
