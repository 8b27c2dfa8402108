/**
 * Where a day's files end up, replacing what an earlier run of that day left:
 *
 * - DirectoryTarget: the new files are written under `<root>/_export-tmp/`
 *   (same filesystem, outside `events/`), then the old day folder is renamed
 *   away and the new one renamed in. A reader sees the old day or the new
 *   one, never a mix; between the two renames (microseconds) the day folder
 *   is absent.
 * - S3Target: S3 has no rename. New parts are put first (each PUT replaces
 *   its object atomically), then parts the new run did not write are deleted.
 *   A reader listing mid-way can see new parts next to stale higher-numbered
 *   parts of the old run; with one part per bucket (up to rowsPerPart rows,
 *   the usual day) each bucket flips from old to new in one PUT.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { ExportFailedError } from '../errors.js'
import { createS3Client, type S3Location } from '../sinks/s3-sink.js'
import { dayFolder } from './export-layout.js'

export interface ExportTarget {
  /** For logs and checkpoint names: `dir:/abs/path` or `s3://bucket/prefix`. */
  readonly description: string
  /** A fresh local folder to write the day's files into (paths relative to the export root). */
  stage(day: string): Promise<string>
  /** Makes the staged files the day's export, replacing the old ones; `files` are relative paths. */
  commit(day: string, staging: string, files: readonly string[]): Promise<void>
  /** Removes a staging folder (after commit, or after a failure). */
  discard(staging: string): Promise<void>
  close?(): Promise<void>
}

const STAGING_FOLDER = '_export-tmp'
/** A staging folder this old is left over from a run that died. */
const STALE_STAGING_MS = 86_400_000

export class DirectoryTarget implements ExportTarget {
  readonly description: string
  readonly root: string

  constructor(root: string) {
    this.root = resolve(root)
    this.description = `dir:${this.root}`
  }

  async stage(day: string): Promise<string> {
    const parent = join(this.root, STAGING_FOLDER)
    await mkdir(parent, { recursive: true })
    // Left-overs of runs of this day that died mid-way; a folder younger than a
    // day may belong to a run still under way in another process.
    for (const name of await readdir(parent)) {
      if (!name.startsWith(`${day}-`)) continue
      const folder = join(parent, name)
      const age = Date.now() - (await stat(folder).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
      if (age > STALE_STAGING_MS) await rm(folder, { recursive: true, force: true })
    }
    return mkdtemp(join(parent, `${day}-`))
  }

  async commit(day: string, staging: string, files: readonly string[]): Promise<void> {
    const target = join(this.root, dayFolder(day))
    const fresh = join(staging, dayFolder(day))
    await mkdir(join(this.root, 'events'), { recursive: true })
    if (files.length === 0) await mkdir(fresh, { recursive: true })
    const old = join(staging, 'replaced')
    await rename(target, old).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
    await rename(fresh, target)
    if (files.length === 0) await rm(target, { recursive: true, force: true })
  }

  async discard(staging: string): Promise<void> {
    await rm(staging, { recursive: true, force: true })
  }
}

export interface S3TargetOptions extends S3Location {
  /** Key prefix before `events/`; a `/` is added when missing. Default: none. */
  prefix?: string
  /** Parts uploaded at once. Default: 4. */
  concurrency?: number
}

export const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  parquet: 'application/vnd.apache.parquet',
  gz: 'application/gzip',
})

export class S3Target implements ExportTarget {
  readonly description: string
  private readonly client: S3Client
  private readonly bucket: string
  private readonly prefix: string
  private readonly concurrency: number

  constructor(options: S3TargetOptions, client?: S3Client) {
    this.client = client ?? createS3Client(options)
    this.bucket = options.bucket
    this.prefix = options.prefix ? options.prefix.replace(/\/*$/, '/') : ''
    this.concurrency = options.concurrency ?? 4
    this.description = `s3://${this.bucket}/${this.prefix}`
  }

  async stage(): Promise<string> {
    return mkdtemp(join(tmpdir(), 'ls-export-'))
  }

  async commit(day: string, staging: string, files: readonly string[]): Promise<void> {
    const dayPrefix = `${this.prefix}${dayFolder(day)}/`
    const before = await this.list(dayPrefix)
    const queue = [...files]
    const upload = async () => {
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
        const body = await readFile(join(staging, file))
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.prefix + file,
            Body: body,
            ContentLength: body.byteLength,
            ContentType: file.endsWith('.parquet') ? CONTENT_TYPES.parquet : CONTENT_TYPES.gz,
          }),
        )
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.concurrency, Math.max(1, files.length)) }, upload))
    const written = new Set(files.map((file) => this.prefix + file))
    const stale = before.filter((key) => !written.has(key))
    for (let i = 0; i < stale.length; i += 1000) {
      const result = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: stale.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }),
      )
      if (result.Errors && result.Errors.length > 0) {
        throw new ExportFailedError(day, this.description, `could not delete stale parts: ${result.Errors.map((e) => `${e.Key}: ${e.Message}`).join('; ')}`)
      }
    }
  }

  private async list(prefix: string): Promise<string[]> {
    const keys: string[] = []
    let token: string | undefined
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }))
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key)
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return keys
  }

  async discard(staging: string): Promise<void> {
    await rm(staging, { recursive: true, force: true })
  }

  async close(): Promise<void> {
    this.client.destroy()
  }
}
