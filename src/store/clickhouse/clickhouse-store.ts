/**
 * The EventStore at scale: ClickHouse through @clickhouse/client, in SQL that
 * Debian's 18.16 and current releases both accept (docs/clickhouse.md).
 *
 * - One server, or a cluster (`cluster` = a remote_servers name): each node
 *   has `events_local`, and `events` is a Distributed table over them sharded
 *   by cityHash64(bucket), so a bucket lives on one shard and its range reads
 *   stay seeks. Inserts through it wait for every shard
 *   (insert_distributed_sync=1). Checkpoints and rejects stay on the node
 *   `url` names.
 * - ClickHouse has no transactions and no unique keys. Writes go one at a
 *   time (a promise queue): the keys of a batch already stored are looked up
 *   first and skipped (counted as duplicates), then the new events are
 *   inserted, then the rejects, then the checkpoints. A crash between those
 *   steps leaves events without their checkpoint; the tailer replays from the
 *   older checkpoint and the lookup finds those events already there, so
 *   every event is stored once. Should two writers still race on a key, the
 *   table keeps the first write (see schema.ts) and every read collapses
 *   duplicates (FINAL), so a key is read once.
 * - Durable when write() resolves means: ClickHouse wrote the parts (it does
 *   not fsync by default, so a power cut can lose the last seconds; a crash of
 *   this process cannot).
 */
import { Readable } from 'node:stream'
import { createClient, ClickHouseLogLevel, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client'
import { ClosedError, InvalidOptionError, LoggingSystemError, StoreUnavailableError } from '../../errors.js'
import type { EventRecord } from '../../model/event-record.js'
import type { BucketCount, Checkpoint, EventStore, RangeQuery, RejectedRequest, SqlAccess, WriteBatch, WriteResult } from '../event-store.js'
import { checkStorableBatch, typeColumns } from '../storable.js'
import {
  createCheckpointsSql, createDistributedEventsSql, createEventsTableSql, createRejectsSql,
  INSERT_COLUMNS, READ_COLUMNS, REJECT_COLUMNS,
} from './schema.js'
import { eventOfRow, type EventRow } from '../event-row.js'
import { bytesOfHex, checkIdentifier, hexOf, sqlLiteral, TsvRows } from './sql-text.js'

export const DEFAULT_CLICKHOUSE_URL = 'http://127.0.0.1:8123'
export const DEFAULT_CLICKHOUSE_DATABASE = 'logging_system'
/** Events per read round trip (a page is held in memory whole). */
export const DEFAULT_READ_PAGE_SIZE = 5_000
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000

export interface ClickHouseEventStoreOptions {
  /**
   * The HTTP interface of the server (or, in a cluster, the node this store
   * talks to). A path names the database, user:password@ the credentials,
   * and `?cluster=NAME&nodes=URL,URL` the cluster, e.g.
   * `http://ingest:secret@10.0.0.5:8123/events?cluster=events_cluster`,
   * unless the options below say otherwise (so `--clickhouse URL` can say
   * all of it). Default `http://127.0.0.1:8123`.
   */
  url?: string
  /** Created when missing. Default: the URL's path, else `logging_system`. */
  database?: string
  /** Default: the URL's user, else `default`. */
  username?: string
  /** Default: the URL's password, else empty. */
  password?: string
  /**
   * A cluster name from the servers' remote_servers: events go into a
   * Distributed table sharded by bucket. Default: the URL's `cluster`, else
   * none (one server).
   */
  cluster?: string
  /**
   * The HTTP URLs of the cluster's nodes, for creating `events_local` on each
   * (ON CLUSTER needs ZooKeeper, so DDL runs node by node). Default: the
   * URL's `nodes`, else just `url`; then the other nodes must already have
   * the tables, which open() checks.
   */
  clusterNodes?: readonly string[]
  /** Events per read round trip. Default 5,000. */
  readPageSize?: number
  /** A request to ClickHouse that takes longer fails. Default 60,000 ms. */
  requestTimeoutMs?: number
}

const LOCAL_EVENTS_TABLE = 'events_local'
/** Keep each generated query well under ClickHouse's max_query_size (256 KiB). */
const MAX_QUERY_CHARS = 200_000
/** A bucket with at least this many keys in a write gets a key lookup of its own. */
const BUCKET_LOOKUP_MIN_KEYS = 50
/** Key-range checks OR'd into one query. */
const RANGE_CHECKS_PER_QUERY = 100
/** Insert bodies are sent in chunks of about this size. */
const INSERT_CHUNK_BYTES = 1 << 20

/** Settings on every request: 64-bit integers as JSON numbers, and an error mid-result is an error. */
const COMMON_SETTINGS: ClickHouseSettings = { output_format_json_quote_64bit_integers: 0, wait_end_of_query: 1 }

export class ClickHouseEventStore implements EventStore {
  readonly kind = 'clickhouse' as const
  readonly url: string
  readonly database: string
  readonly cluster: string | undefined
  readonly sql: SqlAccess
  private readonly options: ClickHouseEventStoreOptions
  private readonly username: string
  private readonly password: string
  private readonly clusterNodes: readonly string[] = []
  private readonly pageSize: number
  private client: ClickHouseClient | undefined
  /** The tail of the write queue: each write starts when the one before it settled. */
  private queue: Promise<unknown> = Promise.resolve()
  /** The ingested_at of the last write: the next one is never lower, even if the clock steps back. */
  private lastIngestedAt = 0
  private lastCheckpointSeq = 0
  private lastRejectId = 0
  private state: 'new' | 'open' | 'closed' = 'new'

  constructor(options: ClickHouseEventStoreOptions = {}) {
    const url = parseServerUrl('url', options.url ?? DEFAULT_CLICKHOUSE_URL)
    this.url = url.origin
    this.database = checkIdentifier('database', options.database ?? url.database ?? DEFAULT_CLICKHOUSE_DATABASE)
    this.username = options.username ?? url.username ?? 'default'
    this.password = options.password ?? url.password ?? ''
    const cluster = options.cluster ?? url.cluster
    this.cluster = cluster === undefined ? undefined : checkIdentifier('cluster', cluster)
    const clusterNodes = options.clusterNodes ?? url.clusterNodes
    if (clusterNodes !== undefined) {
      if (this.cluster === undefined) throw new InvalidOptionError('clusterNodes', 'needs the cluster option')
      if (!Array.isArray(clusterNodes)) throw new InvalidOptionError('clusterNodes', 'must be a list of URLs')
      this.clusterNodes = clusterNodes.map((node) => parseServerUrl('clusterNodes', node).origin)
    }
    this.pageSize = options.readPageSize ?? DEFAULT_READ_PAGE_SIZE
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1) throw new InvalidOptionError('readPageSize', 'must be an integer ≥ 1')
    const timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    if (!Number.isInteger(timeout) || timeout < 1) throw new InvalidOptionError('requestTimeoutMs', 'must be an integer ≥ 1 (ms)')
    this.options = options
    this.sql = new ClickHouseSql(this)
  }

  async open(): Promise<void> {
    if (this.state !== 'new') throw new InvalidOptionError('open', 'a store opens once; make a new one to reopen')
    const db = this.database
    try {
      const nodes = this.cluster === undefined ? [this.url] : [...new Set([this.url, ...this.clusterNodes])]
      for (const node of nodes) {
        await this.withClient(node, undefined, async (client) => {
          await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` })
          if (this.cluster === undefined) {
            await client.command({ query: createEventsTableSql(db, 'events') })
          } else {
            await client.command({ query: createEventsTableSql(db, LOCAL_EVENTS_TABLE) })
            await client.command({ query: createDistributedEventsSql(db, this.cluster, LOCAL_EVENTS_TABLE) })
          }
        })
      }
      this.client = this.makeClient(this.url, db)
      await this.client.command({ query: createCheckpointsSql(db) })
      await this.client.command({ query: createRejectsSql(db) })
      await this.checkEventsEngine()
      if (this.cluster !== undefined) await this.checkCluster()
      const [row] = await this.queryRows<{ ingested: number; seq: number; id: number }>(
        'SELECT (SELECT max(ingested_at) FROM events) AS ingested, (SELECT max(seq) FROM checkpoints) AS seq, (SELECT max(id) FROM rejects) AS id',
      )
      this.lastIngestedAt = row!.ingested
      this.lastCheckpointSeq = row!.seq
      this.lastRejectId = row!.id
      this.state = 'open'
    } catch (error) {
      await this.client?.close().catch(() => undefined)
      this.client = undefined
      this.state = 'closed'
      throw storeError(`open ${this.url}`, error)
    }
  }

  async close(): Promise<void> {
    if (this.state !== 'open') {
      this.state = 'closed'
      return
    }
    this.state = 'closed'
    await this.queue.catch(() => undefined)
    await this.client?.close()
    this.client = undefined
  }

  write(batch: WriteBatch): Promise<WriteResult> {
    try {
      checkStorableBatch(batch)
    } catch (error) {
      return Promise.reject(error)
    }
    const unique = firstOfEachKey(batch.events)
    const inBatchDuplicates = batch.events.length - unique.length
    return this.enqueue(async () => {
      try {
        const stored = await this.storedKeys(unique)
        const fresh = unique.filter((event) => !stored.has(keyId(event.bucket, hexOf(event.key))))
        const ingestedAt = Math.max(Date.now(), this.lastIngestedAt)
        if (fresh.length > 0) await this.insertTsv('events', INSERT_COLUMNS, eventRows(fresh, ingestedAt))
        this.lastIngestedAt = ingestedAt
        await this.insertRejects(batch.rejects ?? [])
        const checkpoints = batch.checkpoints ?? []
        if (checkpoints.length > 0) {
          const seq = ++this.lastCheckpointSeq
          const rows = new TsvRows()
          for (const checkpoint of checkpoints) rows.text(checkpoint.name).text(checkpoint.position).integer(seq).endRow()
          await this.insertTsv('checkpoints', ['name', 'position', 'seq'], [rows.take()])
        }
        return { stored: fresh.length, duplicates: inBatchDuplicates + (unique.length - fresh.length) }
      } catch (error) {
        throw storeError('write', error)
      }
    })
  }

  /**
   * Events in key order, a page per round trip. 18.16 cannot stop an ORDER BY
   * early (no read-in-order), so each page first finds an upper key bound:
   * any `page` rows of the range (read without sorting, which stops after
   * `page` rows) end at a key K with at least `page` rows in [start, K]. The
   * page is then the sorted, deduplicated rows up to K: a seek over a bounded
   * stretch of the index, however big the bucket.
   */
  async *read(query: RangeQuery): AsyncIterable<EventRecord> {
    this.assertOpen()
    const limit = query.limit === undefined ? Infinity : Math.max(0, Math.floor(query.limit))
    const filters = rangeFilters(query)
    let after = query.after
    let yielded = 0
    while (yielded < limit) {
      const page = Math.min(this.pageSize, limit - yielded)
      const where = [...filters, ...(after === undefined ? [] : [`key > ${sqlLiteral(after)}`])].join(' AND ')
      const [bound] = await this.queryRows<{ last_hex: string; n: number }>(
        `SELECT hex(max(key)) AS last_hex, count() AS n FROM (SELECT key FROM events WHERE ${where} LIMIT ${page})`,
        { max_threads: 1 },
      )
      if (!bound || bound.n === 0) return
      const last = bytesOfHex(bound.last_hex)
      const rows = await this.queryRows<EventRow>(
        `SELECT ${READ_COLUMNS} FROM events FINAL WHERE ${where} AND key <= ${sqlLiteral(last)} ORDER BY key LIMIT ${page}`,
        // A filter on a non-key column must see the row FINAL keeps, not a later duplicate.
        { optimize_move_to_prewhere: 0 },
      )
      for (const row of rows) yield eventOfRow(row, query.bucket)
      yielded += rows.length
      // Fewer rows than asked: [after, last] is exhausted; the probe saw fewer than `page`: so is the range.
      if (rows.length < page && bound.n < page) return
      after = rows.length < page ? last : bytesOfHex(rows[rows.length - 1]!.key_hex)
    }
  }

  async buckets(): Promise<BucketCount[]> {
    this.assertOpen()
    // uniqExact(key): a duplicate two writers raced in is not counted twice.
    return this.queryRows<BucketCount>('SELECT bucket, uniqExact(key) AS count FROM events GROUP BY bucket ORDER BY bucket')
  }

  async checkpoints(prefix = ''): Promise<Checkpoint[]> {
    this.assertOpen()
    // substring, not LIKE: a prefix is literal. Both count bytes.
    const where = prefix === '' ? '' : `WHERE substring(name, 1, ${Buffer.byteLength(prefix)}) = ${sqlLiteral(prefix)}`
    return this.queryRows<Checkpoint>(`SELECT name, argMax(position, seq) AS position FROM checkpoints ${where} GROUP BY name ORDER BY name`)
  }

  async rejects(limit?: number): Promise<(RejectedRequest & { id: number })[]> {
    this.assertOpen()
    const limitSql = limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(limit))}`
    const rows = await this.queryRows<Record<string, unknown>>(
      `SELECT id, origin, time, method, path, content_type, reason, message, hex(body) AS body_hex FROM rejects ORDER BY id DESC${limitSql}`,
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
      body: bytesOfHex(row['body_hex'] as string),
    }))
  }

  /** Runs `task` after every write queued before it. */
  enqueue<T>(task: () => Promise<T>): Promise<T> {
    try {
      this.assertOpen()
    } catch (error) {
      return Promise.reject(error)
    }
    const run = this.queue.then(task)
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Rows of a SELECT as objects (JSONEachRow). */
  async queryRows<T>(sql: string, settings: ClickHouseSettings = {}): Promise<T[]> {
    const result = await this.openClient().query({ query: sql, format: 'JSONEachRow', clickhouse_settings: settings })
    return result.json<T>()
  }

  async command(sql: string): Promise<void> {
    await this.openClient().command({ query: sql })
  }

  private openClient(): ClickHouseClient {
    this.assertOpen()
    return this.client!
  }

  private assertOpen(): void {
    if (this.state === 'closed') throw new ClosedError('event store')
    if (this.state === 'new' && this.client === undefined) throw new InvalidOptionError('open', 'call open() before using the store')
  }

  private makeClient(url: string, database: string | undefined): ClickHouseClient {
    return createClient({
      url,
      ...(database === undefined ? {} : { database }),
      username: this.username,
      password: this.password,
      request_timeout: this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      clickhouse_settings: { ...COMMON_SETTINGS, ...(this.cluster === undefined ? {} : { insert_distributed_sync: 1 }) },
      // Failures reach the caller as errors; the client's own log would say each twice.
      log: { level: ClickHouseLogLevel.OFF },
    })
  }

  private async withClient(url: string, database: string | undefined, task: (client: ClickHouseClient) => Promise<void>): Promise<void> {
    const client = this.makeClient(url, database)
    try {
      await task(client)
    } catch (error) {
      throw new StoreUnavailableError(`${url}: ${clickHouseMessage(error)}`, { cause: error })
    } finally {
      await client.close()
    }
  }

  /** `events` is what the options say (a database made for one server and opened as a cluster, or back, is refused). */
  private async checkEventsEngine(): Promise<void> {
    const expected = this.cluster === undefined ? 'ReplacingMergeTree' : 'Distributed'
    const [row] = await this.queryRows<{ engine: string }>(
      `SELECT engine FROM system.tables WHERE database = ${sqlLiteral(this.database)} AND name = 'events'`,
    )
    if (row?.engine !== expected) {
      throw new StoreUnavailableError(
        `${this.database}.events is ${row?.engine ?? 'missing'}, expected ${expected} ${this.cluster === undefined ? '(one server)' : `(cluster ${this.cluster})`}: use the cluster option the database was made with, or another database`,
      )
    }
  }

  /** Every shard of the cluster answers and has events_local (DDL ran there, by clusterNodes or by hand). */
  private async checkCluster(): Promise<void> {
    const shards = await this.queryRows<{ shard_num: number; host_address: string; port: number }>(
      `SELECT shard_num, host_address, port FROM system.clusters WHERE cluster = ${sqlLiteral(this.cluster!)} ORDER BY shard_num`,
    )
    if (shards.length === 0) throw new StoreUnavailableError(`cluster ${this.cluster} is not in the remote_servers of ${this.url}`)
    for (const shard of shards) {
      const address = `${shard.host_address}:${shard.port}`
      try {
        await this.queryRows(`SELECT count() FROM remote(${sqlLiteral(address)}, ${this.database}, ${LOCAL_EVENTS_TABLE}) LIMIT 1`)
      } catch (error) {
        throw new StoreUnavailableError(
          `shard ${shard.shard_num} (${address}) of cluster ${this.cluster} has no usable ${this.database}.${LOCAL_EVENTS_TABLE}: ${clickHouseMessage(error)}; list every node's HTTP URL in clusterNodes so open() creates it`,
          { cause: error },
        )
      }
    }
  }

  /**
   * The (bucket, key) ids among `events` already in the store. Measured on
   * 18.16: a per-column `bucket = .. AND key IN (..)` of plain literals is
   * the fast form for a bucket with many keys; buckets with few keys share
   * one `(bucket, key) IN (..)` (an OR of thousands of clauses is far slower).
   * A bucket with many keys is first asked whether anything is stored
   * between its lowest and highest new key: for keys that grow with time,
   * the usual case, nothing is, and one index seek replaces the key list.
   * Each query stays under MAX_QUERY_CHARS.
   */
  private async storedKeys(events: readonly EventRecord[]): Promise<Set<string>> {
    const stored = new Set<string>()
    const byBucket = new Map<string, EventRecord[]>()
    for (const event of events) {
      const group = byBucket.get(event.bucket)
      if (group) group.push(event)
      else byBucket.set(event.bucket, [event])
    }
    const lookup = async (where: string): Promise<void> => {
      const rows = await this.queryRows<{ bucket: string; key_hex: string }>(`SELECT DISTINCT bucket, hex(key) AS key_hex FROM events WHERE ${where}`)
      for (const row of rows) stored.add(keyId(row.bucket, row.key_hex.toLowerCase()))
    }
    const pairs: string[] = []
    const large: Array<[string, EventRecord[]]> = []
    for (const [bucket, group] of byBucket) {
      if (group.length >= BUCKET_LOOKUP_MIN_KEYS) large.push([bucket, group])
      else for (const event of group) pairs.push(`(${sqlLiteral(bucket)}, ${sqlLiteral(event.key)})`)
    }
    for (const bucket of await this.bucketsWithKeysIn(large)) {
      const keys = byBucket.get(bucket)!.map((event) => sqlLiteral(event.key))
      for (const list of boundedLists(keys)) await lookup(`bucket = ${sqlLiteral(bucket)} AND key IN (${list})`)
    }
    for (const list of boundedLists(pairs)) await lookup(`(bucket, key) IN (${list})`)
    return stored
  }

  /** Which of these buckets have a stored key between the lowest and the highest of the group's keys. */
  private async bucketsWithKeysIn(groups: ReadonlyArray<[string, EventRecord[]]>): Promise<string[]> {
    const ranges = groups.map(([bucket, group]) => {
      let low = group[0]!.key
      let high = low
      for (const { key } of group) {
        if (Buffer.compare(key, low) < 0) low = key
        else if (Buffer.compare(key, high) > 0) high = key
      }
      return `(bucket = ${sqlLiteral(bucket)} AND key >= ${sqlLiteral(low)} AND key <= ${sqlLiteral(high)})`
    })
    const found: string[] = []
    for (let i = 0; i < ranges.length; i += RANGE_CHECKS_PER_QUERY) {
      const rows = await this.queryRows<{ bucket: string }>(`SELECT DISTINCT bucket FROM events WHERE ${ranges.slice(i, i + RANGE_CHECKS_PER_QUERY).join(' OR ')}`)
      for (const row of rows) found.push(row.bucket)
    }
    return found
  }

  /**
   * Rejects get increasing ids. A tailed request (origin `tail:...`, one per
   * logged request) already stored is not stored twice: the tailer replays
   * it after a crash between the rejects and the checkpoint. Any other
   * origin (`direct`, ...) is never replayed, so each reject is new.
   */
  private async insertRejects(rejects: readonly RejectedRequest[]): Promise<void> {
    if (rejects.length === 0) return
    const replayable = [...new Set(rejects.map((r) => r.origin).filter(isReplayableOrigin))]
    const seen = new Set<string>()
    for (let i = 0; i < replayable.length; i += 1_000) {
      const list = replayable.slice(i, i + 1_000).map(sqlLiteral).join(', ')
      const rows = await this.queryRows<{ origin: string }>(`SELECT DISTINCT origin FROM rejects WHERE origin IN (${list})`)
      for (const row of rows) seen.add(row.origin)
    }
    const rows = new TsvRows()
    let id = this.lastRejectId
    for (const reject of rejects) {
      if (isReplayableOrigin(reject.origin)) {
        if (seen.has(reject.origin)) continue
        seen.add(reject.origin)
      }
      rows.integer(++id).text(reject.origin).integer(reject.time).text(reject.method).text(reject.path)
        .text(reject.contentType).text(reject.reason).text(reject.message).bytes(reject.body).endRow()
    }
    if (id === this.lastRejectId) return
    // Taken before the insert: an insert that failed on our side but landed on the server leaves a gap, never a reused id.
    this.lastRejectId = id
    await this.insertTsv('rejects', REJECT_COLUMNS, [rows.take()])
  }

  private async insertTsv(table: string, columns: [string, ...string[]], chunks: Iterable<Buffer>): Promise<void> {
    await this.openClient().insert({ table, columns, format: 'TabSeparated', values: Readable.from(chunks, { objectMode: false }) })
  }
}


/** TabSeparated rows of INSERT_COLUMNS, in chunks of about INSERT_CHUNK_BYTES. */
function* eventRows(events: readonly EventRecord[], ingestedAt: number): Generator<Buffer> {
  const rows = new TsvRows()
  for (const event of events) {
    const type = typeColumns(event.type)
    rows.text(event.bucket).text(type.text).integer(type.isCode ? 1 : 0).text(event.value)
      .integer(event.clientTime).integer(event.serverTime).nullableInteger(event.originalClientTime)
      .nullableText(event.userId).nullableText(event.anonymousId).nullableText(event.producer).nullableText(event.ip)
      .text(event.source).integer(ingestedAt).bytes(event.key).endRow()
    if (rows.length >= INSERT_CHUNK_BYTES) yield rows.take()
  }
  if (rows.length > 0) yield rows.take()
}

/** The WHERE conditions of a range query, but for `after` (read() moves it page by page). */
function rangeFilters(query: RangeQuery): string[] {
  const where = [`bucket = ${sqlLiteral(query.bucket)}`]
  if (query.from !== undefined) where.push(`key >= ${sqlLiteral(query.from)}`)
  if (query.to !== undefined) where.push(`key < ${sqlLiteral(query.to)}`)
  if (query.serverTimeFrom !== undefined) where.push(`server_time >= ${sqlLiteral(query.serverTimeFrom)}`)
  if (query.serverTimeTo !== undefined) where.push(`server_time < ${sqlLiteral(query.serverTimeTo)}`)
  if (query.clientTimeFrom !== undefined) where.push(`client_time >= ${sqlLiteral(query.clientTimeFrom)}`)
  if (query.clientTimeTo !== undefined) where.push(`client_time < ${sqlLiteral(query.clientTimeTo)}`)
  if (query.types !== undefined && query.types.length > 0) where.push(`type IN (${query.types.map(sqlLiteral).join(', ')})`)
  return where
}

function isReplayableOrigin(origin: string): boolean {
  return origin.startsWith('tail:')
}

/** SQL list items joined into lists of at most MAX_QUERY_CHARS. */
function* boundedLists(items: readonly string[]): Generator<string> {
  let list: string[] = []
  let chars = 0
  for (const item of items) {
    if (chars + item.length > MAX_QUERY_CHARS && list.length > 0) {
      yield list.join(', ')
      list = []
      chars = 0
    }
    list.push(item)
    chars += item.length + 2
  }
  if (list.length > 0) yield list.join(', ')
}

function keyId(bucket: string, keyHex: string): string {
  return bucket + '\u0000' + keyHex
}

function firstOfEachKey(events: readonly EventRecord[]): EventRecord[] {
  const seen = new Set<string>()
  const unique: EventRecord[] = []
  for (const event of events) {
    const id = keyId(event.bucket, hexOf(event.key))
    if (seen.has(id)) continue
    seen.add(id)
    unique.push(event)
  }
  return unique
}

/** URL query parameters the store reads; any other is refused (a typo must not go unnoticed). */
const URL_PARAMETERS = ['cluster', 'nodes']

interface ServerUrl {
  origin: string
  database?: string
  username?: string
  password?: string
  cluster?: string
  clusterNodes?: string[]
}

/** An http(s) URL split into the server's origin and what its path, userinfo and query say. */
function parseServerUrl(option: string, url: string): ServerUrl {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new InvalidOptionError(option, `must be an http:// or https:// URL, got ${JSON.stringify(url)}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidOptionError(option, `must be an http:// or https:// URL, got ${JSON.stringify(url)}`)
  for (const name of parsed.searchParams.keys()) {
    if (!URL_PARAMETERS.includes(name)) throw new InvalidOptionError(option, `unknown URL parameter ${JSON.stringify(name)} (known: ${URL_PARAMETERS.join(', ')})`)
  }
  const path = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '')
  const cluster = parsed.searchParams.get('cluster')
  const nodes = parsed.searchParams.get('nodes')
  return {
    origin: parsed.origin,
    ...(path === '' ? {} : { database: path }),
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
    ...(cluster === null ? {} : { cluster }),
    ...(nodes === null ? {} : { clusterNodes: nodes.split(',').filter((node) => node !== '') }),
  }
}

/**
 * ClickHouse's error text without the decoration: 18.16 writes
 * `Code: 60, e.displayText() = DB::Exception: <message>, e.what() = DB::Exception`,
 * current releases `Code: 60. DB::Exception: <message>. (UNKNOWN_TABLE) (version ...)`.
 */
export function clickHouseMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  const match = /Code: (\d+)[.,]\s*(?:e\.displayText\(\) = )?(?:DB::Exception: )?([\s\S]*?)(?:, e\.what\(\) = [\w:]+\s*$|\s*\(version [^)]*\)\s*$|$)/.exec(text)
  // One line: ClickHouse puts newlines in some messages, and they go to logs and JSON answers.
  return (match ? `ClickHouse error ${match[1]}: ${match[2]!}` : text).replace(/\s+/g, ' ').trim()
}

/** Failures of the store's own work: StoreUnavailableError (the EventServer answers 503), our own errors as they are. */
function storeError(what: string, error: unknown): LoggingSystemError {
  if (error instanceof LoggingSystemError) return error
  return new StoreUnavailableError(`${what} failed: ${clickHouseMessage(error)}`, { cause: error })
}

class ClickHouseSql implements SqlAccess {
  readonly dialect = 'clickhouse' as const

  constructor(private readonly store: ClickHouseEventStore) {}

  /** SQL errors come back with ClickHouse's message; an unreachable server as StoreUnavailableError. */
  async query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    try {
      return await this.store.queryRows<T>(sql)
    } catch (error) {
      throw sqlError(error)
    }
  }

  /** After the writes queued before it: DDL and INSERTs are ordered with write(). */
  exec(sql: string): Promise<void> {
    return this.store.enqueue(async () => {
      try {
        await this.store.command(sql)
      } catch (error) {
        throw sqlError(error)
      }
    })
  }

  literal(value: string | number | null | Uint8Array): string {
    return sqlLiteral(value)
  }
}

function sqlError(error: unknown): Error {
  if (error instanceof LoggingSystemError) return error
  const message = clickHouseMessage(error)
  if (!message.startsWith('ClickHouse error')) return new StoreUnavailableError(message, { cause: error })
  return new Error(message, { cause: error })
}
