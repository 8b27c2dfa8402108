/**
 * Write keys (seed 002's apiKeys): who may send events, and into which
 * bucket. A key is shown once, at creation; the store keeps only its SHA-256
 * (a key is 160 random bits, so a fast hash is enough: nothing to brute-force).
 * The `write_keys` table lives in the event store, through its SQL access, in
 * either dialect (docs/write-keys.md).
 */
import { createHash, randomBytes } from 'node:crypto'
import { InvalidOptionError, WriteKeyError } from '../errors.js'
import { MAX_BUCKET_LENGTH } from '../formats/bucket.js'
import type { EventStore, SqlAccess } from '../store/event-store.js'

/** How long a looked-up key is trusted before the table is asked again (a revoke elsewhere takes this long). Default 5 s. */
export const DEFAULT_WRITE_KEY_CACHE_MS = 5_000
export const WRITE_KEY_PREFIX = 'lsk_'

export interface WriteKeyInfo {
  /** Public id, e.g. `wk_3f9a1c2e`: names the key in lists and revokes. */
  id: string
  name: string
  bucket: string
  /** The first characters of the key, to recognise it (`lsk_ab12…`). */
  hint: string
  createdAt: number
  revokedAt: number | null
}

export interface CreatedWriteKey extends WriteKeyInfo {
  /** The key itself: shown once, never stored. */
  key: string
}

export interface WriteKeysOptions {
  /** Ms a lookup is cached. Default: DEFAULT_WRITE_KEY_CACHE_MS. */
  cacheMs?: number
  /** Clock, for tests. Default: Date.now. */
  now?: () => number
}

const TABLE = {
  duckdb: `CREATE TABLE IF NOT EXISTS write_keys (
    id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, bucket VARCHAR NOT NULL, key_hash VARCHAR NOT NULL UNIQUE,
    hint VARCHAR NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT)`,
  // ClickHouse: rows are never updated; a revoke inserts a newer version of the row and reads use FINAL.
  clickhouse: `CREATE TABLE IF NOT EXISTS write_keys (
    id String, name String, bucket String, key_hash String, hint String, created_at Int64,
    revoked_at Nullable(Int64), version Int64) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
} as const

interface KeyRow {
  id: string
  name: string
  bucket: string
  key_hash: string
  hint: string
  created_at: number
  revoked_at: number | null
}

export function hashWriteKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

function info(row: KeyRow): WriteKeyInfo {
  return { id: row.id, name: row.name, bucket: row.bucket, hint: row.hint, createdAt: Number(row.created_at), revokedAt: row.revoked_at === null ? null : Number(row.revoked_at) }
}

export class WriteKeys {
  private readonly sql: SqlAccess
  private readonly cacheMs: number
  private readonly now: () => number
  private readonly cache = new Map<string, { row: KeyRow | undefined; until: number }>()
  private ready: Promise<void> | undefined

  constructor(store: EventStore, options: WriteKeysOptions = {}) {
    this.sql = store.sql
    this.cacheMs = options.cacheMs ?? DEFAULT_WRITE_KEY_CACHE_MS
    if (!Number.isFinite(this.cacheMs) || this.cacheMs < 0) throw new InvalidOptionError('cacheMs', `must be a non-negative number of ms, got ${String(options.cacheMs)}`)
    this.now = options.now ?? Date.now
  }

  /** Creates the table when missing (once). */
  open(): Promise<void> {
    this.ready ??= this.sql.exec(TABLE[this.sql.dialect])
    return this.ready
  }

  private get from(): string {
    return this.sql.dialect === 'clickhouse' ? 'write_keys FINAL' : 'write_keys'
  }

  private async rows(where: string): Promise<KeyRow[]> {
    await this.open()
    return this.sql.query<KeyRow>(`SELECT id, name, bucket, key_hash, hint, created_at, revoked_at FROM ${this.from} WHERE ${where} ORDER BY created_at, id`)
  }

  async create(fields: { name: string; bucket: string }): Promise<CreatedWriteKey> {
    if (typeof fields.name !== 'string' || fields.name.trim() === '') throw new InvalidOptionError('name', 'a write key needs a non-empty name')
    if (typeof fields.bucket !== 'string' || fields.bucket === '' || fields.bucket.length > MAX_BUCKET_LENGTH) {
      throw new InvalidOptionError('bucket', `a write key needs a bucket of 1 to ${MAX_BUCKET_LENGTH} characters`)
    }
    const key = WRITE_KEY_PREFIX + randomBytes(20).toString('hex')
    const row: KeyRow = {
      id: 'wk_' + randomBytes(4).toString('hex'),
      name: fields.name,
      bucket: fields.bucket,
      key_hash: hashWriteKey(key),
      hint: key.slice(0, WRITE_KEY_PREFIX.length + 4),
      created_at: this.now(),
      revoked_at: null,
    }
    await this.insert(row)
    return { ...info(row), key }
  }

  private async insert(row: KeyRow): Promise<void> {
    await this.open()
    const l = (v: string | number | null) => this.sql.literal(v)
    const values = [l(row.id), l(row.name), l(row.bucket), l(row.key_hash), l(row.hint), l(row.created_at), l(row.revoked_at)]
    if (this.sql.dialect === 'clickhouse') values.push(l(this.now()))
    await this.sql.exec(`INSERT INTO write_keys VALUES (${values.join(', ')})`)
  }

  /** Every key, oldest first (revoked ones too). */
  async list(): Promise<WriteKeyInfo[]> {
    return (await this.rows('1 = 1')).map(info)
  }

  /** Revokes a key by id or name (a name must be unique). Revoking twice is no error. */
  async revoke(idOrName: string): Promise<WriteKeyInfo> {
    const matches = await this.rows(`id = ${this.sql.literal(idOrName)} OR name = ${this.sql.literal(idOrName)}`)
    if (matches.length === 0) throw new InvalidOptionError('key', `no write key has the id or name ${JSON.stringify(idOrName)}`)
    if (matches.length > 1) throw new InvalidOptionError('key', `${matches.length} write keys are named ${JSON.stringify(idOrName)}; revoke by id (${matches.map((m) => m.id).join(', ')})`)
    const row = matches[0]!
    if (row.revoked_at !== null) return info(row)
    const revokedAt = this.now()
    if (this.sql.dialect === 'clickhouse') await this.insert({ ...row, revoked_at: revokedAt })
    else await this.sql.exec(`UPDATE write_keys SET revoked_at = ${this.sql.literal(revokedAt)} WHERE id = ${this.sql.literal(row.id)}`)
    this.cache.clear()
    return { ...info(row), revokedAt }
  }

  /** The key's name and bucket; throws WriteKeyError (401) for a missing, unknown or revoked key. */
  async check(key: string | null | undefined): Promise<{ id: string; name: string; bucket: string }> {
    if (key === null || key === undefined || key === '') throw new WriteKeyError('missing', 'no write key: send it as the client library does (Basic auth user, writeKey, api_key or token)')
    const hash = hashWriteKey(key)
    const now = this.now()
    let cached = this.cache.get(hash)
    if (!cached || cached.until <= now) {
      const [row] = await this.rows(`key_hash = ${this.sql.literal(hash)}`)
      cached = { row, until: now + this.cacheMs }
      if (this.cache.size > 10_000) this.cache.clear()
      this.cache.set(hash, cached)
    }
    const row = cached.row
    const hint = key.slice(0, WRITE_KEY_PREFIX.length + 4)
    if (!row) throw new WriteKeyError('unknown', `unknown write key ${hint}…`)
    if (row.revoked_at !== null) throw new WriteKeyError('revoked', `write key ${row.id} (${row.name}) was revoked at ${new Date(Number(row.revoked_at)).toISOString()}`)
    return { id: row.id, name: row.name, bucket: row.bucket }
  }
}
