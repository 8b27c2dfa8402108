/**
 * Picks the decoder for a logged request by path (without query) and media
 * type. The built-in decoders are listed here, one line each.
 */
import { InvalidOptionError } from '../../errors.js'
import type { LoggedRequest } from '../request-assembler.js'
import { postEventsEventbufV2Decoder } from './post-events-eventbuf-v2.js'
import { postEventsJsonDecoder } from './post-events-json.js'
import type { ReplayedEvent, RequestDecoder } from './request-decoder.js'

/** The decoders shipped with the package. */
export const BUILT_IN_DECODERS: readonly RequestDecoder[] = [postEventsJsonDecoder, postEventsEventbufV2Decoder]

/** `text/plain; charset=utf-8` → `text/plain`. */
export function mediaTypeOf(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase()
}

// Any origin: only the path and query of the logged target are used.
const BASE = 'http://replay.invalid'

export class RequestDecoderRegistry {
  private readonly byRoute = new Map<string, RequestDecoder>()

  constructor(decoders: readonly RequestDecoder[] = BUILT_IN_DECODERS) {
    for (const decoder of decoders) this.register(decoder)
  }

  /** Adds a decoder; a path and media type already taken is an error. */
  register(decoder: RequestDecoder): this {
    if (!decoder.path.startsWith('/')) throw new InvalidOptionError('decoder.path', `${JSON.stringify(decoder.path)} must start with /`)
    for (const contentType of decoder.contentTypes) {
      const route = `${decoder.path} ${mediaTypeOf(contentType)}`
      const taken = this.byRoute.get(route)
      if (taken) throw new InvalidOptionError('decoder', `${decoder.name} and ${taken.name} both read ${route}`)
      this.byRoute.set(route, decoder)
    }
    return this
  }

  /** The decoder for a request and its parsed target, or undefined when none reads it. */
  find(request: LoggedRequest): { decoder: RequestDecoder; url: URL } | undefined {
    let url: URL
    try {
      url = new URL(request.path, BASE)
    } catch {
      return undefined
    }
    const decoder = this.byRoute.get(`${url.pathname} ${mediaTypeOf(request.contentType)}`)
    if (!decoder) return undefined
    if (decoder.methods && request.method !== '' && !decoder.methods.includes(request.method.toUpperCase())) return undefined
    return { decoder, url }
  }

  /** The request's events; undefined when no decoder reads it. Throws when its decoder does. */
  decode(request: LoggedRequest): ReplayedEvent[] | undefined {
    const found = this.find(request)
    return found?.decoder.decode(request, found.url)
  }
}
