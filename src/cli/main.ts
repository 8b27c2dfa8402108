/**
 * The `logging-system` command: picks a subcommand, parses its flags, runs it.
 * Each subcommand lives in its own file and exports `command: CliCommand`.
 */
import { CliUsageError } from '../errors.js'
import { formatHelp, parseCommandLine, type CliCommand, type CliIo } from './command-line.js'

/** Subcommands, loaded on demand so `serve` does not pay for the others. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: CliCommand }> }> = {
  serve: { summary: 'Run the logging daemon: every request, unparsed, into gzipped batches.', load: () => import('./serve.js') },
  dev: { summary: 'Run the DevServer: the events API in memory, with a live page.', load: () => import('./dev.js') },
  gen: { summary: 'Send random events to a DevServer or LoggingServer.', load: () => import('./gen.js') },
  keys: { summary: 'Create, list and revoke write keys of the event store.', load: () => import('./keys.js') },
  events: { summary: 'Run the EventServer: the events API on a durable store, fed by direct posts and tailed batches.', load: () => import('./events.js') },
  replay: { summary: 'Read stored batches back and write them as NDJSON or re-send them.', load: () => import('./replay.js') },
  export: { summary: 'Export a UTC day of the event store to a directory or S3 (Parquet, NDJSON, CSV).', load: () => import('./export.js') },
  forward: { summary: 'Send stored events to Segment-compatible, Mixpanel or webhook destinations.', load: () => import('./forward.js') },
  'dead-letters': { summary: 'List, retry or drop the events forwarding gave up on.', load: () => import('./dead-letters.js') },
}

function topLevelHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 4
  const lines = ['Usage: logging-system <command> [options]', '', 'Commands:']
  for (const [name, { summary }] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(width)}${summary}`)
  lines.push('', "Run 'logging-system <command> --help' for a command's options.")
  return lines.join('\n') + '\n'
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topLevelHelp())
    return name === undefined ? 2 : 0
  }
  const entry = COMMANDS[name]
  if (!entry) {
    io.stderr.write(`logging-system: unknown command ${JSON.stringify(name)}\n\n${topLevelHelp()}`)
    return 2
  }
  const { command } = await entry.load()
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(formatHelp(command))
    return 0
  }
  try {
    return await command.run(parseCommandLine(command, rest, io.env), io)
  } catch (err) {
    if (err instanceof CliUsageError || (err as { code?: string }).code === 'LS_INVALID_OPTION') {
      io.stderr.write(`logging-system ${name}: ${(err as Error).message}\nRun 'logging-system ${name} --help' for usage.\n`)
      return 2
    }
    throw err
  }
}
