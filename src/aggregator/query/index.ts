/**
 * The query layer for the API, the web UI and `flowvis get`: one interface (FlowQueries), one
 * implementation per store (embedded DuckDB, ClickHouse).
 */
export * from './types.ts';
export { DuckDBFlowQueries } from './duckdb-queries.ts';
export { ClickHouseFlowQueries, workloadSql } from './clickhouse-queries.ts';
export { flowFilterFromParams, validateFlowFilter, validateFlowsQuery, FLOWS_PAGE_LIMITS } from './validate.ts';
export { bucketWidth } from './buckets.ts';
