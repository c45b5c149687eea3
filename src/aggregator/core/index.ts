/** The Flow Aggregator's core: preprocessing, correlation, aggregation, expiry and queries. No sockets. */
export * from './aggregation-process.ts';
export * from './aggregated-flow.ts';
export * from './flow-key.ts';
export * from './preprocess.ts';
export { isCorrelationRequired, recordSide } from './rules.ts';
export { mergeHttpVals } from './http-vals.ts';
