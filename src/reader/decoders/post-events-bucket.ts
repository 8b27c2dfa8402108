/** What the two post-events decoders share: the bucket check and the shape of a replayed event. */
import { requiredBucket } from '../../formats/bucket.js'
import type { LogEvent } from '../../formats/json-events.js'
import type { LoggedRequest } from '../request-assembler.js'
import type { ReplayedEvent } from './request-decoder.js'

/** The bucket of a logged `/api/post-events?bucket=B` request; checked before its body is decoded: no bucket, no work. */
export function postEventsBucket(url: URL): string {
  return requiredBucket(url.searchParams.getAll('bucket'))
}

/** The events of one logged post-events request, stamped with where and when they arrived. */
export function replayedEvents(request: LoggedRequest, bucket: string, events: readonly LogEvent[]): ReplayedEvent[] {
  return events.map((event) => ({
    bucket,
    key: event.key,
    type: event.type,
    value: event.value,
    clientTime: event.clientTime,
    serverTime: request.time,
    serverToken: request.serverToken,
    reqId: request.reqId,
  }))
}
