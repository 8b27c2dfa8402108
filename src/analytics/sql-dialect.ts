/**
 * The few places where DuckDB and ClickHouse 18.16 SQL differ, for the
 * analytics queries. Times are Int64 ms in both, so buckets, days, hours and
 * weekdays are integer arithmetic on `client_time` (UTC), the same in both.
 */

export type SqlDialectName = 'duckdb' | 'clickhouse'

export interface AnalyticsDialect {
  readonly name: SqlDialectName
  /** Integer division of a non-negative expression (floor). */
  div(expression: string, divisor: number): string
  /** Distinct non-NULL values: exact, or the dialect's fast estimate. */
  distinct(expression: string, approximate: boolean): string
  /** The key as lowercase hex text (ClickHouse's JSON output would alter raw bytes ≥ 0x80). */
  keyHex(expression: string): string
  /** A count as a plain integer column. */
  count(): string
  /** The events table as the analyses read it: ClickHouse collapses duplicate keys at read time (FINAL). */
  readonly eventsTable: string
}

/**
 * DuckDB's estimate: the exact distinct count of a 1-in-8 hash sample, times 8.
 * Measured against DuckDB's approx_count_distinct (HyperLogLog) on 1M events,
 * ~20k users a day: sample 1.4 % mean error, HLL 11 %, at the same speed
 * (docs/analytics.md). Standard error ≈ √(7/N) for N users: for large ranges.
 */
export const DUCKDB_SAMPLE_RATE = 8

export const DUCKDB_DIALECT: AnalyticsDialect = {
  name: 'duckdb',
  div: (expression, divisor) => `(${expression} // ${divisor})`,
  distinct: (expression, approximate) =>
    approximate ? `(count(DISTINCT ${expression}) FILTER (WHERE hash(${expression}) % ${DUCKDB_SAMPLE_RATE} = 0) * ${DUCKDB_SAMPLE_RATE})` : `count(DISTINCT ${expression})`,
  keyHex: (expression) => `lower(hex(${expression}))`,
  count: () => 'CAST(count(*) AS BIGINT)',
  eventsTable: 'events',
}

export const CLICKHOUSE_DIALECT: AnalyticsDialect = {
  name: 'clickhouse',
  div: (expression, divisor) => `intDiv(${expression}, ${divisor})`,
  // uniq: adaptive sampling, exact below 65536 distinct values per group; see docs/analytics.md for the error measured.
  distinct: (expression, approximate) => (approximate ? `uniq(${expression})` : `uniqExact(${expression})`),
  keyHex: (expression) => `lower(hex(${expression}))`,
  count: () => 'count()',
  eventsTable: 'events FINAL',
}

export function dialectOf(name: SqlDialectName): AnalyticsDialect {
  return name === 'clickhouse' ? CLICKHOUSE_DIALECT : DUCKDB_DIALECT
}
