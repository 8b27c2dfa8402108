/**
 * Batches that outlive a process: at start, what an earlier process left
 * (spool segments of ack=spool, batches saved in the unsent directory at a
 * failed shutdown) is queued for the sink again; at a shutdown that runs out
 * of time, what the sink did not take is saved (or left in the spool) and
 * reported. Both ends live here, next to the spool and the uploader they use.
 */
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import type { SealedBatch } from '../batch/batch-writer.js'
import { UnsentBatchesError } from '../errors.js'
import { parseObjectKey } from '../formats/batch-v1/object-key.js'
import type { ServerLogger } from '../logger.js'
import type { BatchUploader } from '../sinks/batch-uploader.js'
import { DirectorySink } from '../sinks/directory-sink.js'
import type { Spool } from './spool.js'

const gzipAsync = promisify(gzip)

/** Where left-over batches are kept and where they go. */
export interface LeftoverPlaces {
  /** The spool, with ack=spool. */
  spool: Spool | undefined
  /** Where a shutdown saves the batches the sink did not take. */
  unsentDirectory: string
  uploader: BatchUploader
  /** The sink, for messages. */
  sinkDescription: string
  logger: ServerLogger
}

/**
 * Queues what an earlier process left behind: spool segments (ack=spool)
 * and batches written to the unsent directory at a failed shutdown. Both
 * are stored under their original keys, so a batch stored twice (a crash
 * between the store and the delete) overwrites itself instead of doubling.
 */
export async function recoverLeftovers(places: LeftoverPlaces): Promise<void> {
  // Each source on its own: one that fails must not keep the other from being delivered.
  const { spool, logger } = places
  if (spool) {
    await recoverSpool(places, spool).catch((err) => logger.error({ err, directory: spool.directory }, 'could not recover the spool'))
  }
  await recoverUnsent(places).catch((err) => logger.error({ err, directory: places.unsentDirectory }, 'could not recover unsent batches'))
}

async function recoverSpool(places: LeftoverPlaces, spool: Spool): Promise<void> {
  for (const segment of await spool.recover()) {
    const parts = parseObjectKey(segment.key)!
    places.logger.warn({ key: segment.key, events: segment.events, tornBytes: segment.tornBytes }, 'recovered a spool segment left by an earlier process')
    if (segment.events === 0) {
      await segment.discard()
      continue
    }
    enqueueRecovered(places.uploader, segment.key, parts.startTime, parts.batchNumber, await gzipAsync(segment.frames), segment.events, segment.frames.byteLength, {
      segment: { failed: false, discard: segment.discard },
      keptAt: spool.directory,
    })
  }
}

async function recoverUnsent(places: LeftoverPlaces): Promise<void> {
  const unsent = new DirectorySink(places.unsentDirectory)
  for (const key of await unsent.keys()) {
    const parts = parseObjectKey(key)
    if (!parts) continue
    places.logger.warn({ key, directory: unsent.directory }, 'recovered a batch left unsent by an earlier shutdown')
    enqueueRecovered(places.uploader, key, parts.startTime, parts.batchNumber, await unsent.get(key), 0, 0, {
      segment: { failed: false, discard: () => unsent.delete(key).catch(() => {}) },
      keptAt: unsent.directory,
    })
  }
}

function enqueueRecovered(
  uploader: BatchUploader,
  key: string,
  startTime: number,
  batchNumber: number,
  body: Buffer,
  events: number,
  rawBytes: number,
  copy: Required<Pick<SealedBatch, 'segment' | 'keptAt'>>,
): void {
  let settle!: (error?: Error) => void
  const stored = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())))
  stored.catch(() => {})
  uploader.enqueue({ key, body, batchNumber, startTime, events, rawBytes, stored, settle, ...copy })
}

/**
 * Shutdown past its deadline: saves each batch the sink did not take in the
 * unsent directory (batches with a durable copy, a whole spool segment or an
 * unsent file, stay where they are), settles them all with the error (their
 * waiting requests get 503), logs one message naming them and throws it.
 */
export async function saveUnsent(places: LeftoverPlaces, batches: SealedBatch[]): Promise<never> {
  const { spool, logger } = places
  const fallback = new DirectorySink(places.unsentDirectory)
  const keys = batches.map((batch) => batch.key)
  const failed: string[] = []
  const kept = new Map<string, number>()
  for (const batch of batches) {
    const keptAt = batch.keptAt ?? (batch.segment && !batch.segment.failed ? spool?.directory : undefined)
    if (keptAt !== undefined) {
      kept.set(keptAt, (kept.get(keptAt) ?? 0) + 1)
      continue
    }
    try {
      await fallback.put(batch.key, batch.body)
    } catch (err) {
      failed.push(batch.key)
      logger.error({ key: batch.key, err }, 'could not save unsent batch locally either')
    }
  }
  const keptCount = [...kept.values()].reduce((sum, n) => sum + n, 0)
  const saved = keys.length - failed.length - keptCount
  const message =
    `${keys.length} batch(es) not stored in ${places.sinkDescription} before the close deadline; ` +
    [...kept].map(([directory, n]) => `${n} left in ${directory === spool?.directory ? 'the spool ' : ''}${directory}, `).join('') +
    `${saved} saved under ${fallback.directory}` +
    (failed.length ? `, ${failed.length} LOST: ${failed.join(', ')}` : '') +
    '; they are delivered at the next start'
  logger.error({ keys, unsentDirectory: fallback.directory, lost: failed }, message)
  const error = new UnsentBatchesError(keys, message)
  for (const batch of batches) batch.settle(error)
  throw error
}
