/** The `bucket` query parameter of `/api/post-events`, checked as the DevServer checks it. */
import { BadRequestError } from '../../errors.js'

export const MAX_BUCKET_LENGTH = 256

export function postEventsBucket(url: URL): string {
  const buckets = url.searchParams.getAll('bucket')
  if (buckets.length === 0 || buckets[0] === '') throw new BadRequestError(400, 'missing bucket: no ?bucket=TOKEN in the URL')
  if (buckets.length > 1) throw new BadRequestError(400, 'bucket must appear once in the query string')
  if (buckets[0]!.length > MAX_BUCKET_LENGTH) throw new BadRequestError(400, `bucket is longer than ${MAX_BUCKET_LENGTH} characters`)
  return buckets[0]!
}
