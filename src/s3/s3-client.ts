/**
 * The S3 client configuration shared by the sink (writes batches) and the
 * reader's S3 source (reads them back): one place for the bucket, region,
 * endpoint and credentials rules. A custom endpoint (option, or
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) turns on path-style addressing,
 * which MinIO, Ceph and s3rver expect.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { InvalidOptionError } from '../errors.js'

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
  // An empty variable counts as unset.
  return location.endpoint ?? (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined)
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
  const region = location.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || (endpoint ? 'us-east-1' : undefined))
  return new S3Client({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: location.forcePathStyle ?? endpoint !== undefined,
    ...(location.credentials ? { credentials: location.credentials } : {}),
  })
}

/**
 * An SDK error as one line without repeating itself: `NoSuchBucket: The specified
 * bucket does not exist`, but `Region is missing` rather than `Error: Region is
 * missing` or `Region is missing: Region is missing`.
 */
export function describeS3Error(err: unknown): string {
  const error = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }
  const message = (error.message ?? String(err)).trim()
  const name = error.name ?? ''
  const status = error.$metadata?.httpStatusCode
  const plain = name === '' || name === 'Error' || message === name || message.startsWith(`${name}:`) || message === '' ? message || name : `${name}: ${message}`
  return status !== undefined && !plain.includes(String(status)) ? `${plain} (HTTP ${status})` : plain
}
