/**
 * Where stored batches are read from. A source lists keys (strings only, so a
 * listing of any size stays small) and reads one batch body at a time. Keys
 * name batches the same way everywhere: the S3 key, or the path relative to
 * the batch directory.
 */
import { readFile, stat } from 'node:fs/promises'
import { BatchReadError } from '../errors.js'
import type { TimeRange } from './time-range.js'

export interface BatchSource {
  /** Where the batches come from, for messages: `s3://bucket/prefix`, a directory. */
  readonly description: string
  /** True when the source names its batches one by one (files, keys) instead of listing a whole store. */
  readonly explicit?: boolean
  /**
   * Every key that may name a batch within the range (unsorted). Keys that do
   * not parse as batch keys may be returned too; the reader reports them.
   */
  listKeys(range: TimeRange): AsyncIterable<string>
  /** The stored bytes of one batch. */
  read(key: string): Promise<Uint8Array>
  /** Releases connections. */
  close?(): Promise<void>
}

/** Largest stored (compressed) batch a source reads. Default: 512 MiB. */
export const DEFAULT_MAX_STORED_BATCH_BYTES = 512 * 1024 * 1024

/** Reads a local batch file named by `key`, refusing one over `maxBytes`; every failure is a BatchReadError. */
export async function readBatchFile(path: string, key: string, maxBytes: number): Promise<Uint8Array> {
  try {
    const info = await stat(path)
    const size = info.size
    // A FIFO or a device would block the read (or never end): only regular files are batches.
    if (!info.isFile()) throw new BatchReadError(key, 'not a regular file')
    if (size > maxBytes) throw new BatchReadError(key, `${size} bytes is over the ${maxBytes}-byte limit`)
    return await readFile(path)
  } catch (err) {
    if (err instanceof BatchReadError) throw err
    throw new BatchReadError(key, (err as Error).message, { cause: err })
  }
}
