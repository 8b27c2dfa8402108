/**
 * Stores each batch as a file at exactly its key's path under a directory.
 * Writes are atomic (temp file, fsync, rename, fsync of the folder), so a
 * reader never sees half a file. Temp files start with a dot and end in
 * `.tmp`; readers skip them.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import { SinkUnusableError, SinkWriteError } from '../errors.js'
import { keyPathProblem } from '../formats/batch-v1/object-key.js'
import type { Sink } from './sink.js'

export const DEFAULT_BATCH_DIRECTORY = './batches'

export class DirectorySink implements Sink {
  readonly directory: string
  readonly description: string

  constructor(directory: string = DEFAULT_BATCH_DIRECTORY) {
    this.directory = resolve(directory)
    this.description = `dir:${directory}`
  }

  /** The file a key is stored at. Throws for a key no sink may store (formats/batch-v1.md §1.1). */
  pathOf(key: string): string {
    const problem = keyPathProblem(key)
    if (problem) throw new SinkWriteError(key, `key ${problem}`)
    return join(this.directory, ...key.split('/'))
  }

  /** Keys of the finished files under the directory (temp files skipped), sorted. */
  async keys(): Promise<string[]> {
    const entries = await readdir(this.directory, { recursive: true, withFileTypes: true }).catch(() => [])
    return entries
      .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
      .map((entry) => relative(this.directory, join(entry.parentPath, entry.name)).split(sep).join('/'))
      .sort()
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key))
  }

  async delete(key: string): Promise<void> {
    await unlink(this.pathOf(key))
  }

  /** Start-up check: creates the directory and writes, syncs and deletes a probe file in it. */
  async check(): Promise<void> {
    const probe = join(this.directory, `.probe-${randomBytes(4).toString('hex')}.tmp`)
    try {
      await mkdir(this.directory, { recursive: true })
      const file = await open(probe, 'wx')
      try {
        await file.writeFile('probe')
        await file.sync()
      } finally {
        await file.close()
      }
      await unlink(probe)
    } catch (err) {
      await unlink(probe).catch(() => {})
      throw new SinkUnusableError(this.description, probeFailure(err as NodeJS.ErrnoException), { cause: err })
    }
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = this.pathOf(key)
    const folder = dirname(path)
    const temp = join(folder, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`)
    try {
      await mkdir(folder, { recursive: true })
      const file = await open(temp, 'wx')
      try {
        await file.writeFile(body)
        await file.sync()
      } finally {
        await file.close()
      }
      await rename(temp, path)
      await syncDirectory(folder)
    } catch (err) {
      await unlink(temp).catch(() => {})
      throw new SinkWriteError(key, (err as Error).message, { cause: err })
    }
  }
}

/** Why the probe failed, in words a person acts on. */
function probeFailure(err: NodeJS.ErrnoException): string {
  if (err.code === 'EACCES' || err.code === 'EPERM') return `permission denied (${err.path ?? ''})`
  if (err.code === 'EROFS') return 'the file system is read-only'
  if (err.code === 'ENOTDIR' || err.code === 'EEXIST') return `a file is in the way (${err.path ?? ''})`
  if (err.code === 'ENOSPC') return 'no space left on the device'
  return err.message
}

/** Makes a rename durable. Some file systems refuse to fsync a directory; that is not an error. */
async function syncDirectory(folder: string): Promise<void> {
  const handle = await open(folder, 'r')
  try {
    await handle.sync()
  } catch {
    // EINVAL/EISDIR on file systems without directory fsync.
  } finally {
    await handle.close()
  }
}
