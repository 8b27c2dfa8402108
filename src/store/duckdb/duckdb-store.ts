/**
 * The embedded EventStore: one DuckDB file (default ./events.duckdb) through
 * @duckdb/node-api. docs/event-store.md has the table, the durability and
 * locking rules and the measured figures.
 *
 * - Writes go through one connection, one at a time (a promise queue): each is
 *   one transaction (events, checkpoints, rejects) and write() resolves after
 *   its COMMIT, which DuckDB makes durable by writing and fsyncing the WAL.
 * - Reads each take a connection of their own (pooled) and stream the result
 *   chunk by chunk, so a million-event bucket never sits in memory.
 * - DuckDB locks the file for one process; a second process gets
 *   StoreLockedError (LS_STORE_LOCKED). A second store on the same file in
 *   this process is refused the same way (DuckDB's lock is per process).
 */
import { resolve } from 'node:path'
import { DuckDBInstance, blobValue, type DuckDBConnection, type DuckDBValue, type DuckDBBlobValue } from '@duckdb/node-api'
import { ClosedError, InvalidOptionError, LoggingSystemError, StoreLockedError, StoreUnavailableError } from '../../errors.js'
import type { EventRecord } from '../../model/event-record.js'
import type { BucketCount, Checkpoint, EventStore, RangeQuery, RejectedRequest, SqlAccess, WriteBatch, WriteResult } from '../event-store.js'
import { checkStorableBatch } from '../storable.js'
import { CLUSTERED_THROUGH, CREATE_STAGING, EVENTS_TABLE, CREATE_TABLES, eventsTableSql, insertStagedSql, READ_COLUMNS, STAGING_TABLE } from './schema.js'

export const DEFAULT_DUCKDB_PATH = './events.duckdb'

export interface DuckDbEventStoreOptions {
  /** The database file; created when missing (its WAL is `<path>.wal`). Default `./events.duckdb`. */
  path?: string
  /** DuckDB worker threads. Default: DuckDB's own (the number of cores). */
  threads?: number
  /** DuckDB's memory limit, e.g. `'512MB'`. Default: DuckDB's own (80% of RAM). */
  memoryLimit?: string
  /** Idle read connections kept for reuse. Default 4. */
  readConnections?: number
  /** Events per query of a streamed read (the top-N DuckDB holds at once). Default 20,000. */
  readPageRows?: number
  /**
   * Run cluster() after a write once this many events were stored since the
   * last one, and they are at least a quarter of the table (so each event is
   * rewritten a bounded number of times); 0 = never on its own. Not after a
   * write marked `more` (a backlog being worked through): the next write
   * without it clusters. Default 100,000.
   */
  clusterAfterRows?: number
  /**
   * How a write's events go in. `'optimistic'` (default): appended straight
   * into `events`; when a key is already there (the primary key refuses the
   * append) the write starts over the `'staged'` way, and the next
   * STAGED_AFTER_CONFLICT writes go that way too. `'staged'`: always through
   * the staging table and `INSERT OR IGNORE` (the general path; both give the
   * same rows and counts).
   */
  appendMode?: 'optimistic' | 'staged'
}

export interface ClusterResult {
  /** Events in the rewritten table. */
  rows: number
  /** How long the rewrite took, ms. */
  ms: number
}

export const DEFAULT_READ_PAGE_ROWS = 20_000
export const DEFAULT_CLUSTER_AFTER_ROWS = 100_000
/** Writes that take the staged path after an optimistic append met a stored key (duplicates tend to come in runs: retries, re-reads). */
export const STAGED_AFTER_CONFLICT = 8

/** Paths of the stores open in this process: DuckDB's file lock does not stop a second open here. */
const openPaths = new Set<string>()

export class DuckDbEventStore implements EventStore {
  readonly kind = 'duckdb' as const
  readonly path: string
  readonly sql: SqlAccess
  private readonly options: DuckDbEventStoreOptions
  private instance: DuckDBInstance | undefined
  private writer: DuckDBConnection | undefined
  private readonly idleReaders: DuckDBConnection[] = []
  private readonly busyReaders = new Set<DuckDBConnection>()
  /** The tail of the write queue: each write starts when the one before it settled. */
  private queue: Promise<unknown> = Promise.resolve()
  /** The ingested_at of the last commit: the next one is never lower, even if the clock steps back. */
  private lastIngestedAt = 0
  private state: 'new' | 'open' | 'closed' = 'new'
  /** Events in the table, and those stored after the last cluster() (out of key order). */
  private totalRows = 0
  private unclusteredRows = 0
  private clustering: Promise<ClusterResult> | undefined
  /** The connection building the sorted copy, interrupted by close(). */
  private clusterConnection: DuckDBConnection | undefined
  /** Writes left that take the staged path after a conflict (appendMode 'optimistic'). */
  private stagedWrites = 0
  /** Writes by path since open(), for tests and benchmarks: appended straight, staged, and optimistic appends that met a stored key. */
  readonly writePaths = { appended: 0, staged: 0, conflicts: 0 }
  /** Why the last automatic cluster() failed, if it did (the table stays as it was; the next trigger retries). */
  lastClusterError: Error | undefined

  constructor(options: DuckDbEventStoreOptions = {}) {
    if (options.path !== undefined && (typeof options.path !== 'string' || options.path === '')) {
      throw new InvalidOptionError('path', 'must be a file path')
    }
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
      throw new InvalidOptionError('threads', 'must be an integer ≥ 1')
    }
    if (options.readConnections !== undefined && (!Number.isInteger(options.readConnections) || options.readConnections < 0)) {
      throw new InvalidOptionError('readConnections', 'must be an integer ≥ 0')
    }
    if (options.clusterAfterRows !== undefined && (!Number.isInteger(options.clusterAfterRows) || options.clusterAfterRows < 0)) {
      throw new InvalidOptionError('clusterAfterRows', 'must be an integer ≥ 0 (0 = never on its own)')
    }
    if (options.appendMode !== undefined && options.appendMode !== 'optimistic' && options.appendMode !== 'staged') {
      throw new InvalidOptionError('appendMode', `must be 'optimistic' or 'staged', got ${String(options.appendMode)}`)
    }
    if (options.readPageRows !== undefined && (!Number.isInteger(options.readPageRows) || options.readPageRows < 1)) {
      throw new InvalidOptionError('readPageRows', 'must be an integer ≥ 1')
    }
    this.options = options
    this.path = resolve(options.path ?? DEFAULT_DUCKDB_PATH)
    this.sql = new DuckDbSql(this)
  }

  async open(): Promise<void> {
    if (this.state !== 'new') throw new InvalidOptionError('open', 'a store opens once; make a new one to reopen')
    if (openPaths.has(this.path)) throw new StoreLockedError(this.path, 'another store in this process has it open')
    openPaths.add(this.path)
    try {
      const config: Record<string, string> = {}
      if (this.options.threads !== undefined) config['threads'] = String(this.options.threads)
      if (this.options.memoryLimit !== undefined) config['memory_limit'] = this.options.memoryLimit
      // Reads of the clustered rows rely on scans returning rows in storage order (DuckDB's default, made explicit).
      config['preserve_insertion_order'] = 'true'
      try {
        this.instance = await DuckDBInstance.create(this.path, config)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        if (/could not set lock/i.test(message)) throw new StoreLockedError(this.path, message.replace(/^IO Error: /, ''), { cause: error })
        throw new StoreUnavailableError(`cannot open ${this.path}: ${message}`, { cause: error })
      }
      this.writer = await this.instance.connect()
      await this.writer.run(CREATE_TABLES)
      await this.writer.run(CREATE_STAGING)
      // A sorted copy left by a cluster() that did not finish.
      await this.writer.run('DROP TABLE IF EXISTS events_clustering')
      const through = await clusteredThrough(this.writer)
      const reader = await this.writer.runAndReadAll(
        `SELECT coalesce(max(ingested_at), 0)::DOUBLE, count(*)::DOUBLE, count(*) FILTER (WHERE ingested_at > ${through})::DOUBLE FROM events`,
      )
      const [lastIngestedAt, totalRows, unclusteredRows] = reader.getRows()[0] as number[]
      this.lastIngestedAt = Math.max(lastIngestedAt!, through + 1)
      this.totalRows = totalRows!
      this.unclusteredRows = unclusteredRows!
      this.state = 'open'
    } catch (error) {
      this.release()
      throw error
    }
  }

  async close(): Promise<void> {
    if (this.state !== 'open') {
      this.state = 'closed'
      return
    }
    this.state = 'closed'
    this.clusterConnection?.interrupt()
    await this.clustering?.catch(() => undefined)
    await this.queue.catch(() => undefined)
    this.release()
  }

  private release(): void {
    for (const connection of [...this.idleReaders, ...this.busyReaders]) connection.closeSync()
    this.idleReaders.length = 0
    this.busyReaders.clear()
    this.writer?.closeSync()
    this.writer = undefined
    this.instance?.closeSync()
    this.instance = undefined
    openPaths.delete(this.path)
  }

  private assertOpen(): void {
    if (this.state === 'closed') throw new ClosedError('event store')
    if (this.state === 'new') throw new InvalidOptionError('open', 'call open() before using the store')
  }

  /** Runs `task` on the writer connection after every write queued before it. */
  enqueue<T>(task: (writer: DuckDBConnection) => Promise<T>): Promise<T> {
    try {
      this.assertOpen()
    } catch (error) {
      return Promise.reject(error)
    }
    const run = this.queue.then(() => task(this.writer!))
    this.queue = run.catch(() => undefined)
    return run
  }

  write(batch: WriteBatch): Promise<WriteResult> {
    try {
      checkStorableBatch(batch)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.enqueue(async (writer) => {
      const ingestedAt = Math.max(Date.now(), this.lastIngestedAt)
      const events = batch.events
      let stored = 0
      let duplicates = 0
      let optimistic = events.length > 0 && (this.options.appendMode ?? 'optimistic') === 'optimistic' && this.stagedWrites === 0
      if (events.length > 0 && !optimistic && this.stagedWrites > 0) this.stagedWrites--
      for (;;) {
        await writer.run('BEGIN TRANSACTION')
        try {
          if (optimistic) {
            // Most writes bring only new keys: the primary key checks them as they are appended, and refuses the append if one is not.
            try {
              await appendEvents(writer, EVENTS_TABLE, events, ingestedAt)
            } catch (error) {
              if (!isKeyConflict(error)) throw error
              await writer.run('ROLLBACK')
              this.writePaths.conflicts++
              this.stagedWrites = STAGED_AFTER_CONFLICT
              optimistic = false
              continue
            }
            stored = events.length
            this.writePaths.appended++
          } else if (events.length > 0) {
            // The first of each (bucket, key) in the batch; later ones are duplicates.
            const unique = firstOfEachKey(events)
            await writer.run(`DELETE FROM ${STAGING_TABLE}`)
            await appendEvents(writer, STAGING_TABLE, unique)
            stored = (await writer.run(insertStagedSql(ingestedAt))).rowsChanged
            duplicates = events.length - stored
            this.writePaths.staged++
          }
          for (const checkpoint of batch.checkpoints ?? []) {
            await writer.run('INSERT OR REPLACE INTO checkpoints (name, position) VALUES ($1, $2)', [checkpoint.name, checkpoint.position])
          }
          for (const reject of batch.rejects ?? []) {
            await writer.run(
              'INSERT INTO rejects (origin, time, method, path, content_type, reason, message, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
              [reject.origin, BigInt(reject.time), reject.method, reject.path, reject.contentType, reject.reason, reject.message, blobValue(reject.body)],
            )
          }
          await writer.run('COMMIT')
        } catch (error) {
          await writer.run('ROLLBACK').catch(() => undefined)
          throw storeError('write', error)
        }
        break
      }
      this.lastIngestedAt = ingestedAt
      this.totalRows += stored
      this.unclusteredRows += stored
      const threshold = this.options.clusterAfterRows ?? DEFAULT_CLUSTER_AFTER_ROWS
      if (!batch.more && threshold > 0 && this.unclusteredRows >= threshold && this.unclusteredRows * 4 >= this.totalRows) {
        this.cluster().then(
          () => (this.lastClusterError = undefined),
          (error: Error) => (this.lastClusterError = error),
        )
      }
      return { stored, duplicates }
    })
  }

  /**
   * Rewrites `events` in (bucket, key) order so that range reads scan only
   * the row groups of their range (zone maps). The sorted copy is built on a
   * connection of its own while writes go on; writes wait only for the swap,
   * which appends the rows stored meanwhile and renames the copy, in one
   * transaction. Reads go on throughout, each on its snapshot. One runs at a
   * time: a call while one runs gets that one's result.
   */
  cluster(): Promise<ClusterResult> {
    this.clustering ??= this.runCluster().finally(() => (this.clustering = undefined))
    return this.clustering
  }

  /** Resolves once the cluster() under way, if any, has finished (whether or not it succeeded). */
  async whenClustered(): Promise<void> {
    await this.clustering?.catch(() => undefined)
  }

  private async runCluster(): Promise<ClusterResult> {
    const started = performance.now()
    // Between writes: every row committed so far has ingested_at ≤ mark, every later one more.
    const { mark, pending } = await this.enqueue(async () => {
      const mark = this.lastIngestedAt
      this.lastIngestedAt = mark + 1
      return { mark, pending: this.unclusteredRows }
    })
    this.assertOpen()
    const connection = await this.instance!.connect()
    this.clusterConnection = connection
    try {
      await connection.run('DROP TABLE IF EXISTS events_clustering')
      await connection.run(eventsTableSql('events_clustering'))
      await connection.run(`INSERT INTO events_clustering SELECT * FROM events WHERE ingested_at <= ${mark} ORDER BY bucket, key`)
    } catch (error) {
      if (this.state === 'closed') throw new ClosedError('event store')
      throw storeError('cluster', error)
    } finally {
      this.clusterConnection = undefined
      connection.closeSync()
    }
    return this.enqueue(async (writer) => {
      await writer.run('BEGIN TRANSACTION')
      try {
        await writer.run(`INSERT INTO events_clustering SELECT * FROM events WHERE ingested_at > ${mark}`)
        await writer.run('DROP TABLE events')
        await writer.run('ALTER TABLE events_clustering RENAME TO events')
        await writer.run(`INSERT OR REPLACE INTO store_state (name, value) VALUES ('${CLUSTERED_THROUGH}', ${mark})`)
        await writer.run('COMMIT')
      } catch (error) {
        await writer.run('ROLLBACK').catch(() => undefined)
        throw storeError('cluster', error)
      }
      this.unclusteredRows -= pending
      return { rows: this.totalRows, ms: performance.now() - started }
    })
  }

  /**
   * Pages of `readPageRows` events in key order, all in one read transaction
   * (one snapshot). Each page merges two queries: the rows cluster() put in
   * key order, streamed in storage order with no ORDER BY (DuckDB keeps
   * insertion order, so the scan starts at the range, found by the zone maps,
   * and stops after the page), and the rows stored since, sorted by a bounded
   * top-N. Memory stays flat for any bucket size.
   */
  async *read(query: RangeQuery): AsyncIterable<EventRecord> {
    this.assertOpen()
    const pageRows = this.options.readPageRows ?? DEFAULT_READ_PAGE_ROWS
    let remaining = query.limit === undefined ? Infinity : Math.max(0, Math.floor(query.limit))
    if (remaining === 0) return
    const connection = await this.takeReader()
    let clean = false
    try {
      await connection.run('BEGIN TRANSACTION')
      const through = await clusteredThrough(connection)
      let after = query.after
      for (;;) {
        const limit = Math.min(pageRows, remaining)
        const page: RangeQuery = { ...query, ...(after === undefined ? {} : { after }), limit }
        let rows = 0
        if (through < 0) {
          for await (const event of streamRows(connection, query.bucket, rangeSql(page, 'all', through))) {
            yield event
            rows++
            after = event.key
          }
        } else {
          const tail = await collectRows(connection, query.bucket, rangeSql(page, 'unclustered', through))
          let next = 0
          for await (const event of streamRows(connection, query.bucket, rangeSql(page, 'clustered', through))) {
            while (next < tail.length && rows < limit && Buffer.compare(tail[next]!.key, event.key) < 0) {
              after = tail[next]!.key
              yield tail[next++]!
              rows++
            }
            if (rows === limit) break
            after = event.key
            yield event
            if (++rows === limit) break
          }
          while (next < tail.length && rows < limit) {
            after = tail[next]!.key
            yield tail[next++]!
            rows++
          }
        }
        remaining -= rows
        if (rows < limit || remaining === 0) break
      }
      await connection.run('COMMIT')
      clean = true
    } catch (error) {
      // close() ends reads under way: they fail with LS_CLOSED rather than DuckDB's "connection disconnected".
      if (this.state === 'closed') throw new ClosedError('event store')
      throw storeError('read', error)
    } finally {
      // Left early (break, error): end the transaction before the connection is reused.
      if (!clean) await connection.run('ROLLBACK').catch(() => undefined)
      this.returnReader(connection)
    }
  }

  async buckets(): Promise<BucketCount[]> {
    const rows = await this.sql.query<{ bucket: string; count: number }>('SELECT bucket, count(*) AS count FROM events GROUP BY bucket ORDER BY bucket')
    return rows.map((row) => ({ bucket: row.bucket, count: row.count }))
  }

  async checkpoints(prefix = ''): Promise<Checkpoint[]> {
    // starts_with, not LIKE: a prefix is literal.
    return this.sql.query<Checkpoint>(`SELECT name, position FROM checkpoints WHERE starts_with(name, ${this.sql.literal(prefix)}) ORDER BY name`)
  }

  async rejects(limit?: number): Promise<(RejectedRequest & { id: number })[]> {
    const limitSql = limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(limit))}`
    const rows = await this.sql.query<Record<string, unknown>>(
      `SELECT id, origin, time, method, path, content_type, reason, message, body FROM rejects ORDER BY id DESC${limitSql}`,
    )
    return rows.map((row) => ({
      id: row['id'] as number,
      origin: row['origin'] as string,
      time: row['time'] as number,
      method: row['method'] as string,
      path: row['path'] as string,
      contentType: row['content_type'] as string,
      reason: row['reason'] as string,
      message: row['message'] as string,
      body: row['body'] as Uint8Array,
    }))
  }

  /** A connection for one read: reads do not wait for writes, and see what was committed when they began. */
  async takeReader(): Promise<DuckDBConnection> {
    this.assertOpen()
    const connection = this.idleReaders.pop() ?? (await this.instance!.connect())
    this.busyReaders.add(connection)
    return connection
  }

  returnReader(connection: DuckDBConnection, reusable = true): void {
    if (!this.busyReaders.delete(connection)) return
    if (reusable && this.state === 'open' && this.idleReaders.length < (this.options.readConnections ?? 4)) {
      this.idleReaders.push(connection)
    } else {
      connection.closeSync()
    }
  }
}

function keyId(event: EventRecord): string {
  return event.bucket + '\u0000' + Buffer.from(event.key.buffer, event.key.byteOffset, event.key.byteLength).toString('latin1')
}

function firstOfEachKey(events: readonly EventRecord[]): EventRecord[] {
  if (events.length <= 1) return [...events]
  const seen = new Set<string>()
  const unique: EventRecord[] = []
  for (const event of events) {
    const id = keyId(event)
    if (seen.has(id)) continue
    seen.add(id)
    unique.push(event)
  }
  return unique
}

/**
 * Appends events to `table`: `events` (with `ingestedAt`) or the staging
 * table (without). Times go in as doubles and DuckDB casts them to BIGINT:
 * no BigInt per value, and every safe integer is exact in a double.
 */
async function appendEvents(writer: DuckDBConnection, table: string, events: readonly EventRecord[], ingestedAt?: number): Promise<void> {
  const appender = await writer.createAppender(table)
  try {
    for (const event of events) {
      appender.appendVarchar(event.bucket)
      appender.appendBlob(event.key)
      if (typeof event.type === 'number') {
        appender.appendVarchar(String(event.type))
        appender.appendBoolean(true)
      } else {
        appender.appendVarchar(event.type)
        appender.appendBoolean(false)
      }
      appender.appendVarchar(event.value)
      appender.appendDouble(event.clientTime)
      appender.appendDouble(event.serverTime)
      if (event.originalClientTime === null) appender.appendNull()
      else appender.appendDouble(event.originalClientTime)
      appendNullableText(appender, event.userId)
      appendNullableText(appender, event.anonymousId)
      appendNullableText(appender, event.producer)
      appendNullableText(appender, event.ip)
      appender.appendVarchar(event.source)
      if (ingestedAt !== undefined) appender.appendDouble(ingestedAt)
      appender.endRow()
    }
    appender.flushSync()
  } catch (error) {
    // Drop the rows it still holds: an appender closed later (by its finalizer) would flush them into whatever transaction is open then.
    try {
      appender.clear()
      appender.closeSync()
    } catch {
      // The transaction is aborted; the append's own error is the one to report.
    }
    throw error
  }
  appender.closeSync()
}

/** The primary key refused a row: a (bucket, key) already stored or earlier in the same append. */
function isKeyConflict(error: unknown): boolean {
  // DuckDB words it "Duplicate key ... violates primary key constraint" (a stored key) or "... constraint violation: duplicate key ..." (twice in the append).
  return error instanceof Error && /duplicate key/i.test(error.message)
}

function appendNullableText(appender: { appendVarchar(value: string): void; appendNull(): void }, value: string | null): void {
  if (value === null) appender.appendNull()
  else appender.appendVarchar(value)
}

/**
 * Which rows a range query reads: `all` sorted by key (nothing clustered yet);
 * `clustered`, the rows cluster() wrote (ingested_at ≤ its mark), in storage
 * order, which is key order; `unclustered`, the rows stored since, sorted.
 */
type RangePart = 'all' | 'clustered' | 'unclustered'

/** The SELECT for a range query, with its parameters ($1 ...). */
export function rangeSql(query: RangeQuery, part: RangePart = 'all', clusteredThrough = -1): { sql: string; params: DuckDBValue[] } {
  const params: DuckDBValue[] = [query.bucket]
  const where = ['bucket = $1']
  const param = (value: DuckDBValue) => {
    params.push(value)
    return `$${params.length}`
  }
  if (query.from !== undefined) where.push(`key >= ${param(blobValue(query.from))}`)
  if (query.after !== undefined) where.push(`key > ${param(blobValue(query.after))}`)
  if (query.to !== undefined) where.push(`key < ${param(blobValue(query.to))}`)
  if (query.serverTimeFrom !== undefined) where.push(`server_time >= ${param(BigInt(query.serverTimeFrom))}`)
  if (query.serverTimeTo !== undefined) where.push(`server_time < ${param(BigInt(query.serverTimeTo))}`)
  if (query.clientTimeFrom !== undefined) where.push(`client_time >= ${param(BigInt(query.clientTimeFrom))}`)
  if (query.clientTimeTo !== undefined) where.push(`client_time < ${param(BigInt(query.clientTimeTo))}`)
  if (query.types !== undefined && query.types.length > 0) where.push(`type IN (${query.types.map((type) => param(type)).join(', ')})`)
  if (part === 'clustered') where.push(`ingested_at <= ${param(BigInt(clusteredThrough))}`)
  if (part === 'unclustered') where.push(`ingested_at > ${param(BigInt(clusteredThrough))}`)
  const order = part === 'clustered' ? '' : ' ORDER BY key'
  const limit = query.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(query.limit))}`
  return { sql: `SELECT ${READ_COLUMNS} FROM events WHERE ${where.join(' AND ')}${order}${limit}`, params }
}

/** The cluster() mark in the caller's snapshot: rows with ingested_at up to it are in key order; -1 when never clustered. */
async function clusteredThrough(connection: DuckDBConnection): Promise<number> {
  const reader = await connection.runAndReadAll(`SELECT value::DOUBLE FROM store_state WHERE name = '${CLUSTERED_THROUGH}'`)
  const rows = reader.getRows()
  return rows.length === 0 ? -1 : (rows[0]![0] as number)
}

/** The rows of a range query, chunk by chunk as DuckDB produces them. */
async function* streamRows(connection: DuckDBConnection, bucket: string, { sql, params }: { sql: string; params: DuckDBValue[] }): AsyncGenerator<EventRecord> {
  const result = await connection.stream(sql, params)
  for (;;) {
    const chunk = await result.fetchChunk()
    if (chunk === null || chunk.rowCount === 0) return
    const [keys, types, isCodes, values, clientTimes, serverTimes, originalClientTimes, userIds, anonymousIds, producers, ips, sources] = chunk.getColumns() as DuckDBValue[][]
    for (let i = 0; i < chunk.rowCount; i++) {
      yield {
        bucket,
        key: (keys![i] as DuckDBBlobValue).bytes,
        type: isCodes![i] ? Number(types![i]) : (types![i] as string),
        value: values![i] as string,
        clientTime: clientTimes![i] as number,
        serverTime: serverTimes![i] as number,
        originalClientTime: originalClientTimes![i] as number | null,
        userId: userIds![i] as string | null,
        anonymousId: anonymousIds![i] as string | null,
        producer: producers![i] as string | null,
        ip: ips![i] as string | null,
        source: sources![i] as string,
      }
    }
  }
}

async function collectRows(connection: DuckDBConnection, bucket: string, query: { sql: string; params: DuckDBValue[] }): Promise<EventRecord[]> {
  const rows: EventRecord[] = []
  for await (const event of streamRows(connection, bucket, query)) rows.push(event)
  return rows
}

function storeError(what: string, error: unknown): LoggingSystemError {
  if (error instanceof LoggingSystemError) return error
  return new StoreUnavailableError(`${what} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
}

/** A JS value from DuckDB: 64-bit integers as numbers (they are ms times and counts). */
function plainValue(value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value
}

class DuckDbSql implements SqlAccess {
  readonly dialect = 'duckdb' as const

  constructor(private readonly store: DuckDbEventStore) {}

  async query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const connection = await this.store.takeReader()
    try {
      const reader = await connection.runAndReadAll(sql)
      return reader.getRowObjectsJS().map((row) => {
        for (const name of Object.keys(row)) row[name] = plainValue(row[name]) as never
        return row as T
      })
    } finally {
      this.store.returnReader(connection)
    }
  }

  /** On the writer connection, after the writes queued before it: DDL and INSERTs are ordered with write(). */
  exec(sql: string): Promise<void> {
    return this.store.enqueue(async (writer) => {
      await writer.run(sql)
    })
  }

  literal(value: string | number | null | Uint8Array): string {
    if (value === null) return 'NULL'
    if (value instanceof Uint8Array) return `from_hex('${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}')`
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new InvalidOptionError('literal', `${value} has no SQL literal`)
      return Number.isInteger(value) ? String(value) : `${value}::DOUBLE`
    }
    // DuckDB's parser reads the statement as a C string: a NUL goes in as chr(0).
    const parts = value.split('\u0000').map((part) => `'${part.replace(/'/g, "''")}'`)
    return parts.length === 1 ? parts[0]! : `(${parts.join(' || chr(0) || ')})`
  }
}
