/**
 * The embedded store's DuckDB schema, derived from FLOW_COLUMNS.
 *
 * `flows` has every column of the Theia table (DateTime as UINTEGER unix seconds, UInt64 as
 * UBIGINT, strings as VARCHAR), followed by three embedded-only columns that make the query layer
 * fast on millions of rows: integer ids of the source and destination endpoint (namespace, Pod,
 * Node; or Node and IP when there is no Pod) and of the Service, pointing into two small
 * dictionary tables. Grouping, free-text search
 * and service maps work on those integers and join the names back at the end.
 */
import { UBIGINT, UINTEGER, USMALLINT, UTINYINT, VARCHAR, type DuckDBType } from '@duckdb/node-api';
import { FLOW_COLUMNS, type FlowColumnName, type FlowColumnType } from '../flow-row.ts';

export const DUCKDB_TYPES: Readonly<Record<FlowColumnType, { sql: string; type: DuckDBType }>> = {
  DateTime: { sql: 'UINTEGER', type: UINTEGER },
  UInt8: { sql: 'UTINYINT', type: UTINYINT },
  UInt16: { sql: 'USMALLINT', type: USMALLINT },
  UInt64: { sql: 'UBIGINT', type: UBIGINT },
  String: { sql: 'VARCHAR', type: VARCHAR },
};

/** Embedded-only columns, after the Theia columns. */
export const INDEX_COLUMNS = ['sourceEndpointId', 'destinationEndpointId', 'serviceId'] as const;
export type IndexColumnName = (typeof INDEX_COLUMNS)[number];

/** Embedded-only sort columns, last in the table, and how the store computes them. */
export const SORT_COLUMNS = [
  { name: 'sortBytes', sql: 'octetDeltaCount::DOUBLE + reverseOctetDeltaCount::DOUBLE' },
  { name: 'sortPackets', sql: 'packetDeltaCount::DOUBLE + reversePacketDeltaCount::DOUBLE' },
  { name: 'sortThroughput', sql: 'throughput::DOUBLE + reverseThroughput::DOUBLE' },
] as const;

/** Types of the columns the appender writes (the staging table): the Theia columns and the ids. */
export const FLOWS_TABLE_TYPES: readonly DuckDBType[] = [...FLOW_COLUMNS.map((c) => DUCKDB_TYPES[c.type].type), UINTEGER, UINTEGER, UINTEGER];

const STAGED_COLUMNS = [...FLOW_COLUMNS.map((c) => c.name), ...INDEX_COLUMNS].map((n) => `"${n}"`).join(', ');

/** A fresh temporary staging table with the appender's columns. */
export const CREATE_STAGING_SQL = `CREATE TEMP TABLE flows_staging AS SELECT ${STAGED_COLUMNS} FROM flows LIMIT 0`;

/** Moves the staged records into flows, computing the sort columns. */
export const MOVE_STAGED_SQL = `INSERT INTO flows SELECT ${STAGED_COLUMNS}, ${SORT_COLUMNS.map((c) => c.sql).join(', ')} FROM flows_staging`;

const DEFAULTS: Partial<Record<FlowColumnName, string>> = { trusted: '0' };

export const STORE_SCHEMA_VERSION = 1;

export function storeDdl(): string[] {
  const columns = FLOW_COLUMNS.map((c) => {
    const fallback = DEFAULTS[c.name];
    return `  "${c.name}" ${DUCKDB_TYPES[c.type].sql} NOT NULL${fallback === undefined ? '' : ` DEFAULT ${fallback}`}`;
  });
  const index = INDEX_COLUMNS.map((name) => `  "${name}" UINTEGER NOT NULL`);
  const sort = SORT_COLUMNS.map((c) => `  "${c.name}" DOUBLE NOT NULL`);
  return [
    `CREATE TABLE IF NOT EXISTS flows (\n${[...columns, ...index, ...sort].join(',\n')}\n)`,
    'CREATE TABLE IF NOT EXISTS flow_endpoints (id UINTEGER PRIMARY KEY, namespace VARCHAR NOT NULL, podName VARCHAR NOT NULL, nodeName VARCHAR NOT NULL, workload VARCHAR NOT NULL, ip VARCHAR NOT NULL)',
    'CREATE TABLE IF NOT EXISTS flow_services (id UINTEGER PRIMARY KEY, name VARCHAR NOT NULL)',
    'CREATE TABLE IF NOT EXISTS flowvis_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)',
  ];
}
