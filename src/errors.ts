/**
 * Error classes with stable codes. A code never changes meaning once released;
 * every code is listed in README.md ("Error codes") and a test checks that.
 */

export type ErrorCode =
  | 'LS_INVALID_OPTION'
  | 'LS_BATCH_DECODE'
  | 'LS_SINK_WRITE'
  | 'LS_UNSENT_BATCHES'
  | 'LS_CLOSED'
  | 'LS_CLI_USAGE'
  | 'LS_SPOOL_UNAVAILABLE'

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
