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
)

const pad = (value: number, width = 2) => String(value).padStart(width, '0')

/** Normalises a user-given prefix: no leading/trailing slashes; rejects `..` and empty segments. */
export function normalizeKeyPrefix(prefix: string | undefined): string | undefined {
  if (prefix === undefined) return undefined
  const trimmed = prefix.replace(/^\/+|\/+$/g, '')
  if (trimmed === '') return undefined
  if (trimmed.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new InvalidOptionError('prefix', `${JSON.stringify(prefix)} has an empty, '.' or '..' segment`)
  }
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
