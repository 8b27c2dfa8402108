/** `logging-system serve`: maps the daemon's flags to runLoggingService (src/ops/logging-service.ts). */
import { DEFAULT_BATCH_SECONDS, DEFAULT_GZIP_LEVEL } from '../batch/batch-writer.js'
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_RECORDED_HEADERS } from '../capture/request-capture.js'
import type { IpMode } from '../capture/client-address.js'
import { CliUsageError } from '../errors.js'
import { BODY_ENCODINGS, DEFAULT_BODY_ENCODING, type BodyEncoding } from '../formats/batch-v1/encode.js'
import { runLoggingService } from '../ops/logging-service.js'
import { ACK_MODES, DEFAULT_ACK_MODE, DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_MAX_BACKLOG_BYTES, DEFAULT_UNSENT_DIRECTORY, type AckMode } from '../servers/logging-server.js'
import { DEFAULT_SPOOL_DIRECTORY } from '../spool/spool.js'
import { DEFAULT_BATCH_DIRECTORY } from '../sinks/directory-sink.js'
import { availableParallelism } from 'node:os'
import { describeSource, excludeEachOther, S3_FLAGS, type CliCommand, type ParsedCommandLine } from './command-line.js'

export { SERVE_EXIT } from '../ops/logging-service.js'

/** `--workers`: a positive integer, or `auto` for one per core. */
function workerCount(parsed: ParsedCommandLine): number {
  const given = String(parsed.values['workers']).trim()
  if (given === 'auto') return availableParallelism()
  if (!/^[0-9]+$/.test(given) || Number(given) < 1) throw new CliUsageError(`${describeSource(parsed, 'workers')} must be a positive integer or auto, got ${given}`)
  return Number(given)
}

export const command: CliCommand = {
  name: 'serve',
  summary: 'Log every incoming HTTP request, unparsed, as gzipped batches in a directory or S3.',
  flags: [
    { name: 'port', type: 'integer', default: 8080, description: 'Port to listen on.' },
    { name: 'host', type: 'string', default: '0.0.0.0', description: 'Address to listen on.' },
    { name: 'dir', type: 'string', description: `Directory for batches (default ${DEFAULT_BATCH_DIRECTORY} when no --s3-bucket).` },
    ...S3_FLAGS,
    { name: 'ack', type: 'string', default: DEFAULT_ACK_MODE, description: `When to answer: ${ACK_MODES.join(', ')} (see docs/serve.md, "Acknowledgement").` },
    { name: 'spool-dir', type: 'string', default: DEFAULT_SPOOL_DIRECTORY, description: 'Spool for --ack spool; left-over segments are delivered at start.' },
    { name: 'max-backlog-bytes', type: 'integer', default: DEFAULT_MAX_BACKLOG_BYTES, description: 'Past this many bytes waiting for the sink, new requests get 503.' },
    { name: 'workers', type: 'string', default: 'auto', description: 'Processes sharing the port (node:cluster): `auto` is one per core (os.availableParallelism()), 1 is a single process; each worker has its own serverToken, spool and batches.' },
    { name: 'admin-port', type: 'integer', description: 'Port for /healthz, /readyz and /metrics (off when unset).' },
    { name: 'admin-host', type: 'string', default: '127.0.0.1', description: 'Address for the admin port.' },
    { name: 'batch-seconds', type: 'number', default: DEFAULT_BATCH_SECONDS, description: 'Seal a batch this many seconds after its first event.' },
    { name: 'max-body-bytes', type: 'integer', default: DEFAULT_MAX_BODY_BYTES, description: 'Larger request bodies get 413.' },
    { name: 'trust-proxy', type: 'boolean', default: false, description: 'Take the client IP from X-Forwarded-For (left-most entry).' },
    { name: 'ip-mode', type: 'string', default: 'full', description: 'Remote IPs: full, truncate (/24, /48) or drop.' },
    { name: 'headers', type: 'string', default: DEFAULT_RECORDED_HEADERS.join(','), description: 'Request headers logged with each request (comma-separated).' },
    { name: 'answers', type: 'string', default: 'clients', description: 'clients: answer analytics clients by path (Mixpanel 1, Segment {"success":true}, PostHog {"status":"Ok"}); ok: OK everywhere (docs/answer-profiles.md).' },
    { name: 'body-encoding', type: 'string', default: DEFAULT_BODY_ENCODING, description: `Request bodies in batches: ${BODY_ENCODINGS.join(' (the seed\'s format) or ')} (msgpack bin: less CPU and fewer bytes; every reader accepts it).` },
    { name: 'gzip-level', type: 'integer', default: DEFAULT_GZIP_LEVEL, description: 'gzip level, 1 (fast) to 9 (small).' },
    { name: 'close-timeout-ms', type: 'integer', default: DEFAULT_CLOSE_TIMEOUT_MS, description: 'On SIGTERM, time for in-flight requests and the last upload.' },
    { name: 'unsent-dir', type: 'string', default: DEFAULT_UNSENT_DIRECTORY, description: 'Where batches go that the sink did not take by the close deadline.' },
    { name: 'log-level', type: 'string', default: 'info', description: 'pino log level (fatal, error, warn, info, debug, silent).' },
    { name: 'skip-sink-check', type: 'boolean', default: false, description: 'Start even if the sink fails its start-up check (a write-and-delete probe, HeadBucket).' },
  ],
  async run(parsed, io) {
    const { values } = parsed
    excludeEachOther(parsed, 'dir', 's3-bucket')
    const adminPort = values['admin-port'] as number | undefined
    return runLoggingService(
      {
        server: {
          ...(values['s3-bucket'] !== undefined
            ? {
                s3: {
                  bucket: String(values['s3-bucket']),
                  ...(values['s3-endpoint'] !== undefined ? { endpoint: String(values['s3-endpoint']) } : {}),
                  ...(values['s3-region'] !== undefined ? { region: String(values['s3-region']) } : {}),
                },
              }
            : { directory: String(values['dir'] ?? DEFAULT_BATCH_DIRECTORY) }),
          keyPrefix: values['s3-prefix'] as string | undefined,
          batchSeconds: values['batch-seconds'] as number,
          maxBodyBytes: values['max-body-bytes'] as number,
          trustProxy: values['trust-proxy'] as boolean,
          ipMode: values['ip-mode'] as IpMode,
          headers: String(values['headers']).split(',').map((name) => name.trim()).filter(Boolean),
          ...(answersFlag(values['answers']) ? {} : { answers: false as const }),
          gzipLevel: values['gzip-level'] as number,
          bodyEncoding: values['body-encoding'] as BodyEncoding,
          closeTimeoutMs: values['close-timeout-ms'] as number,
          unsentDirectory: String(values['unsent-dir']),
          ack: values['ack'] as AckMode,
          spoolDirectory: String(values['spool-dir']),
          maxBacklogBytes: values['max-backlog-bytes'] as number,
          checkSinkAtStart: values['skip-sink-check'] !== true,
        },
        port: values['port'] as number,
        host: String(values['host']),
        workers: workerCount(parsed),
        ...(adminPort !== undefined ? { admin: { port: adminPort, host: String(values['admin-host']) } } : {}),
        logLevel: String(values['log-level']),
      },
      io,
    )
  },
}

/** `--answers clients|ok`: whether analytics clients get their own answers. */
function answersFlag(value: unknown): boolean {
  if (value === 'clients') return true
  if (value === 'ok') return false
  throw new CliUsageError(`--answers must be clients or ok, got ${JSON.stringify(value)}`)
}
