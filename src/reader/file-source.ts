/**
 * Batches named one by one: local files (`replay FILE...`). The key of a file
 * is its path as given, which parses as a batch key as long as the path ends
 * in `v1/YYYY-MM-DD/<name>` (as under any batch directory).
 */
import { readFile, stat } from 'node:fs/promises'
import { BatchReadError } from '../errors.js'
import { DEFAULT_MAX_STORED_BATCH_BYTES, type BatchSource } from './batch-source.js'

export class FileSource implements BatchSource {
  readonly description = 'files'
  readonly explicit = true
  private readonly files: readonly string[]
  private readonly maxBatchBytes: number

  constructor(files: readonly string[], options: { maxBatchBytes?: number } = {}) {
    this.files = files.map((file) => file.split('\\').join('/'))
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_STORED_BATCH_BYTES
  }

  async *listKeys(): AsyncGenerator<string> {
    yield* this.files
  }

  async read(key: string): Promise<Uint8Array> {
    try {
      const { size } = await stat(key)
      if (size > this.maxBatchBytes) throw new BatchReadError(key, `${size} bytes is over the ${this.maxBatchBytes}-byte limit`)
      return await readFile(key)
    } catch (err) {
      if (err instanceof BatchReadError) throw err
      throw new BatchReadError(key, (err as Error).message, { cause: err })
    }
  }
}
