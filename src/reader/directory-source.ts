/**
 * Batches in a directory, as the DirectorySink writes them:
 * `<dir>/[prefix/]v1/YYYY-MM-DD/<name>`. Keys are paths relative to the
 * directory with `/` separators. A time range walks only the day folders it
 * overlaps; temp files (dot files) are skipped.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { BatchReadError } from '../errors.js'
import { DEFAULT_MAX_STORED_BATCH_BYTES, type BatchSource } from './batch-source.js'
import { dayPrefixes, versionPrefix, type TimeRange } from './time-range.js'

export interface DirectorySourceOptions {
  /** Folder in front of `v1/` inside the directory. Default: none (every batch under the directory). */
  prefix?: string
  /** Largest file read. Default: DEFAULT_MAX_STORED_BATCH_BYTES. */
  maxBatchBytes?: number
}

async function* walk(root: string, relative: string): AsyncGenerator<string> {
  let entries
  try {
    entries = await readdir(join(root, relative), { withFileTypes: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue
    const path = relative ? `${relative}/${entry.name}` : entry.name
    if (entry.isDirectory()) yield* walk(root, path)
    else if (entry.isFile()) yield path
  }
}

export class DirectorySource implements BatchSource {
  readonly description: string
  readonly directory: string
  private readonly prefix: string | undefined
  private readonly maxBatchBytes: number

  constructor(directory: string, options: DirectorySourceOptions = {}) {
    this.directory = resolve(directory)
    this.prefix = options.prefix
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_STORED_BATCH_BYTES
    this.description = this.directory
  }

  async *listKeys(range: TimeRange): AsyncGenerator<string> {
    const days = dayPrefixes(range, this.prefix)
    // Without a prefix or a range, every batch under the directory (any prefix folders).
    const folders = days ?? (this.prefix !== undefined ? [versionPrefix(this.prefix)] : [''])
    for (const folder of folders) yield* walk(this.directory, folder.replace(/\/$/, ''))
  }

  async read(key: string): Promise<Uint8Array> {
    const path = join(this.directory, ...key.split('/'))
    try {
      const { size } = await stat(path)
      if (size > this.maxBatchBytes) throw new BatchReadError(key, `${size} bytes is over the ${this.maxBatchBytes}-byte limit`)
      return await readFile(path)
    } catch (err) {
      if (err instanceof BatchReadError) throw err
      throw new BatchReadError(key, (err as Error).message, { cause: err })
    }
  }
}
