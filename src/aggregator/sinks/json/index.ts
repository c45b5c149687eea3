/** The JSON-lines sink of the Flow Aggregator (flowCollector, recordFormat JSON). */
export * from './json-record.ts';
export * from './json-sink.ts';
