/**
 * Where an S3 bucket is and the rules for its options, without the AWS SDK:
 * the LoggingServer checks an `s3` option at construction but loads the SDK
 * only when it first stores a batch (src/servers/logging-server.ts).
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3'
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

/** Checks the bucket and endpoint options (InvalidOptionError); returns the endpoint in use, if any. */
export function checkS3Location(location: S3Location, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!location.bucket) throw new InvalidOptionError('s3.bucket', 'a bucket name is required')
  const endpoint = resolveS3Endpoint(location, env)
  if (endpoint !== undefined) {
    try {
      new URL(endpoint)
    } catch {
      throw new InvalidOptionError('s3.endpoint', `${JSON.stringify(endpoint)} is not a URL`)
    }
  }
  return endpoint
}
