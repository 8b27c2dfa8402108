/**
 * Stores batches in an S3 bucket (or any S3-compatible store) with PutObject.
 * Credentials and region come from the AWS SDK's standard chain unless given
 * (src/s3/s3-client.ts).
 */
import { HeadBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { SinkUnusableError, SinkWriteError } from '../errors.js'
import { createS3Client, describeS3Error, type S3Location } from '../s3/s3-client.js'
import type { Sink } from './sink.js'

export { createS3Client, resolveS3Endpoint, type S3Location } from '../s3/s3-client.js'

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
      throw new SinkWriteError(key, describeS3Error(err), { cause: err })
    }
  }

  /** HeadBucket: the bucket exists and these credentials reach it. */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }))
    } catch (err) {
      // HeadBucket answers carry no body, so the SDK's message is empty ("UnknownError"): say what the status means.
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
      const meaning = status === 404 ? 'no such bucket' : status === 403 ? 'access denied (check the credentials and the bucket policy)' : status === 301 ? 'the bucket is in another region (set --s3-region)' : undefined
      throw new SinkUnusableError(this.description, meaning ? `${meaning} (HTTP ${status})` : describeS3Error(err), { cause: err })
    }
  }

  async close(): Promise<void> {
    this.client.destroy()
  }
}
