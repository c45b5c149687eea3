/** The ClickHouse sink (HTTP/HTTPS) and the pieces the ClickHouse query layer shares with it. */
export { CLICKHOUSE_SINK_DEFAULTS, ClickHouseSink, openClickHouseSink, type ClickHouseSinkOptions } from './clickhouse-sink.ts';
export {
  classifyFailure,
  describeFailure,
  openConnection,
  resolveEndpoint,
  serverError,
  type ClickHouseConnection,
  type ClickHouseConnectionOptions,
  type ClickHouseTlsOptions,
  type FailureKind,
} from './connection.ts';
export { flowsTableDdl, serverFeatures, THEIA_VIEWS, viewDdls, type ServerFeatures } from './schema.ts';
export { chIdentifier, chString, chUInt } from './sql-literal.ts';
export { compileTsvSerializer, type TsvSerializer } from './tsv.ts';
