/**
 * Stores batches in an S3 bucket (or any S3-compatible store) with PutObject.
 * Credentials and region come from the AWS SDK's standard chain unless given.
 * A custom endpoint (option, or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) turns
 * on path-style addressing, which MinIO, Ceph and s3rver expect.
 */
import { PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { InvalidOptionError, SinkWriteError } from '../errors.js'
import type { Sink } from './sink.js'

export interface S3Location {
  /** Bucket name. Required. */
  bucket: string
  /** AWS region. Default: the SDK's chain (AWS_REGION, config files); `us-east-1` with a custom endpoint. */
  region?: string
  /** Custom endpoint URL for S3-compatible stores. Default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS. */
  endpoint?: string
  /** Path-style URLs (`endpoint/bucket/key`). Default: true with a custom endpoint, false otherwise. */
  forcePathStyle?: boolean
  /** Static credentials. Default: the SDK's credential chain. */
  credentials?: S3ClientConfig['credentials']
}

export function resolveS3Endpoint(location: S3Location, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return location.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? undefined
}

/** One S3 client configuration, shared by the sink and the readers. */
export function createS3Client(location: S3Location, env: NodeJS.ProcessEnv = process.env): S3Client {
  if (!location.bucket) throw new InvalidOptionError('s3.bucket', 'a bucket name is required')
  const endpoint = resolveS3Endpoint(location, env)
  if (endpoint !== undefined) {
    try {
      new URL(endpoint)
    } catch {
      throw new InvalidOptionError('s3.endpoint', `${JSON.stringify(endpoint)} is not a URL`)
    }
  }
  const region = location.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (endpoint ? 'us-east-1' : undefined)
  return new S3Client({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: location.forcePathStyle ?? endpoint !== undefined,
    ...(location.credentials ? { credentials: location.credentials } : {}),
  })
}

export class S3Sink implements Sink {
  readonly description: string
  readonly client: S3Client
  private readonly bucket: string

  constructor(location: S3Location, client?: S3Client) {
    this.client = client ?? createS3Client(location)
    this.bucket = location.bucket
    this.description = `s3://${location.bucket}`
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/gzip', ContentLength: body.byteLength }),
      )
    } catch (err) {
      throw new SinkWriteError(key, `${(err as Error).name}: ${(err as Error).message}`, { cause: err })
    }
  }

  async close(): Promise<void> {
    this.client.destroy()
  }
}
