/** The seed's own API: `POST /api/post-events?bucket=B` with a JSON body (one event or `{"events": [...]}`). */
import type { RequestDecoder } from './request-decoder.js'
import { decodePostEvents, POST_EVENTS_JSON_SOURCE, POST_EVENTS_PATH } from './post-events.js'

export const postEventsJsonDecoder: RequestDecoder = {
  name: POST_EVENTS_JSON_SOURCE,
  paths: [POST_EVENTS_PATH],
  contentTypes: ['application/json'],
  methods: ['POST'],
  decode: (request, url) => decodePostEvents(request, url),
}
