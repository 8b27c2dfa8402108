/**
 * The processors file: JSON, `{"processors": [ProcessorConfig, ...]}` (or the
 * bare array). One file serves the EventServer (all its processors) and the
 * `forward` / `dead-letters` commands (its `forward` entries).
 */
import { readFile } from 'node:fs/promises'
import { InvalidOptionError } from '../errors.js'
import type { ProcessorConfig } from './processor.js'

export async function loadProcessorConfigs(path: string): Promise<ProcessorConfig[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new InvalidOptionError('config', `cannot read ${path}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new InvalidOptionError('config', `${path} is not JSON: ${(err as Error).message}`)
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { processors?: unknown } | null)?.processors
  if (!Array.isArray(list)) throw new InvalidOptionError('config', `${path} must hold {"processors": [...]} or an array`)
  list.forEach((entry, index) => {
    if (entry === null || typeof entry !== 'object' || typeof (entry as ProcessorConfig).kind !== 'string') {
      throw new InvalidOptionError('config', `${path}: processors[${index}] needs a "kind"`)
    }
  })
  return list as ProcessorConfig[]
}

/** The `forward` entries, each with its name (default `forward`). */
export function forwardConfigs(configs: readonly ProcessorConfig[]): ProcessorConfig[] {
  return configs.filter((config) => config.kind === 'forward')
}
