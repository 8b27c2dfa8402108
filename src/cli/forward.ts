/**
 * `logging-system forward`: runs the `forward` entries of a processors file
 * against the store, from each destination's checkpoint, until SIGTERM/SIGINT
 * (or, with --once, until nothing is left). Prints JSON lines: one when
 * started, one per destination when stopped (its counts).
 */
import { CliUsageError } from '../errors.js'
import type { Forwarder } from '../forward/forwarder.js'
import { forwarderOf } from '../processors/forward-processor.js'
import { forwardConfigs, loadProcessorConfigs } from '../processors/processor-config.js'
import type { CliCommand } from './command-line.js'
import { openStoreFromFlags, STORE_FLAGS } from './store-flags.js'

export const command: CliCommand = {
  name: 'forward',
  envPrefix: 'FORWARD_',
  summary: 'Send stored events to other analytics platforms (the forward entries of a processors file), at-least-once.',
  flags: [
    { name: 'config', type: 'string', description: 'The processors file (JSON): its "forward" entries are the destinations. Required.' },
    { name: 'destination', type: 'string', description: 'Only the destinations of these names, comma-separated (default: all).' },
    { name: 'once', type: 'boolean', default: false, description: 'Send what is stored now, then exit (0 when nothing went to the dead-letter store, 1 otherwise).' },
    ...STORE_FLAGS,
  ],
  async run(parsed, io) {
    const { values } = parsed
    if (values['config'] === undefined) throw new CliUsageError('--config FILE is required')
    let configs = forwardConfigs(await loadProcessorConfigs(String(values['config'])))
    if (values['destination'] !== undefined) {
      const wanted = new Set(String(values['destination']).split(','))
      configs = configs.filter((config) => wanted.has(config.name ?? 'forward'))
    }
    if (configs.length === 0) throw new CliUsageError(`no forward destination in ${values['config']}${values['destination'] !== undefined ? ` named ${values['destination']}` : ''}`)
    const store = await openStoreFromFlags(parsed)
    const forwarders: Forwarder[] = []
    try {
      for (const config of configs) {
        forwarders.push(forwarderOf(config, store, (error) => io.stderr.write(`forward ${config.name ?? 'forward'}: ${error.message}\n`)))
      }
      for (const forwarder of forwarders) await forwarder.deadLetters.open()
      io.stdout.write(JSON.stringify({ forwarding: forwarders.map((f) => f.name), pid: process.pid }) + '\n')
      if (values['once']) {
        await Promise.all(forwarders.map((forwarder) => forwarder.drain()))
      } else {
        for (const forwarder of forwarders) forwarder.start()
        const signal = await io.stopSignal
        io.stderr.write(`forward: ${signal}, stopping\n`)
        await Promise.all(forwarders.map((forwarder) => forwarder.stop()))
      }
      for (const forwarder of forwarders) io.stdout.write(JSON.stringify({ destination: forwarder.name, ...forwarder.stats }) + '\n')
      return values['once'] && forwarders.some((forwarder) => forwarder.stats.deadLettered > 0) ? 1 : 0
    } finally {
      await store.close()
    }
  },
}
