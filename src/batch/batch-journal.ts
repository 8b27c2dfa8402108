/**
 * What a batch writes ahead of itself for crash safety (the spool implements
 * it). The batch layer only knows this interface, so batches stay ignorant of
 * files and fsync.
 */

export interface JournalSegment {
  /**
   * Queues bytes [start, end) of `source` (whole framed events; default: all of it) for the
   * segment, written by the next commit. The segment keeps a view: `source` must not change
   * there until the write is done.
   */
  append(source: Uint8Array, start?: number, end?: number): void
  /** Resolves once everything appended so far is durable; rejects if it cannot be. */
  commit(): Promise<void>
  /**
   * commit() as a callback, called once with no error when everything appended so far is durable,
   * or with the error if it cannot be. The per-request path of ack=spool uses it: a promise chain
   * per request cost more main-thread time than the rest of the spool (bench/RESULTS.md).
   */
  whenDurable(done: (error?: Error) => void): void
  /** True once a write failed; nothing more will be made durable in this segment. */
  readonly failed: boolean
  /** Writes what is queued and closes the file; the segment stays on disk. */
  finish(): Promise<void>
  /** Deletes the segment: its batch is stored. */
  discard(): Promise<void>
}

export interface BatchJournal {
  /** A segment for the batch stored under `key`; throws when the journal cannot write. */
  open(key: string): JournalSegment
  /** False while the journal is known to be unwritable (e.g. a full disk, retried later). */
  available(): boolean
}
