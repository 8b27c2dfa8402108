/** Where sealed batches go. A sink stores one whole object per key, or throws. */
export interface Sink {
  /** Human-readable destination for logs, e.g. `dir:./batches` or `s3://bucket`. */
  readonly description: string
  /** Stores `body` under `key`. Storing the same key twice must be harmless (retries do). */
  put(key: string, body: Uint8Array): Promise<void>
  /** Start-up check that stores can succeed (a write-and-delete probe, HeadBucket); throws SinkUnusableError. Optional. */
  check?(): Promise<void>
  /** Releases connections or handles. */
  close?(): Promise<void>
}
