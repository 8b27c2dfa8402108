/**
 * The S3 client configuration shared by the sink (writes batches) and the
 * reader's S3 source (reads them back): one place for the bucket, region,
 * endpoint and credentials rules. A custom endpoint (option, or
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) turns on path-style addressing,
 * which MinIO, Ceph and s3rver expect.
 */
import { S3Client } from '@aws-sdk/client-s3'
import { checkS3Location, type S3Location } from './s3-location.js'

export { checkS3Location, resolveS3Endpoint, type S3Location } from './s3-location.js'

/** One S3 client configuration, shared by the sink and the readers. */
export function createS3Client(location: S3Location, env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = checkS3Location(location, env)
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
