/** IPFIX exporting and collecting processes over TCP, UDP and TLS. */
export * from './backoff.ts';
export * from './collecting-process.ts';
export * from './collector-stats.ts';
export * from './exporting-process.ts';
export * from './logger.ts';
export * from './message-size.ts';
export * from './record-queue.ts';
export * from './sequence-tracker.ts';
export * from './timers.ts';
