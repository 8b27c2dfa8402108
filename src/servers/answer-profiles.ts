/**
 * LoggingServer answers that analytics clients accept. The logger never
 * parses a body, but a Mixpanel client treats anything but `1` as a failure,
 * a Segment client wants JSON, and so on. A profile picks an answer from the
 * request line alone (path, and query where the format says so, like
 * Mixpanel's `verbose=1`); the built-in profiles are the success answers of
 * the client decoders, so the logger and the EventServer answer alike.
 */
import { CLIENT_FORMATS, withoutTrailingSlash } from '../decoders/client-formats.js'
import { InvalidOptionError } from '../errors.js'

export interface AnswerProfile {
  /** Names it in errors and docs, e.g. `mixpanel`. */
  name: string
  /** Paths it answers (without query; a trailing slash is ignored). */
  paths: readonly string[]
  /** HTTP status. Default: 200. */
  status?: number
  /** Content-Type of the answer. Default: `text/plain; charset=utf-8`. */
  contentType?: string
  /** The answer body, or a function of the request target (path and query) returning it. */
  body: string | ((target: URL) => string)
}

/** One built-in profile per client format, answering what its decoder answers on success. */
export const BUILT_IN_ANSWER_PROFILES: readonly AnswerProfile[] = CLIENT_FORMATS.map((format) => {
  const sample = format.success(new URL('http://x.invalid/'))
  return {
    name: format.name,
    paths: format.paths,
    status: sample.status,
    contentType: sample.contentType,
    body: (target: URL) => format.success(target).body,
  }
})

/** A ready answer: status, a flat header list for writeHead, body. */
export interface ProfiledAnswer {
  status: number
  headers: readonly string[]
  body: string
}

const BASE = 'http://answer.invalid'

export class AnswerProfiles {
  private readonly byPath = new Map<string, { profile: AnswerProfile; fixed: ProfiledAnswer | undefined; headers: readonly string[] }>()

  /** `profiles`: the profiles to use, in order (an earlier one wins a path). Default: BUILT_IN_ANSWER_PROFILES. */
  constructor(profiles: readonly AnswerProfile[] = BUILT_IN_ANSWER_PROFILES) {
    for (const profile of profiles) {
      const status = profile.status ?? 200
      if (!Number.isInteger(status) || status < 200 || status > 599) throw new InvalidOptionError(`answers.${profile.name}.status`, `must be an HTTP status, got ${String(profile.status)}`)
      const headers = ['content-type', profile.contentType ?? 'text/plain; charset=utf-8']
      // Answers that do not depend on the query are built once.
      const fixed = typeof profile.body === 'string' ? { status, headers, body: profile.body } : undefined
      for (const path of profile.paths) {
        if (!path.startsWith('/')) throw new InvalidOptionError(`answers.${profile.name}.paths`, `${JSON.stringify(path)} must start with /`)
        const key = withoutTrailingSlash(path)
        if (!this.byPath.has(key)) this.byPath.set(key, { profile, fixed, headers })
      }
    }
  }

  /** The answer for a request target, or undefined when no profile takes its path. */
  answerFor(target: string | undefined): ProfiledAnswer | undefined {
    if (!target || this.byPath.size === 0) return undefined
    const query = target.indexOf('?')
    const path = withoutTrailingSlash(query === -1 ? target : target.slice(0, query))
    const entry = this.byPath.get(path)
    if (!entry) return undefined
    if (entry.fixed) return entry.fixed
    let url: URL
    try {
      url = new URL(target, BASE)
    } catch {
      url = new URL(path, BASE)
    }
    return { status: entry.profile.status ?? 200, headers: entry.headers, body: (entry.profile.body as (target: URL) => string)(url) }
  }
}
