/**
 * `ndjson-file`: appends each event as one line of JSON (src/model/event-json.ts)
 * to a file. The simplest processor, and the model for a new one.
 */
import { open, type FileHandle } from 'node:fs/promises'
import { InvalidOptionError } from '../errors.js'
import { eventToJson } from '../model/event-json.js'
import type { ProcessorKind } from './processor.js'

export interface NdjsonFileProcessorOptions {
  /** The file to append to; created when missing. Required. */
  path: string
  /** fsync after each batch of lines. Default: false. */
  sync?: boolean
}

export const ndjsonFileProcessor: ProcessorKind<NdjsonFileProcessorOptions> = {
  kind: 'ndjson-file',
  description: 'Appends every event as one JSON line to a file.',
  create(options) {
    if (typeof options.path !== 'string' || options.path === '') throw new InvalidOptionError('ndjson-file.path', 'a file path is required')
    const sync = options.sync ?? false
    let file: FileHandle | undefined
    return {
      async start() {
        file = await open(options.path, 'a')
      },
      async process(events) {
        await file!.appendFile(events.map((event) => eventToJson(event, true) + '\n').join(''))
        if (sync) await file!.sync()
      },
      async close() {
        await file?.close()
        file = undefined
      },
    }
  },
}
