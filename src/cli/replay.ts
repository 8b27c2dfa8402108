/**
 * `logging-system replay`: maps its flags to a source and to runReplay's
 * options (src/replay/run-replay.ts).
 */
import { CliUsageError } from '../errors.js'
import type { BatchSource } from '../reader/batch-source.js'
import { DirectorySource } from '../reader/directory-source.js'
import { FileSource } from '../reader/file-source.js'
import { S3Source } from '../reader/s3-source.js'
import { DEFAULT_RANGE_MARGIN_MS, parseTime } from '../reader/time-range.js'
import { DEFAULT_REPLAY_CONCURRENCY, DEFAULT_REPLAY_MAX_ATTEMPTS } from '../replay/request-sender.js'
import { REPLAY_OUTPUTS, runReplay, type ReplayOutput } from '../replay/run-replay.js'
import { excludeEachOther, S3_FLAGS, type CliCommand, type CliIo, type ParsedCommandLine } from './command-line.js'

export { REPLAY_EXIT, describeProblem, summary } from '../replay/run-replay.js'

export const command: CliCommand = {
  name: 'replay',
  summary: 'Read stored batches back, rejoin requests, and write them (or their events) as NDJSON or re-send them.',
  positionals: '[FILES or KEYS...]',
  // Its own variables (LOGGING_SYSTEM_REPLAY_DIR, ..._REPLAY_S3_BUCKET): a bucket exported for `serve` must not redirect a replay.
  envPrefix: 'REPLAY_',
  flags: [
    { name: 'dir', type: 'string', description: 'Read the batches under this directory (excludes --s3-bucket).' },
    ...S3_FLAGS,
    { name: 'from', type: 'string', description: 'Only requests that ended at or after this time: ISO 8601 (with a zone) or unix seconds.' },
    { name: 'to', type: 'string', description: 'Only requests that ended at or before this time: ISO 8601 (with a zone) or unix seconds.' },
    { name: 'margin-seconds', type: 'number', default: DEFAULT_RANGE_MARGIN_MS / 1000, description: 'Batches are listed this long before --from and after --to: at least a batch plus the longest request.' },
    { name: 'output', type: 'string', description: 'NDJSON on stdout: requests, events or none (default: requests, or none with --post).' },
    { name: 'post', type: 'string', description: 'Re-send each complete request to this base URL (method, path and query, content type, body).' },
    { name: 'concurrency', type: 'integer', default: DEFAULT_REPLAY_CONCURRENCY, description: 'Requests in flight at once with --post.' },
    { name: 'max-attempts', type: 'integer', default: DEFAULT_REPLAY_MAX_ATTEMPTS, description: 'Attempts per request with --post (network errors and 5xx are retried).' },
    { name: 'path-prefix', type: 'string', description: 'Only requests whose path (with query) starts with this, e.g. /api/post-events.' },
  ],
  async run(parsed, io) {
    const { values } = parsed
    const output = (values['output'] ?? (values['post'] !== undefined ? 'none' : 'requests')) as ReplayOutput
    if (!REPLAY_OUTPUTS.includes(output)) throw new CliUsageError(`--output must be one of ${REPLAY_OUTPUTS.join(', ')}, got ${JSON.stringify(output)}`)
    const from = values['from'] !== undefined ? parseTime(String(values['from']), '--from') : undefined
    const to = values['to'] !== undefined ? parseTime(String(values['to']), '--to') : undefined
    return runReplay(
      {
        source: openSource(parsed, io.env),
        output,
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        marginMs: (values['margin-seconds'] as number) * 1000,
        ...(values['path-prefix'] !== undefined ? { pathPrefix: String(values['path-prefix']) } : {}),
        ...(values['post'] !== undefined
          ? { post: { target: String(values['post']), concurrency: values['concurrency'] as number, maxAttempts: values['max-attempts'] as number } }
          : {}),
      },
      io,
    )
  },
}

function openSource(parsed: ParsedCommandLine, env: NodeJS.ProcessEnv): BatchSource {
  const { values, positionals } = parsed
  const dir = values['dir'] as string | undefined
  const bucket = values['s3-bucket'] as string | undefined
  excludeEachOther(parsed, 'dir', 's3-bucket')
  if (bucket !== undefined) {
    return new S3Source({
      bucket,
      prefix: values['s3-prefix'] as string | undefined,
      ...(values['s3-endpoint'] !== undefined ? { endpoint: String(values['s3-endpoint']) } : {}),
      ...(values['s3-region'] !== undefined ? { region: String(values['s3-region']) } : {}),
      ...(positionals.length > 0 ? { keys: positionals } : {}),
    }, undefined, env)
  }
  if (dir !== undefined) {
    if (positionals.length > 0) throw new CliUsageError('give either --dir or FILES, not both')
    return new DirectorySource(dir, { prefix: values['s3-prefix'] as string | undefined })
  }
  if (positionals.length > 0) return new FileSource(positionals)
  throw new CliUsageError('nothing to read: give --dir DIR, --s3-bucket BUCKET or batch FILES')
}

export type { CliIo }
