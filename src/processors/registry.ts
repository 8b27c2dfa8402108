/**
 * The processor kinds a pipeline can build, by name. A built-in kind is one
 * line in BUILT_IN_PROCESSORS; a user's kind is one `registerProcessor(kind)`
 * call (or a registry of their own passed to the pipeline).
 */
import { InvalidOptionError } from '../errors.js'
import { exportProcessor } from './export-processor.js'
import { forwardProcessor } from './forward-processor.js'
import { ndjsonFileProcessor } from './ndjson-file-processor.js'
import type { ProcessorKind } from './processor.js'
import { statsProcessor } from './stats-processor.js'
import { storeProcessor } from './store-processor.js'

export const BUILT_IN_PROCESSORS: readonly ProcessorKind<any>[] = [
  ndjsonFileProcessor,
  storeProcessor,
  statsProcessor,
  exportProcessor,
  forwardProcessor,
]

export class ProcessorRegistry {
  private readonly kinds = new Map<string, ProcessorKind<any>>()

  constructor(kinds: readonly ProcessorKind<any>[] = BUILT_IN_PROCESSORS) {
    for (const kind of kinds) this.register(kind)
  }

  /** Adds a kind; a name already taken is an error (replacing a built-in silently would surprise). */
  register(kind: ProcessorKind<any>): this {
    if (!kind || typeof kind.kind !== 'string' || !kind.kind || typeof kind.create !== 'function') {
      throw new InvalidOptionError('processor kind', 'needs a non-empty `kind` name and a `create(options, context)` function')
    }
    if (this.kinds.has(kind.kind)) throw new InvalidOptionError('processor kind', `${JSON.stringify(kind.kind)} is already registered`)
    this.kinds.set(kind.kind, kind)
    return this
  }

  get(name: string): ProcessorKind<any> {
    const kind = this.kinds.get(name)
    if (!kind) throw new InvalidOptionError('processors[].kind', `unknown processor kind ${JSON.stringify(name)}; known: ${this.names().join(', ')}`)
    return kind
  }

  names(): string[] {
    return [...this.kinds.keys()]
  }
}

/** The registry pipelines use unless given another. */
export const defaultProcessorRegistry = new ProcessorRegistry()

/** Makes `kind` available to every pipeline built with the default registry. */
export function registerProcessor(kind: ProcessorKind<any>): void {
  defaultProcessorRegistry.register(kind)
}
