/** The flow log sink of the Flow Aggregator (flowLogger): CSV lines to a size-rotated file. */
export * from './filters.ts';
export * from './flow-log-line.ts';
export * from './flowlog-sink.ts';
export * from './pretty-print.ts';
export * from './rotating-file.ts';
