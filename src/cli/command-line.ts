/**
 * Table-driven command-line flags: every flag has a type, a default, an
 * environment variable and one line of help, so `--help` can never drift from
 * what is parsed. Precedence: flag, then environment variable, then default.
 */
import { parseArgs } from 'node:util'
import { CliUsageError } from '../errors.js'

export type FlagValue = string | number | boolean | undefined

export interface FlagSpec {
  /** Long name without dashes, e.g. `batch-seconds`. */
  name: string
  type: 'string' | 'integer' | 'number' | 'boolean'
  description: string
  default?: string | number | boolean
  /** Environment variable; defaults to LOGGING_SYSTEM_<COMMAND PREFIX><NAME> (upper snake case). Empty string: none. */
  env?: string
  short?: string
}

export interface CliIo {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  env: NodeJS.ProcessEnv
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT); tests trigger it by hand. */
  stopSignal: Promise<string>
}

export interface CliCommand {
  name: string
  summary: string
  /**
   * Inserted after LOGGING_SYSTEM_ in the command's default variable names, so
   * commands that share a flag name (`--port`) do not share its variable.
   * Default: none (the daemon, `serve`, owns the short names).
   */
  envPrefix?: string
  /** Shown after the command name in the usage line, e.g. `[FILES...]`. */
  positionals?: string
  flags: FlagSpec[]
  /** Returns the process exit code. */
  run(args: ParsedCommandLine, io: CliIo): Promise<number>
}

export interface ParsedCommandLine {
  values: Record<string, FlagValue>
  positionals: string[]
  /** Where each value that was given came from: `--name` or the environment variable's name. */
  sources?: Record<string, string>
}

/** The S3 flags, shared by every command that reads or writes a bucket. */
export const S3_FLAGS: FlagSpec[] = [
  { name: 's3-bucket', type: 'string', description: 'S3 bucket for batches (excludes --dir).' },
  { name: 's3-prefix', type: 'string', description: 'Key prefix in front of v1/.' },
  { name: 's3-endpoint', type: 'string', description: 'S3-compatible endpoint URL (path-style); also AWS_ENDPOINT_URL_S3.' },
  { name: 's3-region', type: 'string', description: 'AWS region; also AWS_REGION.' },
]

/** How a flag was given, for messages: `--dir`, or `--dir (from LOGGING_SYSTEM_DIR)`. */
export function describeSource(parsed: ParsedCommandLine, name: string): string {
  const source = parsed.sources?.[name]
  return source === undefined || source === `--${name}` ? `--${name}` : `--${name} (from ${source})`
}

/** The one check that two flags were not both given; the message names where each came from, then `why`. */
export function excludeEachOther(parsed: ParsedCommandLine, first: string, second: string, why?: string): void {
  if (parsed.values[first] !== undefined && parsed.values[second] !== undefined) {
    throw new CliUsageError(`${describeSource(parsed, first)} and ${describeSource(parsed, second)} exclude each other${why === undefined ? '' : `: ${why}`}`)
  }
}

/** The one positive-integer check of the command line. */
export function requirePositiveInteger(parsed: ParsedCommandLine, name: string): number {
  const value = parsed.values[name] as number
  if (!Number.isSafeInteger(value) || value < 1) throw new CliUsageError(`${describeSource(parsed, name)} must be a positive integer, got ${String(value)}`)
  return value
}

export function envNameOf(flag: FlagSpec, command: Pick<CliCommand, 'envPrefix'> = {}): string {
  if (flag.env !== undefined) return flag.env
  return 'LOGGING_SYSTEM_' + (command.envPrefix ?? '') + flag.name.toUpperCase().replace(/-/g, '_')
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on'])
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off', ''])

function convert(flag: FlagSpec, raw: string | boolean, source: string): FlagValue {
  switch (flag.type) {
    case 'boolean': {
      if (typeof raw === 'boolean') return raw
      const word = raw.trim().toLowerCase()
      if (TRUE_WORDS.has(word)) return true
      if (FALSE_WORDS.has(word)) return false
      throw new CliUsageError(`${source} must be true or false, got ${JSON.stringify(raw)}`)
    }
    case 'integer':
    case 'number': {
      const text = String(raw).trim()
      const value = Number(text)
      if (text === '' || !Number.isFinite(value) || (flag.type === 'integer' && !Number.isInteger(value))) {
        throw new CliUsageError(`${source} must be ${flag.type === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}`)
      }
      return value
    }
    case 'string':
      return String(raw)
  }
}

export function parseCommandLine(command: CliCommand, argv: string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {}
  for (const flag of command.flags) {
    options[flag.name] = { type: flag.type === 'boolean' ? 'boolean' : 'string', ...(flag.short ? { short: flag.short } : {}) }
  }
  let parsed
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (err) {
    throw new CliUsageError((err as Error).message)
  }
  if (!command.positionals && parsed.positionals.length > 0) {
    throw new CliUsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`)
  }
  const values: Record<string, FlagValue> = {}
  const sources: Record<string, string> = {}
  for (const flag of command.flags) {
    const fromArgv = (parsed.values as Record<string, string | boolean | undefined>)[flag.name]
    const envName = envNameOf(flag, command)
    const fromEnv = envName ? env[envName] : undefined
    if (fromArgv !== undefined) {
      values[flag.name] = convert(flag, fromArgv, `--${flag.name}`)
      sources[flag.name] = `--${flag.name}`
    } else if (fromEnv !== undefined) {
      values[flag.name] = convert(flag, fromEnv, envName)
      sources[flag.name] = envName
    } else values[flag.name] = flag.default
  }
  return { values, positionals: parsed.positionals, sources }
}

export function formatHelp(command: CliCommand): string {
  const lines = [`Usage: logging-system ${command.name} [options]${command.positionals ? ' ' + command.positionals : ''}`, '', command.summary, '', 'Options:']
  const rows = command.flags.map((flag) => {
    const left = `  --${flag.name}${flag.type === 'boolean' ? '' : ` <${flag.type === 'string' ? 'value' : flag.type}>`}`
    const env = envNameOf(flag, command)
    const extra = [flag.default !== undefined ? `default: ${String(flag.default)}` : '', env ? `env: ${env}` : ''].filter(Boolean).join('; ')
    return [left, `${flag.description}${extra ? ` (${extra})` : ''}`]
  })
  rows.push(['  --help', 'Show this help.'])
  const width = Math.max(...rows.map(([left]) => left!.length)) + 2
  for (const [left, right] of rows) lines.push(left!.padEnd(width) + right)
  return lines.join('\n') + '\n'
}
