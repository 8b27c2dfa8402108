/**
 * `logging-system dead-letters list|retry|drop`: the events destinations
 * refused for good or that ran out of retries. `list` prints one JSON line
 * per dead letter; `retry` sends them again through their destination (its
 * entry in the processors file); `drop` marks them dropped.
 */
import { CliUsageError } from '../errors.js'
import { dropDeadLetters, retryDeadLetters } from '../forward/dead-letter-retry.js'
import { DeadLetterStore, type DeadLetterStatus } from '../forward/dead-letters.js'
import { forwarderOf } from '../processors/forward-processor.js'
import { forwardConfigs, loadProcessorConfigs } from '../processors/processor-config.js'
import type { CliCommand } from './command-line.js'
import { openStoreFromFlags, STORE_FLAGS } from './store-flags.js'

const ACTIONS = ['list', 'retry', 'drop'] as const
const STATUSES: DeadLetterStatus[] = ['dead', 'delivered', 'dropped']

export const command: CliCommand = {
  name: 'dead-letters',
  envPrefix: 'DEAD_LETTERS_',
  summary: 'List, retry or drop the events forwarding gave up on.',
  positionals: 'list|retry|drop',
  flags: [
    { name: 'destination', type: 'string', description: 'Only this destination (required for retry).' },
    { name: 'id', type: 'string', description: 'Only these dead letters, by id (bucket:key as printed by list), comma-separated (default: all).' },
    { name: 'config', type: 'string', description: 'The processors file with the destination (required for retry).' },
    { name: 'status', type: 'string', default: 'dead', description: `list: dead letters in this state: ${STATUSES.join(', ')}.` },
    { name: 'limit', type: 'integer', default: 1000, description: 'list: at most this many.' },
    ...STORE_FLAGS,
  ],
  async run(parsed, io) {
    const { values, positionals } = parsed
    const [action, ...extra] = positionals
    if (action === undefined || !(ACTIONS as readonly string[]).includes(action) || extra.length > 0) {
      throw new CliUsageError(`give one action: ${ACTIONS.join(', ')}`)
    }
    const destination = values['destination'] as string | undefined
    const ids = values['id'] !== undefined ? String(values['id']).split(',').filter(Boolean) : undefined
    const status = String(values['status']) as DeadLetterStatus
    if (!STATUSES.includes(status)) throw new CliUsageError(`--status must be one of ${STATUSES.join(', ')}`)
    let forwarderConfig
    if (action === 'retry') {
      if (destination === undefined || values['config'] === undefined) throw new CliUsageError('retry needs --destination NAME and --config FILE (where that destination is described)')
      forwarderConfig = forwardConfigs(await loadProcessorConfigs(String(values['config']))).find((config) => (config.name ?? 'forward') === destination)
      if (!forwarderConfig) throw new CliUsageError(`no forward entry named ${JSON.stringify(destination)} in ${values['config']}`)
    }
    const store = await openStoreFromFlags(parsed)
    try {
      const deadLetters = new DeadLetterStore(store)
      if (action === 'list') {
        const letters = await deadLetters.list({ status, limit: values['limit'] as number, ...(destination !== undefined ? { destination } : {}), ...(ids ? { ids } : {}) })
        for (const letter of letters) {
          io.stdout.write(JSON.stringify({ destination: letter.destination, id: letter.id, bucket: letter.bucket, type: letter.type, status: letter.status, attempts: letter.attempts, time: new Date(letter.time).toISOString(), reason: letter.reason }) + '\n')
        }
        io.stderr.write(`dead-letters: ${letters.length} ${status}\n`)
        return 0
      }
      if (action === 'drop') {
        const dropped = await dropDeadLetters(deadLetters, { ...(destination !== undefined ? { destination } : {}), ...(ids ? { ids } : {}) })
        io.stdout.write(JSON.stringify({ dropped }) + '\n')
        return 0
      }
      const forwarder = forwarderOf(forwarderConfig!, store)
      const report = await retryDeadLetters(forwarder, store, ids)
      io.stdout.write(JSON.stringify(report) + '\n')
      return report.failed + report.missing > 0 ? 1 : 0
    } finally {
      await store.close()
    }
  },
}
