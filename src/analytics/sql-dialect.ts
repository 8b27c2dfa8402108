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
}

export const DUCKDB_DIALECT: AnalyticsDialect = {
  name: 'duckdb',
  div: (expression, divisor) => `(${expression} // ${divisor})`,
  distinct: (expression, approximate) => (approximate ? `approx_count_distinct(${expression})` : `count(DISTINCT ${expression})`),
  keyHex: (expression) => `lower(hex(${expression}))`,
  count: () => 'CAST(count(*) AS BIGINT)',
}

export const CLICKHOUSE_DIALECT: AnalyticsDialect = {
  name: 'clickhouse',
  div: (expression, divisor) => `intDiv(${expression}, ${divisor})`,
  // uniq: adaptive sampling, exact below 65536 distinct values per group; see docs/analytics.md for the error measured.
  distinct: (expression, approximate) => (approximate ? `uniq(${expression})` : `uniqExact(${expression})`),
  keyHex: (expression) => `lower(hex(${expression}))`,
  count: () => 'count()',
}

export function dialectOf(name: SqlDialectName): AnalyticsDialect {
  return name === 'clickhouse' ? CLICKHOUSE_DIALECT : DUCKDB_DIALECT
}
