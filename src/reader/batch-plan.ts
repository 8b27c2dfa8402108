/**
 * The order batches are read in: by serverToken, then batchNumber (formats/
 * batch-v1.md §4), so a request split across consecutive batches of one
 * server is rejoined. Only key strings are held, whatever the number of batches.
 */
import { parseObjectKey } from '../formats/batch-v1/object-key.js'
import type { BatchSource } from './batch-source.js'
import { batchInRange, type TimeRange } from './time-range.js'

export interface PlannedBatch {
  key: string
  serverToken: string
  batchNumber: number
  /** The batch's start (first event), ms since 1970. */
  startTime: number
}

export interface BatchPlan {
  /** Batches to read, grouped by serverToken and in batchNumber order within a server. */
  batches: PlannedBatch[]
  /** Keys that do not name a batch (not the key grammar). */
  foreignKeys: string[]
  /** Batches listed but outside the time range. */
  outsideRange: number
}

export function compareBatches(a: PlannedBatch, b: PlannedBatch): number {
  if (a.serverToken !== b.serverToken) return a.serverToken < b.serverToken ? -1 : 1
  return a.batchNumber - b.batchNumber || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
}

export async function planBatches(source: BatchSource, range: TimeRange): Promise<BatchPlan> {
  const batches: PlannedBatch[] = []
  const foreignKeys: string[] = []
  let outsideRange = 0
  const seen = new Set<string>()
  for await (const key of source.listKeys(range)) {
    if (seen.has(key)) continue
    seen.add(key)
    const parts = parseObjectKey(key)
    if (!parts) {
      foreignKeys.push(key)
      continue
    }
    if (!batchInRange(parts.startTime, range)) {
      outsideRange++
      continue
    }
    batches.push({ key, serverToken: parts.serverToken, batchNumber: parts.batchNumber, startTime: parts.startTime })
  }
  batches.sort(compareBatches)
  return { batches, foreignKeys, outsideRange }
}
