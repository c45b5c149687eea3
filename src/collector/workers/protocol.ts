/**
 * Messages between the collector's main thread and its decode workers.
 *
 * Main → worker: sessions open and close; raw IPFIX messages of a session (octets transferred,
 * with a global arrival number that orders the recent-records ring across workers); requests for
 * the recent records, to forget them, and to report once everything sent before is processed.
 * Worker → main: printed output with the number of messages it covers and the worker's counters;
 * answers to the requests; a sample of decode errors to log.
 */
import type { CollectorSessionInfo, CollectorStatsSnapshot } from '../../transport/index.ts';

export type WorkerOutput = 'text' | 'json' | 'none';

export interface DecodeWorkerConfig {
  readonly output: WorkerOutput;
  /** Records each worker keeps for GET /records. */
  readonly ringSize: number;
  readonly transport: 'tcp' | 'tls' | 'udp';
  readonly templateLifetimeMs?: number;
  readonly holdUnknownMs?: number;
}

/** The counters a worker keeps (the decode side of CollectorStats). */
export type WorkerCounters = Pick<
  CollectorStatsSnapshot,
  'messages' | 'bytes' | 'records' | 'templates' | 'unknownTemplateSets' | 'recordsLost' | 'sequenceOutOfOrder' | 'decodeErrors'
>;

export type ToWorker =
  | { readonly t: 'open'; readonly session: CollectorSessionInfo }
  | { readonly t: 'close'; readonly id: number }
  | { readonly t: 'message'; readonly id: number; readonly arrival: number; readonly octets: ArrayBuffer; readonly length: number }
  | { readonly t: 'records'; readonly request: number }
  | { readonly t: 'reset' }
  | { readonly t: 'sync'; readonly request: number };

export type FromWorker =
  | { readonly t: 'output'; readonly text: string; readonly messages: number; readonly octets: number; readonly counters: WorkerCounters; readonly errors: readonly DecodeErrorSample[] }
  | { readonly t: 'records'; readonly request: number; readonly arrivals: readonly number[]; readonly json: readonly string[] }
  | { readonly t: 'synced'; readonly request: number; readonly counters: WorkerCounters };

export interface DecodeErrorSample {
  readonly code: string;
  readonly message: string;
  readonly session: number;
  readonly exporter: string;
}
