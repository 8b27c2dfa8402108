/**
 * Picks the decoder for a request: by path (without query), then method, then
 * media type; decoders that sniff the body (no contentTypes) are asked after
 * those that name the media type. The built-in decoders are listed here, one
 * line each.
 */
import { InvalidOptionError } from '../errors.js'
import type { EventRecord } from '../model/event-record.js'
import { postEventsEventbufV2Decoder } from './post-events-eventbuf-v2.js'
import { postEventsJsonDecoder } from './post-events-json.js'
import { mediaTypeOf, targetUrl } from './post-events.js'
import type { DecoderRequest, RequestDecoder } from './request-decoder.js'

export { mediaTypeOf }

/** The decoders shipped with the package. */
export const BUILT_IN_DECODERS: readonly RequestDecoder[] = [postEventsJsonDecoder, postEventsEventbufV2Decoder]

export class RequestDecoderRegistry {
  /** Per path: the decoders that read it, in registration order. */
  private readonly byPath = new Map<string, RequestDecoder[]>()

  constructor(decoders: readonly RequestDecoder[] = BUILT_IN_DECODERS) {
    for (const decoder of decoders) this.register(decoder)
  }

  /**
   * Adds a decoder. Two decoders that name the same path, an overlapping method
   * and the same media type, with no `accepts` to tell them apart, are an error.
   */
  register(decoder: RequestDecoder): this {
    if (decoder.paths.length === 0) throw new InvalidOptionError('decoder.paths', `${decoder.name} names no path`)
    for (const path of decoder.paths) {
      if (!path.startsWith('/')) throw new InvalidOptionError('decoder.paths', `${JSON.stringify(path)} must start with /`)
      const list = this.byPath.get(path) ?? []
      for (const taken of list) {
        if (decoder.accepts || taken.accepts) continue
        const methods = !decoder.methods || !taken.methods || decoder.methods.some((m) => taken.methods!.includes(m))
        const types = !decoder.contentTypes || !taken.contentTypes || decoder.contentTypes.some((c) => taken.contentTypes!.includes(mediaTypeOf(c)))
        if (methods && types) throw new InvalidOptionError('decoder', `${decoder.name} and ${taken.name} both read ${path} with the same method and media type`)
      }
      list.push(decoder)
      this.byPath.set(path, list)
    }
    return this
  }

  /** The decoder for a request and its parsed target, or undefined when none reads it. */
  find(request: DecoderRequest): { decoder: RequestDecoder; url: URL } | undefined {
    const url = targetUrl(request.path)
    if (!url) return undefined
    const candidates = this.byPath.get(url.pathname)
    if (!candidates) return undefined
    const method = request.method.toUpperCase()
    const mediaType = mediaTypeOf(request.contentType)
    const fits = (decoder: RequestDecoder): boolean => (!decoder.methods || method === '' || decoder.methods.includes(method)) && (!decoder.accepts || decoder.accepts(request, url))
    const named = candidates.find((d) => d.contentTypes?.some((c) => mediaTypeOf(c) === mediaType) && fits(d))
    const decoder = named ?? candidates.find((d) => !d.contentTypes && fits(d))
    return decoder ? { decoder, url } : undefined
  }

  /** The request's events; undefined when no decoder reads it. Throws when its decoder does. */
  decode(request: DecoderRequest): EventRecord[] | undefined {
    const found = this.find(request)
    return found?.decoder.decode(request, found.url)
  }
}
