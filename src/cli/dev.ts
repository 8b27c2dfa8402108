/** `logging-system dev`: the DevServer with its live page, until SIGTERM/SIGINT. */
import { DevServer } from '../servers/dev-server.js'
import type { CliCommand, CliIo, ParsedCommandLine } from './command-line.js'

async function run(args: ParsedCommandLine, io: CliIo): Promise<number> {
  const server = new DevServer({
    bodyLimit: args.values['body-limit'] as number,
    maxEvents: args.values['max-events'] as number,
  })
  const url = await server.listen(args.values.port as number, args.values.host as string)
  io.stdout.write(`DevServer listening on ${url}/ (live page), POST ${url}/api/post-events?bucket=TOKEN\n`)
  const signal = await io.stopSignal
  io.stderr.write(`DevServer: ${signal}, closing\n`)
  await server.close()
  return 0
}

export const command: CliCommand = {
  name: 'dev',
  summary: 'Run the DevServer: the events API in memory, with a live page at /.',
  flags: [
    { name: 'port', type: 'integer', default: 7007, description: 'TCP port (0 picks a free one).' },
    { name: 'host', type: 'string', default: '127.0.0.1', description: 'Interface to listen on.' },
    { name: 'body-limit', type: 'integer', default: 8 * 1024 * 1024, description: 'Largest request body, bytes.' },
    { name: 'max-events', type: 'integer', default: 10_000, description: 'Most events in one request.' },
  ],
  run,
}
