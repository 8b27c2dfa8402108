/**
 * Error classes with stable codes. A code never changes meaning once released;
 * every code is listed in README.md ("Error codes") and a test checks that.
 */

export type ErrorCode =
  | 'LS_INVALID_OPTION'
  | 'LS_BATCH_DECODE'
  | 'LS_SINK_WRITE'
  | 'LS_SINK_UNUSABLE'
  | 'LS_UNSENT_BATCHES'
  | 'LS_CLOSED'
  | 'LS_CLI_USAGE'
  | 'LS_SPOOL_UNAVAILABLE'
  | 'LS_EVENT_DECODE'
  | 'LS_EVENT_INVALID'
  | 'LS_BAD_REQUEST'
  | 'LS_SEND_FAILED'
  | 'LS_BATCH_READ'
  | 'LS_REPLAY_SEND'
  | 'LS_CLIENT_REQUEST'
  | 'LS_WRITE_KEY'
  | 'LS_KEY_INVALID'
  | 'LS_KEY_DECODE'
  | 'LS_EXPORT_FAILED'
  | 'LS_STORE_LOCKED'
  | 'LS_STORE_UNAVAILABLE'

export class LoggingSystemError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'LoggingSystemError'
    this.code = code
  }
}

/** A constructor or CLI option has a value it cannot take; the message says which values it can. */
export class InvalidOptionError extends LoggingSystemError {
  readonly option: string

  constructor(option: string, message: string) {
    super('LS_INVALID_OPTION', `invalid option ${option}: ${message}`)
    this.name = 'InvalidOptionError'
    this.option = option
  }
}

/** Bytes that are not a valid batch; `offset` is where in the (uncompressed) batch the damage starts. */
export class BatchDecodeError extends LoggingSystemError {
  readonly offset: number
  readonly reason: string

  constructor(offset: number, reason: string, options?: { cause?: unknown }) {
    super('LS_BATCH_DECODE', `bad batch at byte ${offset}: ${reason}`, options)
    this.name = 'BatchDecodeError'
    this.offset = offset
    this.reason = reason
  }
}

/**
 * The start-up check of a sink failed (a directory that cannot be written, a
 * bucket that is missing or unreachable, no region or credentials): the server
 * refuses to start rather than answer 200 to requests it cannot store.
 */
export class SinkUnusableError extends LoggingSystemError {
  readonly sink: string
  readonly reason: string

  constructor(sink: string, reason: string, options?: { cause?: unknown }) {
    super('LS_SINK_UNUSABLE', `${sink} cannot store batches: ${reason}`, options)
    this.name = 'SinkUnusableError'
    this.sink = sink
    this.reason = reason
  }
}

/** A sink could not store a batch; the uploader retries these. */
export class SinkWriteError extends LoggingSystemError {
  readonly key: string

  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super('LS_SINK_WRITE', `could not store ${key}: ${message}`, options)
    this.name = 'SinkWriteError'
    this.key = key
  }
}

/** Shutdown ran out of time with batches still unstored; `keys` names every one of them. */
export class UnsentBatchesError extends LoggingSystemError {
  readonly keys: string[]

  constructor(keys: string[], message: string) {
    super('LS_UNSENT_BATCHES', message)
    this.name = 'UnsentBatchesError'
    this.keys = keys
  }
}

/** A call on something already closed. */
export class ClosedError extends LoggingSystemError {
  constructor(what: string) {
    super('LS_CLOSED', `${what} is closed`)
    this.name = 'ClosedError'
  }
}

/** The command line was wrong; the CLI prints the message and exits 2. */
export class CliUsageError extends LoggingSystemError {
  constructor(message: string) {
    super('LS_CLI_USAGE', message)
    this.name = 'CliUsageError'
  }
}

/**
 * Bytes that are not valid eventbuf-v2: `offset` is where the first bad event
 * starts (its length prefix) in the whole stream, `index` its position (0-based).
 */
export class EventDecodeError extends LoggingSystemError {
  readonly offset: number
  readonly index: number
  readonly reason: string

  constructor(offset: number, index: number, reason: string, options?: { cause?: unknown }) {
    super('LS_EVENT_DECODE', `bad eventbuf-v2 event #${index} at byte ${offset}: ${reason}`, options)
    this.name = 'EventDecodeError'
    this.offset = offset
    this.index = index
    this.reason = reason
  }
}

/** An event that breaks a rule of the event format; `rule` is a stable name (see formats/json-events.md). */
export class EventValidationError extends LoggingSystemError {
  readonly index: number
  readonly rule: string
  readonly reason: string

  constructor(index: number, rule: string, reason: string) {
    super('LS_EVENT_INVALID', `invalid event #${index}: ${reason} (rule ${rule})`)
    this.name = 'EventValidationError'
    this.index = index
    this.rule = rule
    this.reason = reason
  }
}

/**
 * A request to the DevServer that it refuses before looking at any event: no
 * bucket, malformed JSON, wrong content type, too large. `statusCode` is the
 * HTTP status it answers with.
 */
export class BadRequestError extends LoggingSystemError {
  readonly statusCode: number
  readonly reason: string

  constructor(statusCode: number, reason: string) {
    super('LS_BAD_REQUEST', reason)
    this.name = 'BadRequestError'
    this.statusCode = statusCode
    this.reason = reason
  }
}

/**
 * The client gave up on a batch: a 4xx answer (not retried), or network errors
 * and 5xx answers until the retries ran out. `status` is the last HTTP status
 * (undefined after a network error), `body` the last answer's body text.
 */
export class SendFailedError extends LoggingSystemError {
  readonly status: number | undefined
  readonly attempts: number
  readonly body: string | undefined

  constructor(message: string, details: { status?: number; attempts: number; body?: string }, options?: { cause?: unknown }) {
    super('LS_SEND_FAILED', message, options)
    this.name = 'SendFailedError'
    this.status = details.status
    this.attempts = details.attempts
    this.body = details.body
  }
}

/** A stored batch could not be read (missing, unreachable, over the size limit); `key` names it. */
export class BatchReadError extends LoggingSystemError {
  readonly key: string

  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super('LS_BATCH_READ', `could not read ${key}: ${message}`, options)
    this.name = 'BatchReadError'
    this.key = key
  }
}

/**
 * A replayed request was not taken by the target: a 4xx answer (not retried),
 * or network errors and 5xx answers until the attempts ran out. `status` is
 * the last HTTP status (undefined after a network error).
 */
export class ReplaySendError extends LoggingSystemError {
  readonly request: string
  readonly status: number | undefined
  readonly attempts: number

  constructor(request: string, message: string, details: { status?: number; attempts: number }, options?: { cause?: unknown }) {
    super('LS_REPLAY_SEND', `could not replay ${request}: ${message}`, options)
    this.name = 'ReplaySendError'
    this.request = request
    this.status = details.status
    this.attempts = details.attempts
  }
}

/**
 * A request in an analytics client's wire format (Segment, PostHog, Mixpanel,
 * Grouparoo) that gives no events: malformed body, missing field, over a size
 * limit. `statusCode` is the HTTP status it is answered with; nothing of the
 * request is stored.
 */
export class ClientRequestError extends LoggingSystemError {
  readonly statusCode: number
  /** The decoder that refused it, e.g. `segment`. */
  readonly format: string

  constructor(format: string, statusCode: number, message: string, options?: { cause?: unknown }) {
    super('LS_CLIENT_REQUEST', message, options)
    this.name = 'ClientRequestError'
    this.format = format
    this.statusCode = statusCode
  }
}

/** A request without a write key, or with one that is unknown or revoked: answered 401, stored as a reject on the logged path. */
export class WriteKeyError extends LoggingSystemError {
  readonly statusCode = 401
  readonly reason: 'missing' | 'unknown' | 'revoked'

  constructor(reason: 'missing' | 'unknown' | 'revoked', message: string) {
    super('LS_WRITE_KEY', message)
    this.name = 'WriteKeyError'
    this.reason = reason
  }
}

/**
 * A key that breaks a key rule (formats/keyjson.md): wrong shape, non-integer or
 * unsafe number, U+0000 or a lone surrogate, too long, or (from text) not JSON.
 * `rule` is a stable name: key-shape, key-integer, key-string, key-size, key-json.
 */
export class InvalidKeyError extends LoggingSystemError {
  readonly rule: string
  readonly reason: string

  constructor(rule: string, reason: string) {
    super('LS_KEY_INVALID', `invalid key: ${reason} (rule ${rule})`)
    this.name = 'InvalidKeyError'
    this.rule = rule
    this.reason = reason
  }
}

/** Bytes (or keyjson-base64 text) that are not an encoded key; `offset` is where the damage starts. */
export class KeyDecodeError extends LoggingSystemError {
  readonly offset: number
  readonly reason: string

  constructor(offset: number, reason: string) {
    super('LS_KEY_DECODE', `bad keyjson key at byte ${offset}: ${reason}`)
    this.name = 'KeyDecodeError'
    this.offset = offset
    this.reason = reason
  }
}

/**
 * The event store's file is in use by another process (DuckDB allows one
 * writer process per file), or by another open store in this process.
 * `path` names the file.
 */
export class StoreLockedError extends LoggingSystemError {
  readonly path: string

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('LS_STORE_LOCKED', `event store ${path} is locked: ${message}`, options)
    this.name = 'StoreLockedError'
    this.path = path
  }
}

/**
 * The event store could not open or commit (disk full, unwritable, database
 * error): nothing of the write was stored. The EventServer answers 503 with
 * Retry-After.
 */
export class StoreUnavailableError extends LoggingSystemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LS_STORE_UNAVAILABLE', `event store unavailable: ${message}`, options)
    this.name = 'StoreUnavailableError'
  }
}

/**
 * A day's export could not be written or put in place (the target was
 * unreachable, stale parts could not be deleted, the file writer failed).
 * What the target held before is still there (directory), or the run can be
 * repeated to finish the swap (S3); `day` and `target` say which.
 */
export class ExportFailedError extends LoggingSystemError {
  readonly day: string
  readonly target: string

  constructor(day: string, target: string, message: string, options?: { cause?: unknown }) {
    super('LS_EXPORT_FAILED', `could not export ${day} to ${target}: ${message}`, options)
    this.name = 'ExportFailedError'
    this.day = day
    this.target = target
  }
}
