/**
 * Batches in a directory, as the DirectorySink writes them:
 * `<dir>/[prefix/]v1/YYYY-MM-DD/<name>`. Keys are paths relative to the
 * directory with `/` separators. A time range walks only the day folders it
 * overlaps (under every prefix folder, or the one given); temp files (dot
 * files) are skipped, dot folders are not (a prefix may start with a dot).
 */
import { readdir, stat } from 'node:fs/promises'
import { BatchReadError } from '../errors.js'
import { join, resolve } from 'node:path'
import { DEFAULT_MAX_STORED_BATCH_BYTES, readBatchFile, type BatchSource } from './batch-source.js'
import { dayPrefixes, versionPrefix, type TimeRange } from './time-range.js'

export interface DirectorySourceOptions {
  /** Folder in front of `v1/` inside the directory. Default: none (every batch under the directory). */
  prefix?: string
  /** Largest file read. Default: DEFAULT_MAX_STORED_BATCH_BYTES. */
  maxBatchBytes?: number
}

const DAY_FOLDER = /^\d{4}-\d{2}-\d{2}$/

/** Files under `relative`, sorted; `days` (when given) prunes `v1/YYYY-MM-DD` folders outside it. */
async function* walk(root: string, relative: string, days: Set<string> | undefined): AsyncGenerator<string> {
  let entries
  try {
    entries = await readdir(join(root, relative), { withFileTypes: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const inVersionFolder = relative === 'v1' || relative.endsWith('/v1')
  for (const entry of entries) {
    const path = relative ? `${relative}/${entry.name}` : entry.name
    if (entry.isDirectory()) {
      if (days && inVersionFolder && DAY_FOLDER.test(entry.name) && !days.has(entry.name)) continue
      yield* walk(root, path, days)
    } else if (entry.isFile() && !entry.name.startsWith('.')) yield path
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
    // A directory that is not there is a mistake (a typo), not an empty store.
    const info = await stat(this.directory).catch(() => undefined)
    if (!info?.isDirectory()) throw new BatchReadError(this.directory, info ? 'not a directory' : 'no such directory')
    // Day folders of the range, wherever they sit (any prefix folder unless one is given).
    const days = dayPrefixes(range)?.map((prefix) => prefix.slice('v1/'.length, -1))
    yield* walk(this.directory, this.prefix !== undefined ? versionPrefix(this.prefix).replace(/\/$/, '') : '', days && new Set(days))
  }

  read(key: string): Promise<Uint8Array> {
    return readBatchFile(join(this.directory, ...key.split('/')), key, this.maxBatchBytes)
  }
}
