/**
 * Batches in an S3 bucket (or an S3-compatible store), with the same endpoint,
 * region and credential options as the S3 sink. Lists with ListObjectsV2 page
 * by page; a time range lists only the day prefixes it overlaps. Explicit
 * keys skip the listing.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { BatchReadError } from '../errors.js'
import { normalizeKeyPrefix } from '../formats/batch-v1/object-key.js'
import { createS3Client, type S3Location } from '../s3/s3-client.js'
import { DEFAULT_MAX_STORED_BATCH_BYTES, type BatchSource } from './batch-source.js'
import { dayPrefixes, versionPrefix, type TimeRange } from './time-range.js'

export interface S3SourceOptions extends S3Location {
  /** Folder in front of `v1/`. Default: none. */
  prefix?: string
  /** Read exactly these keys instead of listing the bucket. */
  keys?: readonly string[]
  /** Largest object read. Default: DEFAULT_MAX_STORED_BATCH_BYTES. */
  maxBatchBytes?: number
  /** Keys per ListObjectsV2 page. Default: 1000 (the S3 maximum). */
  pageSize?: number
}

export class S3Source implements BatchSource {
  readonly description: string
  readonly explicit: boolean
  readonly client: S3Client
  private readonly bucket: string
  private readonly prefix: string | undefined
  private readonly keys: readonly string[] | undefined
  private readonly maxBatchBytes: number
  private readonly ownsClient: boolean
  private readonly pageSize: number | undefined

  constructor(options: S3SourceOptions, client?: S3Client, env: NodeJS.ProcessEnv = process.env) {
    this.client = client ?? createS3Client(options, env)
    this.ownsClient = client === undefined
    this.bucket = options.bucket
    this.prefix = normalizeKeyPrefix(options.prefix)
    this.keys = options.keys
    this.explicit = options.keys !== undefined
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_STORED_BATCH_BYTES
    this.pageSize = options.pageSize
    this.description = `s3://${options.bucket}/${this.prefix ? this.prefix + '/' : ''}`
  }

  async *listKeys(range: TimeRange): AsyncGenerator<string> {
    if (this.keys) {
      yield* this.keys
      return
    }
    for (const prefix of dayPrefixes(range, this.prefix) ?? [versionPrefix(this.prefix)]) {
      let token: string | undefined
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: this.pageSize }))
        for (const object of page.Contents ?? []) if (object.Key !== undefined) yield object.Key
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
    }
  }

  async read(key: string): Promise<Uint8Array> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))
      if (object.ContentLength !== undefined && object.ContentLength > this.maxBatchBytes) {
        await object.Body?.transformToWebStream().cancel()
        throw new BatchReadError(key, `${object.ContentLength} bytes is over the ${this.maxBatchBytes}-byte limit`)
      }
      return await object.Body!.transformToByteArray()
    } catch (err) {
      if (err instanceof BatchReadError) throw err
      throw new BatchReadError(key, `${(err as Error).name}: ${(err as Error).message}`, { cause: err })
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy()
  }
}
