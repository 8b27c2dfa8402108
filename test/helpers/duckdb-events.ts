// A small EventStore over a real @duckdb/node-api database with the documented
// `events` columns (src/store/event-store.ts), for the export and forwarding
// tests until the duckdb branch's DuckDbEventStore is merged in.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import type { EventRecord } from '../../src/model/event-record.js'
import type { BucketCount, Checkpoint, EventStore, RangeQuery, RejectedRequest, SqlAccess, WriteBatch, WriteResult } from '../../src/store/event-store.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

function literal(value: string | number | null | Uint8Array): string {
  if (value === null) return 'NULL'
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`
  return `from_hex('${hex(value)}')`
}

function plain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(row)) out[name] = typeof value === 'bigint' ? Number(value) : value
  return out
}

export class TestDuckDbStore implements EventStore {
  readonly kind = 'duckdb' as const
  private instance!: DuckDBInstance
  private connection!: DuckDBConnection
  private lastIngestedAt = 0
  private queue: Promise<unknown> = Promise.resolve()
  readonly sql: SqlAccess

  constructor(private readonly path: string) {
    this.sql = {
      dialect: 'duckdb',
      query: async <T>(sql: string) => (await this.serial(async () => (await this.connection.runAndReadAll(sql)).getRowObjectsJS().map(plain))) as T[],
      exec: async (sql: string) => {
        await this.serial(() => this.connection.run(sql))
      },
      literal,
    }
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work)
    this.queue = next.catch(() => undefined)
    return next
  }

  async open(): Promise<void> {
    this.instance = await DuckDBInstance.create(this.path)
    this.connection = await this.instance.connect()
    await this.connection.run(`CREATE TABLE IF NOT EXISTS events (
      bucket VARCHAR, key BLOB, type VARCHAR, type_is_code BOOLEAN, value VARCHAR, client_time BIGINT, server_time BIGINT,
      original_client_time BIGINT, user_id VARCHAR, anonymous_id VARCHAR, producer VARCHAR, ip VARCHAR, source VARCHAR,
      ingested_at BIGINT, PRIMARY KEY (bucket, key))`)
    await this.connection.run('CREATE TABLE IF NOT EXISTS checkpoints (name VARCHAR PRIMARY KEY, position VARCHAR)')
    const rows = (await this.connection.runAndReadAll('SELECT coalesce(max(ingested_at), 0) AS m FROM events')).getRowObjectsJS()
    this.lastIngestedAt = Number(rows[0]!.m)
  }

  async close(): Promise<void> {
    await this.queue
    this.connection.closeSync()
    this.instance.closeSync()
  }

  write(batch: WriteBatch): Promise<WriteResult> {
    return this.serial(async () => {
      const ingestedAt = (this.lastIngestedAt = Math.max(this.lastIngestedAt, Date.now()))
      let stored = 0
      await this.connection.run('BEGIN')
      try {
        for (const e of batch.events) {
          const exists = await this.connection.runAndReadAll(`SELECT 1 FROM events WHERE bucket = ${literal(e.bucket)} AND key = ${literal(e.key)}`)
          if (exists.currentRowCount > 0) continue
          const isCode = typeof e.type === 'number'
          await this.connection.run(
            `INSERT INTO events VALUES (${[e.bucket, e.key, String(e.type)].map(literal).join(', ')}, ${isCode}, ${literal(e.value)}, ${e.clientTime}, ${e.serverTime}, ` +
              `${[e.originalClientTime, e.userId, e.anonymousId, e.producer, e.ip, e.source, ingestedAt].map(literal).join(', ')})`,
          )
          stored++
        }
        for (const c of batch.checkpoints ?? []) {
          await this.connection.run(`INSERT OR REPLACE INTO checkpoints VALUES (${literal(c.name)}, ${literal(c.position)})`)
        }
        await this.connection.run('COMMIT')
      } catch (err) {
        await this.connection.run('ROLLBACK')
        throw err
      }
      return { stored, duplicates: batch.events.length - stored }
    })
  }

  async *read(query: RangeQuery): AsyncIterable<EventRecord> {
    const where = [`bucket = ${literal(query.bucket)}`]
    if (query.from) where.push(`key >= ${literal(query.from)}`)
    if (query.to) where.push(`key < ${literal(query.to)}`)
    if (query.after) where.push(`key > ${literal(query.after)}`)
    if (query.serverTimeFrom !== undefined) where.push(`server_time >= ${query.serverTimeFrom}`)
    if (query.serverTimeTo !== undefined) where.push(`server_time < ${query.serverTimeTo}`)
    if (query.clientTimeFrom !== undefined) where.push(`client_time >= ${query.clientTimeFrom}`)
    if (query.clientTimeTo !== undefined) where.push(`client_time < ${query.clientTimeTo}`)
    if (query.types) where.push(`type IN (${query.types.map(literal).join(', ') || 'NULL'})`)
    const rows = await this.sql.query<Record<string, unknown>>(
      `SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY key${query.limit !== undefined ? ` LIMIT ${query.limit}` : ''}`,
    )
    for (const row of rows) yield recordOf(row)
  }

  async buckets(): Promise<BucketCount[]> {
    return this.sql.query<BucketCount>('SELECT bucket, count(*) AS count FROM events GROUP BY bucket ORDER BY bucket')
  }

  async checkpoints(prefix = ''): Promise<Checkpoint[]> {
    return this.sql.query<Checkpoint>(`SELECT name, position FROM checkpoints WHERE starts_with(name, ${literal(prefix)}) ORDER BY name`)
  }

  async rejects(): Promise<(RejectedRequest & { id: number })[]> {
    return []
  }
}

export function recordOf(row: Record<string, unknown>): EventRecord {
  return {
    bucket: row.bucket as string,
    key: new Uint8Array(row.key as Uint8Array),
    type: row.type_is_code ? Number(row.type) : (row.type as string),
    value: row.value as string,
    clientTime: Number(row.client_time),
    serverTime: Number(row.server_time),
    originalClientTime: row.original_client_time === null ? null : Number(row.original_client_time),
    userId: row.user_id as string | null,
    anonymousId: row.anonymous_id as string | null,
    producer: row.producer as string | null,
    ip: row.ip as string | null,
    source: row.source as string,
  }
}

/** Opens a store on `path` (a file, or ':memory:') and closes it after the test. */
export async function openTestStore(t: { teardown(fn: () => unknown): void }, path = ':memory:'): Promise<EventStore> {
  const store = new TestDuckDbStore(path)
  await store.open()
  let closed = false
  const close = store.close.bind(store)
  store.close = async () => {
    if (closed) return
    closed = true
    await close()
  }
  t.teardown(() => store.close())
  return store
}
