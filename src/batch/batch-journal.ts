/**
 * What a batch writes ahead of itself for crash safety (the spool implements
 * it). The batch layer only knows this interface, so batches stay ignorant of
 * files and fsync.
 */

export interface JournalSegment {
  /** Queues one framed event for the segment (written by the next commit). */
  append(frame: Uint8Array): void
  /** Resolves once everything appended so far is durable; rejects if it cannot be. */
  commit(): Promise<void>
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
