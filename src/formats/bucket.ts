/**
 * The `bucket` query parameter of `/api/post-events` and `/events.json`
 * (seed 004, "APIs"): one non-empty token of at most 256 characters. The
 * DevServer and the replay decoders check it with this one function.
 */
import { BadRequestError } from '../errors.js'

/** Longest bucket token, in characters. */
export const MAX_BUCKET_LENGTH = 256

/**
 * The bucket from the parameter's values (none, one, or repeated): undefined
 * when absent or empty; throws BadRequestError (400) when repeated or too long.
 */
export function bucketFromQuery(values: readonly string[]): string | undefined {
  if (values.length > 1) throw new BadRequestError(400, 'bucket must appear once in the query string')
  const bucket = values[0]
  if (bucket === undefined || bucket === '') return undefined
  if (bucket.length > MAX_BUCKET_LENGTH) throw new BadRequestError(400, `bucket is longer than ${MAX_BUCKET_LENGTH} characters`)
  return bucket
}

/** As bucketFromQuery, but a missing bucket is a 400 too. */
export function requiredBucket(values: readonly string[]): string {
  const bucket = bucketFromQuery(values)
  if (bucket === undefined) throw new BadRequestError(400, 'missing bucket: add ?bucket=TOKEN to the URL')
  return bucket
}
