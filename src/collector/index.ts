/** The standalone IPFIX collector: record printing, recent-records ring, HTTP API, metrics. */
export * from './http-server.ts';
export * from './metrics.ts';
export * from './record-format.ts';
export * from './record-ring.ts';
export * from './run-collector.ts';
