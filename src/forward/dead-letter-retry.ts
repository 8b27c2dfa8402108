/**
 * `dead-letters retry` and `drop`: a retry reads each dead letter's event
 * back from the store and delivers it through the destination's forwarder
 * (same batching, rate limit and retries); what gets through becomes
 * `delivered`, what fails again stays `dead` with the new reason and one more
 * attempt. A drop marks dead letters `dropped` (kept for the record).
 */
import { eventDedupId } from '../model/event-json.js'
import type { EventRecord } from '../model/event-record.js'
import type { EventStore } from '../store/event-store.js'
import type { DeadLetter, DeadLetterStore } from './dead-letters.js'
import type { Forwarder } from './forwarder.js'

export interface RetryReport {
  delivered: number
  /** Failed again: still dead. */
  failed: number
  /** Their event is no longer in the store: still dead. */
  missing: number
}

/** The smallest key after `key`: [key, next) holds exactly key. */
function nextKey(key: Uint8Array): Uint8Array {
  const next = new Uint8Array(key.length + 1)
  next.set(key)
  return next
}

export async function retryDeadLetters(forwarder: Forwarder, store: EventStore, ids?: readonly string[]): Promise<RetryReport> {
  const letters = await forwarder.deadLetters.list({ destination: forwarder.name, ...(ids ? { ids } : {}) })
  const report: RetryReport = { delivered: 0, failed: 0, missing: 0 }
  const byId = new Map<string, DeadLetter>()
  const events: EventRecord[] = []
  const missing: DeadLetter[] = []
  for (const letter of letters) {
    let found: EventRecord | undefined
    for await (const event of store.read({ bucket: letter.bucket, from: letter.key, to: nextKey(letter.key), limit: 1 })) found = event
    if (!found) missing.push(letter)
    else {
      byId.set(letter.id, letter)
      events.push(found)
    }
  }
  const result = await forwarder.deliver(events)
  const attemptsOf = (event: EventRecord) => byId.get(eventDedupId(event))?.attempts ?? 0
  await forwarder.deadLetters.record([
    ...result.delivered.map((event) => ({ destination: forwarder.name, event, status: 'delivered' as const, reason: 'delivered by a retry', attempts: attemptsOf(event) })),
    ...result.dead.map(({ event, reason }) => ({ destination: forwarder.name, event, status: 'dead' as const, reason, attempts: attemptsOf(event) + 1 })),
    ...missing.map((letter) => ({ destination: forwarder.name, event: letter, status: 'dead' as const, reason: 'the event is no longer in the store', attempts: letter.attempts })),
  ])
  report.delivered = result.delivered.length
  report.failed = result.dead.length
  report.missing = missing.length
  return report
}

/** Marks dead letters dropped; resolves with how many. */
export async function dropDeadLetters(deadLetters: DeadLetterStore, query: { destination?: string; ids?: readonly string[] }): Promise<number> {
  const letters = await deadLetters.list(query)
  await deadLetters.record(letters.map((letter) => ({ destination: letter.destination, event: letter, status: 'dropped' as const, reason: 'dropped by a user', attempts: letter.attempts })))
  return letters.length
}
