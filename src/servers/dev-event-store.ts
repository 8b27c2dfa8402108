/**
 * The DevServer's in-memory events: per bucket, one event per key (the first
 * write stands), read back in key order (keyjson byte order). Listeners hear
 * about every stored batch and every reset; the live page's stream is built on
 * them. A failing listener never fails a store: the events are kept and the
 * error goes to onListenerError.
 */
import { storedEventJson } from '../formats/json-events.js'
import { compareEncodedKeys } from '../formats/keyjson.js'
import type { EventRecord } from '../model/event-record.js'

export interface StoreResult {
  stored: number
  duplicates: number
}

export type StoreChange =
  | { kind: 'stored'; bucket: string; events: EventRecord[] }
  | { kind: 'reset' }

export type StoreListener = (change: StoreChange) => void

export interface DevEventStoreOptions {
  /** Called when a listener throws; the store has already kept the events. Default: ignore (the error is counted in listenerErrors). */
  onListenerError?: (err: unknown, change: StoreChange) => void
}

/** The key bytes as a Map key: latin1 maps each byte to one character, so equal strings are equal bytes. */
function keyId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
}

export class DevEventStore {
  readonly #buckets = new Map<string, Map<string, EventRecord>>()
  /** Sorted copies, dropped when a bucket changes. */
  readonly #sorted = new Map<string, EventRecord[]>()
  readonly #listeners = new Set<StoreListener>()
  readonly #onListenerError: ((err: unknown, change: StoreChange) => void) | undefined
  #listenerErrors = 0

  constructor(options: DevEventStoreOptions = {}) {
    this.#onListenerError = options.onListenerError
  }

  /**
   * Stores the events of one request. A key already in its bucket, or earlier
   * in the same call, is a duplicate and is not stored again.
   */
  add(records: readonly EventRecord[]): StoreResult {
    const storedByBucket = new Map<string, EventRecord[]>()
    for (const record of records) {
      let map = this.#buckets.get(record.bucket)
      if (!map) {
        map = new Map()
        this.#buckets.set(record.bucket, map)
      }
      const id = keyId(record.key)
      if (map.has(id)) continue
      map.set(id, record)
      const stored = storedByBucket.get(record.bucket) ?? []
      stored.push(record)
      storedByBucket.set(record.bucket, stored)
    }
    let count = 0
    for (const [bucket, stored] of storedByBucket) {
      count += stored.length
      this.#sorted.delete(bucket)
      this.#emit({ kind: 'stored', bucket, events: stored })
    }
    return { stored: count, duplicates: records.length - count }
  }

  /** The bucket's events in key order (formats/keyjson.md, "Order"). */
  events(bucket: string): EventRecord[] {
    let sorted = this.#sorted.get(bucket)
    if (!sorted) {
      sorted = [...(this.#buckets.get(bucket)?.values() ?? [])].sort((a, b) => compareEncodedKeys(a.key, b.key))
      this.#sorted.set(bucket, sorted)
    }
    return sorted
  }

  /** `{"events": [...]}` for the bucket, values as their exact text (the answer of GET /events.json). */
  eventsJson(bucket: string): string {
    return `{"events":[${this.events(bucket).map(storedEventJson).join(',')}]}`
  }

  /** Every bucket that has events, with its count, by name. */
  buckets(): { bucket: string; count: number }[] {
    return [...this.#buckets].map(([bucket, map]) => ({ bucket, count: map.size })).sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0))
  }

  /** Total number of events over all buckets. */
  get size(): number {
    let total = 0
    for (const map of this.#buckets.values()) total += map.size
    return total
  }

  /** How many times a listener threw. */
  get listenerErrors(): number {
    return this.#listenerErrors
  }

  /** Deletes every event of every bucket; returns how many there were. */
  reset(): number {
    const deleted = this.size
    this.#buckets.clear()
    this.#sorted.clear()
    this.#emit({ kind: 'reset' })
    return deleted
  }

  /** Calls `listener` on every change; returns the function that stops it. */
  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #emit(change: StoreChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change)
      } catch (err) {
        // The change already happened; a listener (a live stream) must not turn it into a failure.
        this.#listenerErrors++
        try {
          this.#onListenerError?.(err, change)
        } catch {
          // An error reporter that fails has nothing left to tell.
        }
      }
    }
  }
}
