/**
 * The DevServer's in-memory events: per bucket, one event per key (the first
 * write stands), read back in key order. Listeners hear about every stored
 * batch and every reset; the live page's stream is built on them.
 */
import { compareKeys, keyIdentity, type LogEvent, type StoredEvent } from '../formats/json-events.js'

export interface StoreResult {
  stored: number
  duplicates: number
}

export type StoreChange =
  | { kind: 'stored'; bucket: string; events: StoredEvent[] }
  | { kind: 'reset' }

export type StoreListener = (change: StoreChange) => void

export class DevEventStore {
  readonly #buckets = new Map<string, Map<string, StoredEvent>>()
  /** Sorted copies, dropped when a bucket changes. */
  readonly #sorted = new Map<string, StoredEvent[]>()
  readonly #listeners = new Set<StoreListener>()

  /**
   * Stores the events of one request, all stamped with `serverTime`. A key
   * already in the bucket, or earlier in the same call, is a duplicate and is
   * not stored again.
   */
  add(bucket: string, events: readonly LogEvent[], serverTime: number): StoreResult {
    let map = this.#buckets.get(bucket)
    if (!map) {
      map = new Map()
      this.#buckets.set(bucket, map)
    }
    const stored: StoredEvent[] = []
    for (const event of events) {
      const id = keyIdentity(event.key)
      if (map.has(id)) continue
      const record: StoredEvent = { key: event.key, type: event.type, value: event.value, clientTime: event.clientTime, serverTime }
      map.set(id, record)
      stored.push(record)
    }
    if (stored.length > 0) {
      this.#sorted.delete(bucket)
      this.#emit({ kind: 'stored', bucket, events: stored })
    }
    return { stored: stored.length, duplicates: events.length - stored.length }
  }

  /** The bucket's events in key order (formats/json-events.md, "Key order"). */
  events(bucket: string): StoredEvent[] {
    let sorted = this.#sorted.get(bucket)
    if (!sorted) {
      sorted = [...(this.#buckets.get(bucket)?.values() ?? [])].sort((a, b) => compareKeys(a.key, b.key))
      this.#sorted.set(bucket, sorted)
    }
    return sorted
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
    for (const listener of this.#listeners) listener(change)
  }
}
