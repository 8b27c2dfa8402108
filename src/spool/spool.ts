/**
 * The spool: a write-ahead journal on local disk, one segment file per batch.
 * Requests are acknowledged (ack=spool) only once their events are on disk
 * here: segment files are opened O_DSYNC, so a write completes only once its
 * bytes (and the file size) are durable, as write + fdatasync would, in one
 * thread-pool job instead of two (bench/RESULTS.md: less main-thread time per
 * round, and lower latency, on this disk). Writes use group commit: every
 * request that ends while a write runs shares the next one; `writesInFlight`
 * writes may run at once at their own offsets (default 1). A segment is
 * deleted once its batch is stored in the sink; segments left by a process
 * that died are recovered at start.
 *
 * Segment file: "LSSPOOL1\n" <object key> "\n" <framed batch V1 events...>
 * A torn tail (a crash mid-write) is cut at the last whole event on recovery;
 * nothing in it was acknowledged.
 */
import { closeSync, constants, openSync, readdirSync, writev, close, mkdirSync, statSync } from 'node:fs'
import { readFile, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import type { BatchJournal, JournalSegment } from '../batch/batch-journal.js'
import { decodeBatchV1 } from '../formats/batch-v1/decode.js'
import { parseObjectKey } from '../formats/batch-v1/object-key.js'
import { positiveInteger } from '../option-checks.js'

export const DEFAULT_SPOOL_DIRECTORY = './spool'
export const SPOOL_MAGIC = 'LSSPOOL1\n'
const SEGMENT_SUFFIX = '.seg'
/** After a failed write, wait this long before trying the disk again. */
export const SPOOL_RETRY_MS = 1000

/**
 * Writes running at once per segment, by default. One: measured on this machine's disk, a second
 * write in flight made more, smaller rounds and fewer requests per second at 300 B and 4 KiB
 * (bench/RESULTS.md, "The spool"); a disk that serves writes in parallel may do better with 2.
 */
export const DEFAULT_SPOOL_WRITES_IN_FLIGHT = 1
/** Segment files: created (never reused), written at explicit offsets, every write synchronized. */
const SEGMENT_OPEN_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC

const writevAsync = promisify(writev)
const closeAsync = promisify(close)

export interface SpoolOptions {
  /** Synchronized writes a segment may have running at once. Default: 1 (DEFAULT_SPOOL_WRITES_IN_FLIGHT). */
  writesInFlight?: number
}

export interface SpoolEvents {
  onError(error: Error, path: string): void
}

/** Writes `buffers` completely at `position` (writev may write less than asked). */
async function writeAll(fd: number, buffers: Uint8Array[], position: number): Promise<void> {
  let pending = buffers
  while (pending.length > 0) {
    let written = (await writevAsync(fd, pending, position)).bytesWritten
    position += written
    const rest: Uint8Array[] = []
    for (const buffer of pending) {
      if (written >= buffer.byteLength) {
        written -= buffer.byteLength
        continue
      }
      rest.push(written > 0 ? buffer.subarray(written) : buffer)
      written = 0
    }
    pending = rest
  }
}

class SpoolSegment implements JournalSegment {
  // Queued ranges: whole views in `queued`, then the open range [openStart, openEnd) of
  // `openSource`, which frames written one after another into one staging buffer extend
  // without a view each.
  private queued: Uint8Array[] = []
  private openSource: Uint8Array | undefined
  private openStart = 0
  private openEnd = 0
  /** Bytes appended, handed to a write, and durable (every write up to here completed): durable ≤ submitted ≤ appended. */
  private appended = 0
  private submitted = 0
  private durable = 0
  /** Writes running, in offset order. */
  private writes: Array<{ upTo: number; completed: boolean; settled: Promise<void> }> = []
  private roundScheduled = false
  // Waiters in append order, so their positions only grow: answered from the front.
  private waiters: Array<{ position: number; done: (error?: Error) => void }> = []
  private error: Error | undefined
  private closed = false
  private finishing: Promise<void> | undefined

  constructor(
    private readonly spool: Spool,
    readonly path: string,
    private readonly fd: number,
    header: Uint8Array,
  ) {
    // Written by the first round, ahead of every event (a crash before it leaves a short header, see recover()).
    this.append(header)
  }

  get failed(): boolean {
    return this.error !== undefined
  }

  get size(): number {
    return this.appended
  }

  append(source: Uint8Array, start = 0, end = source.byteLength): void {
    if (this.error || this.closed) return
    if (source === this.openSource && start === this.openEnd) {
      this.openEnd = end
    } else {
      this.closeOpenRange()
      this.openSource = source
      this.openStart = start
      this.openEnd = end
    }
    this.appended += end - start
    this.spool.bytes += end - start
  }

  private closeOpenRange(): void {
    if (this.openSource && this.openEnd > this.openStart) this.queued.push(this.openSource.subarray(this.openStart, this.openEnd))
    this.openSource = undefined
  }

  commit(): Promise<void> {
    return new Promise((resolve, reject) => this.whenDurable((error) => (error ? reject(error) : resolve())))
  }

  whenDurable(done: (error?: Error) => void): void {
    if (this.error) return done(this.error)
    const position = this.appended
    if (position <= this.durable) return done()
    this.waiters.push({ position, done })
    this.scheduleRound()
  }

  // Group commit: whatever was queued when a write starts is written together (with more than one
  // write in flight, a next one starts while one runs). Requests ending in the same loop turn share a write.
  private scheduleRound(): void {
    if (this.roundScheduled) return
    this.roundScheduled = true
    setImmediate(() => {
      this.roundScheduled = false
      this.advance()
    })
  }

  private advance(): void {
    // Each write is durable when it completes; a waiter is answered once every write up to its bytes
    // has (durability is the contiguous prefix: a crash that keeps a later write but not an earlier
    // one leaves a gap recovery cuts at, before anything acknowledged). Until the first write (the
    // header) is durable it runs alone, so no later bytes can land without it.
    const limit = this.durable === 0 ? 1 : this.spool.writesInFlight
    if (this.error || this.writes.length >= limit || this.appended === this.submitted) return
    this.closeOpenRange()
    const buffers = this.queued
    const position = this.submitted
    const write = { upTo: this.appended, completed: false, settled: Promise.resolve() }
    this.queued = []
    this.submitted = write.upTo
    this.writes.push(write)
    write.settled = writeAll(this.fd, buffers, position).then(
      () => {
        write.completed = true
        while (this.writes[0]?.completed) this.durable = this.writes.shift()!.upTo
        this.answerWaiters(this.durable)
        this.advance()
      },
      (err: Error) => this.fail(err),
    )
  }

  private answerWaiters(durable: number): void {
    const waiters = this.waiters
    let answered = 0
    while (answered < waiters.length && waiters[answered]!.position <= durable) answered++
    if (answered === 0) return
    for (const waiter of waiters.splice(0, answered)) {
      // A throwing waiter must not fail the segment (this runs inside its promise chain).
      try {
        waiter.done()
      } catch (err) {
        process.nextTick(() => {
          throw err
        })
      }
    }
  }

  private fail(err: Error): void {
    if (this.error) return
    this.error = err
    this.queued = []
    this.openSource = undefined
    for (const waiter of this.waiters.splice(0)) waiter.done(err)
    this.spool.failed(err, this.path)
  }

  /** Writes what is queued and closes the file, once however often it is called. */
  finish(): Promise<void> {
    this.finishing ??= (async () => {
      if (!this.error && this.appended > this.durable) await this.commit().catch(() => {})
      // Writes can still be running after a failure: the fd is closed only once they are done.
      await Promise.allSettled(this.writes.map((write) => write.settled))
      this.closed = true
      await closeAsync(this.fd).catch(() => {})
    })()
    return this.finishing
  }

  async discard(): Promise<void> {
    await this.finish()
    await unlink(this.path).catch(() => {})
    this.spool.bytes -= this.appended
  }
}

/**
 * The key and header size of a segment. The header is `SPOOL_MAGIC <key> "\n"`;
 * the file name is the key, URI-encoded. A key holding a line break (older
 * versions let a prefix have one) is taken from the file name, checked
 * against the header's bytes.
 */
function segmentHeader(content: Buffer, fileName: string): { key: string; bytes: number } | undefined {
  const fromName = keyOfFileName(fileName)
  const expected = fromName === undefined ? undefined : Buffer.from(`${SPOOL_MAGIC}${fromName}\n`)
  // The header is written by the first round (alone in flight), like the events: a crash before it
  // completed leaves a part of it, maybe followed by zeros, and nothing acknowledged.
  if (fromName !== undefined && expected) {
    let matched = 0
    while (matched < content.byteLength && matched < expected.byteLength && content[matched] === expected[matched]) matched++
    if (matched < expected.byteLength && content.subarray(matched).every((byte) => byte === 0)) return { key: fromName, bytes: content.byteLength }
  }
  if (!content.subarray(0, SPOOL_MAGIC.length).equals(Buffer.from(SPOOL_MAGIC))) return undefined
  const newline = content.indexOf(0x0a, SPOOL_MAGIC.length)
  const key = newline > 0 ? content.subarray(SPOOL_MAGIC.length, newline).toString() : ''
  if (parseObjectKey(key)) return { key, bytes: newline + 1 }
  if (fromName === undefined || !expected || !content.subarray(0, expected.byteLength).equals(expected)) return undefined
  return { key: fromName, bytes: expected.byteLength }
}

/** The object key a segment's file name encodes, if it is one. */
function keyOfFileName(fileName: string): string | undefined {
  let named: string
  try {
    named = decodeURIComponent(fileName.slice(0, -SEGMENT_SUFFIX.length))
  } catch {
    return undefined
  }
  return parseObjectKey(named) ? named : undefined
}

export interface RecoveredSegment {
  key: string
  path: string
  /** The whole events of the segment (a torn tail cut off). */
  frames: Buffer
  events: number
  /** Bytes cut off the end (a write the crash interrupted). */
  tornBytes: number
  discard(): Promise<void>
}

export class Spool implements BatchJournal {
  readonly directory: string
  /** Bytes in live segments (written or queued). */
  bytes = 0
  private brokenUntil = 0

  /** Synchronized writes a segment may have running at once (see DEFAULT_SPOOL_WRITES_IN_FLIGHT). */
  readonly writesInFlight: number

  constructor(
    directory: string = DEFAULT_SPOOL_DIRECTORY,
    private readonly events: SpoolEvents = { onError() {} },
    options: SpoolOptions = {},
  ) {
    this.directory = resolve(directory)
    this.writesInFlight = positiveInteger('writesInFlight', options.writesInFlight, DEFAULT_SPOOL_WRITES_IN_FLIGHT)
  }

  available(): boolean {
    return Date.now() >= this.brokenUntil
  }

  /** Called by a segment whose write failed. */
  failed(error: Error, path: string): void {
    this.brokenUntil = Date.now() + SPOOL_RETRY_MS
    this.events.onError(error, path)
  }

  open(key: string): JournalSegment {
    const path = join(this.directory, encodeURIComponent(key) + SEGMENT_SUFFIX)
    let fd: number | undefined
    try {
      mkdirSync(this.directory, { recursive: true })
      fd = openSync(path, SEGMENT_OPEN_FLAGS)
      return new SpoolSegment(this, path, fd, Buffer.from(`${SPOOL_MAGIC}${key}\n`))
    } catch (err) {
      if (fd !== undefined) closeSync(fd)
      this.failed(err as Error, path)
      throw err
    }
  }

  /**
   * Segments left by earlier processes, oldest key first. Each keeps its whole
   * events; the caller stores them and then calls discard().
   */
  recover(): Promise<RecoveredSegment[]> {
    // Listed now, synchronously: segments this process opens later are not left-overs.
    mkdirSync(this.directory, { recursive: true })
    const names = readdirSync(this.directory).filter((name) => name.endsWith(SEGMENT_SUFFIX))
    return this.readSegments(names)
  }

  private async readSegments(names: string[]): Promise<RecoveredSegment[]> {
    const recovered: RecoveredSegment[] = []
    for (const name of names) {
      const path = join(this.directory, name)
      let content: Buffer
      try {
        content = await readFile(path)
      } catch (err) {
        this.events.onError(new Error(`cannot read spool segment (left in place): ${(err as Error).message}`), path)
        continue
      }
      const header = segmentHeader(content, name)
      if (!header) {
        this.events.onError(new Error('not a spool segment (bad header); left in place'), path)
        continue
      }
      const { key } = header
      const frames = content.subarray(header.bytes)
      let whole = 0
      let events = 0
      try {
        for (const { offset, size } of decodeBatchV1(frames)) {
          whole = offset + size
          events++
        }
      } catch {
        // A torn tail: everything from the first bad frame on was never acknowledged.
      }
      this.bytes += statSync(path).size
      const size = content.byteLength
      recovered.push({
        key,
        path,
        frames: frames.subarray(0, whole),
        events,
        tornBytes: frames.byteLength - whole,
        discard: async () => {
          await unlink(path).catch(() => {})
          this.bytes -= size
        },
      })
    }
    return recovered.sort((a, b) => a.key.localeCompare(b.key))
  }
}
