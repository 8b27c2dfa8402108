/**
 * `logging-system keys create|list|revoke`: the write keys of the event store
 * (docs/write-keys.md), DuckDB or ClickHouse. A DuckDB file is locked by a
 * running EventServer: manage its keys while it is stopped (ClickHouse has no
 * such limit; a running EventServer sees a revoke within its 5 s cache).
 */
import { CliUsageError } from '../errors.js'
import { WriteKeys, type WriteKeyInfo } from '../ingest/write-keys.js'
import { DEFAULT_DUCKDB_PATH } from '../store/duckdb/duckdb-store.js'
import type { CliCommand } from './command-line.js'
import { openStoreFromFlags } from './store-flags.js'

const USAGE = 'keys create --name NAME --bucket BUCKET | keys list | keys revoke ID-OR-NAME'

function line(key: WriteKeyInfo): string {
  const state = key.revokedAt === null ? 'active' : `revoked ${new Date(key.revokedAt).toISOString()}`
  return `${key.id}\t${key.name}\t${key.bucket}\t${key.hint}…\t${new Date(key.createdAt).toISOString()}\t${state}`
}

export const command: CliCommand = {
  name: 'keys',
  envPrefix: 'KEYS_',
  summary: 'Create, list and revoke write keys (Segment writeKey, PostHog api_key, Mixpanel token, Grouparoo apiKey).',
  positionals: 'create|list|revoke [ID-OR-NAME]',
  flags: [
    { name: 'db', type: 'string', description: `The DuckDB event store file (default ${DEFAULT_DUCKDB_PATH} when --clickhouse is not given; the EventServer using it must be stopped).` },
    { name: 'clickhouse', type: 'string', description: 'The ClickHouse event store at this URL, e.g. http://127.0.0.1:8123/database (excludes --db).' },
    { name: 'name', type: 'string', description: 'create: the key\'s name, e.g. "Web API" (the producer of its events).' },
    { name: 'bucket', type: 'string', description: 'create: the bucket its events go to.' },
    { name: 'json', type: 'boolean', default: false, description: 'Print JSON instead of text.' },
  ],
  async run(parsed, io) {
    const { values, positionals } = parsed
    const [action, target, ...extra] = positionals
    if (extra.length > 0 || action === undefined) throw new CliUsageError(`usage: ${USAGE}`)
    if (!['create', 'list', 'revoke'].includes(action)) throw new CliUsageError(`unknown keys action ${JSON.stringify(action)}; usage: ${USAGE}`)
    if (action === 'create' && (values['name'] === undefined || values['bucket'] === undefined)) throw new CliUsageError('keys create needs --name and --bucket')
    if (action === 'revoke' && target === undefined) throw new CliUsageError('keys revoke needs the id or name of the key')
    const json = values['json'] === true
    const store = await openStoreFromFlags(parsed, 'keys')
    try {
      const keys = new WriteKeys(store)
      if (action === 'create') {
        const created = await keys.create({ name: String(values['name']), bucket: String(values['bucket']) })
        io.stdout.write(json ? JSON.stringify(created) + '\n' : `${created.key}\n# ${created.id} "${created.name}" → bucket ${created.bucket}. Shown once: only its hash is stored.\n`)
      } else if (action === 'list') {
        const list = await keys.list()
        io.stdout.write(json ? JSON.stringify(list) + '\n' : list.map(line).join('\n') + (list.length ? '\n' : ''))
      } else {
        const revoked = await keys.revoke(target!)
        io.stdout.write(json ? JSON.stringify(revoked) + '\n' : `revoked ${line(revoked)}\n`)
      }
    } finally {
      await store.close()
    }
    return 0
  },
}
