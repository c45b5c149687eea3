/** What the API server reads from the aggregator, as narrow interfaces (AggregationProcess fits AggregatorQueries). */
import type { AggregatedFlow, FlowFilter } from '../core/index.ts';

export interface AggregatorQueries {
  /** The flow of an exact 5-tuple (a direct lookup). */
  get(sourceAddress: string, destinationAddress: string, protocol: number, sourcePort: number, destinationPort: number): AggregatedFlow | undefined;
  /** Flows matching a partial 5-tuple ("" / 0 = any), at most `limit`. */
  query(filter: FlowFilter, limit?: number): AggregatedFlow[];
  stats(): { readonly numFlows: number };
}

/** GET /recordmetrics (antctl's RecordMetricsResponse; every key is always present here). */
export interface RecordMetrics {
  /** Records handed to the exporters (sinks). */
  readonly numRecordsExported: number | bigint;
  /** Data records received by the collecting process. */
  readonly numRecordsReceived: number | bigint;
  /** Records dropped (invalid, or refused by a full sink queue). */
  readonly numRecordsDropped: number | bigint;
  /** Flows in the aggregation store. */
  readonly numFlows: number;
  /** Exporters connected to the collecting process (one per agent). */
  readonly numConnToCollector: number;
  readonly withClickHouseExporter: boolean;
  readonly withS3Exporter: boolean;
  readonly withLogExporter: boolean;
  readonly withIPFIXExporter: boolean;
}

export const RECORD_METRICS_KEYS = [
  'numRecordsExported', 'numRecordsReceived', 'numRecordsDropped', 'numFlows', 'numConnToCollector',
  'withClickHouseExporter', 'withS3Exporter', 'withLogExporter', 'withIPFIXExporter',
] as const satisfies readonly (keyof RecordMetrics)[];

export type RecordMetricsProvider = () => RecordMetrics;
