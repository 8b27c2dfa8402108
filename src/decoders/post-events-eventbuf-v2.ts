/** The seed's own API: `POST /api/post-events?bucket=B` with an eventbuf-v2 body. */
import { EVENTBUF_V2_CONTENT_TYPE } from '../formats/eventbuf-v2.js'
import type { RequestDecoder } from './request-decoder.js'
import { decodePostEvents, POST_EVENTS_EVENTBUF_V2_SOURCE, POST_EVENTS_PATH } from './post-events.js'

export const postEventsEventbufV2Decoder: RequestDecoder = {
  name: POST_EVENTS_EVENTBUF_V2_SOURCE,
  paths: [POST_EVENTS_PATH],
  contentTypes: [EVENTBUF_V2_CONTENT_TYPE],
  methods: ['POST'],
  decode: (request, url) => decodePostEvents(request, url),
}
