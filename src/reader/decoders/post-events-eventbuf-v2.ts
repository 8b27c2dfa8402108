/** The seed's own API: `POST /api/post-events?bucket=B` with an eventbuf-v2 body. */
import { decodeEventbufV2, EVENTBUF_V2_CONTENT_TYPE } from '../../formats/eventbuf-v2.js'
import type { RequestDecoder } from './request-decoder.js'
import { postEventsBucket, replayedEvents } from './post-events-bucket.js'

export const postEventsEventbufV2Decoder: RequestDecoder = {
  name: 'post-events/eventbuf-v2',
  path: '/api/post-events',
  contentTypes: [EVENTBUF_V2_CONTENT_TYPE],
  methods: ['POST'],
  decode(request, url) {
    const bucket = postEventsBucket(url)
    return replayedEvents(request, bucket, decodeEventbufV2(request.body))
  },
}
