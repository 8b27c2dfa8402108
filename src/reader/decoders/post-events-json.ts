/** The seed's own API: `POST /api/post-events?bucket=B` with a JSON body (one event or `{"events": [...]}`). */
import { BadRequestError } from '../../errors.js'
import { eventsFromJsonBody } from '../../formats/json-events.js'
import type { RequestDecoder } from './request-decoder.js'
import { postEventsBucket, replayedEvents } from './post-events-bucket.js'

export const postEventsJsonDecoder: RequestDecoder = {
  name: 'post-events/json',
  path: '/api/post-events',
  contentTypes: ['application/json'],
  methods: ['POST'],
  decode(request, url) {
    const bucket = postEventsBucket(url)
    let parsed: unknown
    try {
      parsed = JSON.parse(request.body.toString('utf8'))
    } catch (err) {
      throw new BadRequestError(400, `malformed JSON: ${(err as Error).message}`)
    }
    return replayedEvents(request, bucket, eventsFromJsonBody(parsed))
  },
}
