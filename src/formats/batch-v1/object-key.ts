/**
 * Object keys of stored batches (formats/batch-v1.md, "Object keys"):
 *   [<prefix>/]v1/%Y-%m-%d/%H-%M-%S-%L-Z-<serverToken>-<randomToken>-<batchNumber>-v1.gz
 * in UTC, the time being the batch's start. One pure function writes them and
 * one parses them; both are tested against each other and against the grammar.
 */
import { InvalidOptionError } from '../../errors.js'

export const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
export const TOKEN_LENGTH = 8

export interface ObjectKeyParts {
  /** Optional folder in front of `v1/`, without leading or trailing slashes. */
  prefix?: string
  /** Batch start, ms since 1970. */
  startTime: number
  serverToken: string
  randomToken: string
  /** Counts saved batches of one server from 1. */
  batchNumber: number
  /** Whether the body is gzipped (`.gz` suffix). Default: true. */
  gzipped?: boolean
}

const TOKEN = `[${BASE58_ALPHABET}]{${TOKEN_LENGTH}}`
const KEY_PATTERN = new RegExp(
  `^(?:(.+)/)?v1/(\\d{4})-(\\d{2})-(\\d{2})/(\\d{2})-(\\d{2})-(\\d{2})-(\\d{3})-Z-(${TOKEN})-(${TOKEN})-([1-9]\\d*)-v1(\\.gz)?$`,
  // dotAll: a key written by an older version may hold a line break in its prefix.
  's',
)

const pad = (value: number, width = 2) => String(value).padStart(width, '0')

// C0 and C1 controls, DEL, and the line and paragraph separators U+2028/U+2029: a key with
// one is misread by line-based tools (the spool header, logs, many S3 consoles).
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/**
 * Why `path` (a key prefix, or a whole key) cannot be stored, or undefined when
 * it can. The one rule for the prefix option and every sink: no control
 * characters, and no empty, `.` or `..` segment (so a key stays a plain path
 * under a directory, and S3 and a directory hold the same names).
 */
export function keyPathProblem(path: string): string | undefined {
  if (CONTROL_CHARACTER.test(path)) return 'has a control character (line breaks, U+2028 and U+2029 included)'
  if (path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) return "has an empty, '.' or '..' segment"
  return undefined
}

/** Normalises a user-given prefix: no leading/trailing slashes; refuses what keyPathProblem refuses. */
export function normalizeKeyPrefix(prefix: string | undefined): string | undefined {
  if (prefix === undefined) return undefined
  const trimmed = prefix.replace(/^\/+|\/+$/g, '')
  if (trimmed === '') return undefined
  const problem = keyPathProblem(trimmed)
  if (problem) throw new InvalidOptionError('prefix', `${JSON.stringify(prefix)} ${problem}`)
  return trimmed
}

/** The day folder of a time, `[<prefix>/]v1/YYYY-MM-DD/`, for listing one day's batches. */
export function formatDayPrefix(time: number, prefix?: string): string {
  const date = new Date(time)
  const day = `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`
  const folder = normalizeKeyPrefix(prefix)
  return `${folder ? folder + '/' : ''}v1/${day}/`
}

export function formatObjectKey(parts: ObjectKeyParts): string {
  const date = new Date(parts.startTime)
  const time = `${pad(date.getUTCHours())}-${pad(date.getUTCMinutes())}-${pad(date.getUTCSeconds())}-${pad(date.getUTCMilliseconds(), 3)}`
  const suffix = parts.gzipped === false ? '' : '.gz'
  return `${formatDayPrefix(parts.startTime, parts.prefix)}${time}-Z-${parts.serverToken}-${parts.randomToken}-${parts.batchNumber}-v1${suffix}`
}

/** Parses a key written by formatObjectKey; undefined for anything else. */
export function parseObjectKey(key: string): Required<ObjectKeyParts> | undefined {
  const match = KEY_PATTERN.exec(key)
  if (!match) return undefined
  const [, prefix, year, month, day, hours, minutes, seconds, millis, serverToken, randomToken, batchNumber, gz] = match
  const startTime = Date.UTC(+year!, +month! - 1, +day!, +hours!, +minutes!, +seconds!, +millis!)
  if (Number.isNaN(startTime)) return undefined
  return {
    prefix: prefix ?? '',
    startTime,
    serverToken: serverToken!,
    randomToken: randomToken!,
    batchNumber: Number(batchNumber),
    gzipped: gz !== undefined,
  }
}
