/** The IPFIX sink of the Flow Aggregator (flowCollector, recordFormat IPFIX). */
export * from './collector-options.ts';
export * from './ipfix-sink.ts';
export * from './observation-domain.ts';
export * from './proxy-ipfix-sink.ts';
