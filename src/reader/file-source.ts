/**
 * Batches named one by one: local files (`replay FILE...`). The key of a file
 * is its path as given, which parses as a batch key as long as the path ends
 * in `v1/YYYY-MM-DD/<name>` (as under any batch directory).
 */
import { DEFAULT_MAX_STORED_BATCH_BYTES, readBatchFile, type BatchSource } from './batch-source.js'

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

  read(key: string): Promise<Uint8Array> {
    return readBatchFile(key, key, this.maxBatchBytes)
  }
}
