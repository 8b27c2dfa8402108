/**
 * What a tailer commits per LoggingServer (serverToken), in the same store
 * write as the events it covers. A request can be split over batches, so the
 * position names both the last batch done and the earliest batch that still
 * holds the start of a request open after it: a restart re-reads from there
 * to join those requests again (requests that ended in a batch already done
 * are not handed out twice).
 */
import type { Checkpoint } from '../store/event-store.js'

export const TAIL_CHECKPOINT_VERSION = 1

export interface TailPosition {
  /** The last batch number whose requests are all handled. */
  batch: number
  /** The earliest batch number holding the first chunk of a request still open after `batch` (batch + 1 when none). */
  reread: number
  /** reqIds given up on (cut by a lost batch, or open too long): their later events are ignored. */
  dropped: number[]
  /** After a loss, requests first seen up to this time (ms) may miss chunks: they are skipped. 0 when none. */
  lossUntil: number
}

/** `tail:<stream>/<serverToken>`: one checkpoint per LoggingServer process of one tailed stream. */
export function checkpointName(stream: string, serverToken: string): string {
  return `${checkpointPrefix(stream)}${serverToken}`
}

export function checkpointPrefix(stream: string): string {
  return `tail:${stream}/`
}

export function encodeTailCheckpoint(stream: string, serverToken: string, position: TailPosition): Checkpoint {
  return { name: checkpointName(stream, serverToken), position: JSON.stringify({ v: TAIL_CHECKPOINT_VERSION, ...position }) }
}

/** The position in a committed checkpoint; a checkpoint this version cannot read is an error, never a silent restart. */
export function decodeTailPosition(checkpoint: Checkpoint): TailPosition {
  let parsed: unknown
  try {
    parsed = JSON.parse(checkpoint.position)
  } catch {
    throw new Error(`checkpoint ${checkpoint.name} is not JSON: ${checkpoint.position.slice(0, 200)}`)
  }
  const p = parsed as Partial<TailPosition> & { v?: unknown }
  const integer = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
  if (p.v !== TAIL_CHECKPOINT_VERSION || !integer(p.batch) || !integer(p.reread) || !integer(p.lossUntil) || !Array.isArray(p.dropped) || !p.dropped.every(integer)) {
    throw new Error(`checkpoint ${checkpoint.name} is not a version ${TAIL_CHECKPOINT_VERSION} tail position: ${checkpoint.position.slice(0, 200)}`)
  }
  return { batch: p.batch!, reread: p.reread!, dropped: p.dropped as number[], lossUntil: p.lossUntil! }
}
