/**
 * The standalone collector: a collecting process whose records are printed (text blocks or JSON
 * lines, or not at all) and kept in a bounded ring for the optional HTTP API. Printing applies
 * backpressure: while the output stream is full, the collector's queue fills and TCP reads pause.
 *
 * With `decodeWorkers` ≥ 1, the main thread only receives (and frames TCP streams); decoding,
 * counting, the rings and printing happen in that many worker threads, each owning whole sessions
 * (see workers/decode-pool.ts). That is how one collector keeps up with more than one core's worth
 * of records.
 */
import type { Writable } from 'node:stream';
import {
  CollectingProcess, silentLogger, type CollectorTlsOptions, type TransportLogger, type TransportProtocol,
} from '../transport/index.ts';
import { ringRecords, startCollectorHttpServer, type CollectorHttpServer, type RecentRecords } from './http-server.ts';
import { collectorMetricsRegistry } from './metrics.ts';
import { recordPrinter, type CollectedRecord } from './record-format.ts';
import { RecordRing } from './record-ring.ts';
import { DecodePool } from './workers/decode-pool.ts';

/** How records are printed; "none" only counts them and keeps them for the HTTP API. */
export type OutputFormat = 'text' | 'json' | 'none';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['text', 'json', 'none'];

export interface CollectorRunOptions {
  transport: TransportProtocol;
  address?: string;
  port: number;
  tls?: CollectorTlsOptions;
  output: OutputFormat;
  /** Where records are printed (default process.stdout). */
  out?: Writable;
  /** Serve GET /records, POST /reset, GET /metrics on this port (undefined: no HTTP server). */
  httpPort?: number;
  httpAddress?: string;
  /** Records kept for GET /records (default 4096). */
  ringSize?: number;
  /** Worker threads that decode and print (default 0: the main thread does). */
  decodeWorkers?: number;
  logger?: TransportLogger;
}

export interface RunningCollector {
  readonly process: CollectingProcess;
  readonly http: CollectorHttpServer | null;
  /** The recent records (GET /records). */
  readonly records: RecentRecords;
  /** Resolves once everything received so far is decoded and printed. */
  sync(): Promise<void>;
  /** Resolves when the printing loop has ended (after close()). */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

/** Resolves when `out` drains, fails or closes; removes its listeners afterwards. */
function writable(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('error', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('error', done);
    out.on('close', done);
  });
}

export async function startCollector(options: CollectorRunOptions): Promise<RunningCollector> {
  const workers = options.decodeWorkers ?? 0;
  if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`decodeWorkers ${workers} must be a non-negative integer`);
  return workers > 0 ? startWithWorkers(options, workers) : startOnMainThread(options);
}

async function startHttp(options: CollectorRunOptions, records: RecentRecords, cp: CollectingProcess): Promise<CollectorHttpServer | null> {
  if (options.httpPort === undefined) return null;
  const http = await startCollectorHttpServer({ records, registry: collectorMetricsRegistry(cp), address: options.httpAddress, port: options.httpPort });
  options.logger?.info({ ...http.address }, 'collector HTTP API listening');
  return http;
}

/** Watches the output stream: errors end printing (logged once); the caller waits for 'drain'. */
function guardOutput(out: Writable, log: TransportLogger): { broken: () => boolean } {
  let broken = false;
  out.on('error', (err) => {
    if (!broken) log.error({ err }, 'collector output failed; records are no longer printed');
    broken = true;
  });
  return { broken: () => broken };
}

async function startOnMainThread(options: CollectorRunOptions): Promise<RunningCollector> {
  const log = options.logger ?? silentLogger;
  const out = options.out ?? process.stdout;
  const ring = new RecordRing<CollectedRecord>(options.ringSize ?? 4096);
  const records = ringRecords(ring);
  const cp = new CollectingProcess({
    transport: options.transport, address: options.address, port: options.port, tls: options.tls, logger: log,
  });
  await cp.start();
  let http: CollectorHttpServer | null;
  try {
    http = await startHttp(options, records, cp);
  } catch (e) {
    await cp.close();
    throw e;
  }
  const format = recordPrinter(options.output);
  const output = guardOutput(out, log);
  const waiters: (() => void)[] = [];

  const done = (async () => {
    for await (const batch of cp.batches()) {
      let text = '';
      for (const m of batch) {
        const recs = m.records;
        for (let i = 0; i < recs.length; i++) {
          const r: CollectedRecord = { session: m.session, header: recs[i].header, record: recs[i], recordIdx: i };
          ring.push(r);
          if (format && !output.broken()) text += format(r);
        }
      }
      if (text.length > 0 && !output.broken() && !out.write(text)) {
        await writable(out);
      }
      if (cp.queueDepth.messages === 0) for (const resolve of waiters.splice(0)) resolve();
    }
  })();

  let closing: Promise<void> | null = null;
  return {
    process: cp,
    http,
    records,
    done,
    sync: () => (cp.queueDepth.messages === 0 ? Promise.resolve() : new Promise<void>((resolve) => { waiters.push(resolve); })),
    close: () => (closing ??= (async () => {
      await cp.close();
      await done;
      if (http) await http.close();
    })()),
  };
}

async function startWithWorkers(options: CollectorRunOptions, workers: number): Promise<RunningCollector> {
  const log = options.logger ?? silentLogger;
  const out = options.out ?? process.stdout;
  const output = guardOutput(out, log);
  let pool: DecodePool | null = null;
  const cp = new CollectingProcess({
    transport: options.transport, address: options.address, port: options.port, tls: options.tls, logger: log,
    onRawMessage: (session, message) => pool!.dispatch(session, message),
  });
  pool = new DecodePool({
    workers, output: options.output, ringSize: options.ringSize ?? 4096, transport: options.transport, stats: cp.stats, logger: log,
    write: (text) => {
      if (output.broken() || out.write(text)) return true;
      void writable(out).then(() => pool!.outputDrained());
      return false;
    },
  });
  const decodePool = pool;
  decodePool.on('drained', () => cp.resumeStreams());
  cp.on('sessionOpen', (s) => decodePool.openSession(s));
  cp.on('sessionClose', (s) => decodePool.closeSession(s.id));
  const records: RecentRecords = { body: () => decodePool.recentRecords(), reset: () => decodePool.resetRecords() };
  let http: CollectorHttpServer | null;
  try {
    await cp.start();
    http = await startHttp(options, records, cp);
  } catch (e) {
    await cp.close();
    await decodePool.close();
    throw e;
  }
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => (closing ??= (async () => {
    await cp.close();
    await decodePool.close();
    if (http) await http.close();
  })());
  let ended: () => void = () => {};
  const done = new Promise<void>((resolve) => { ended = resolve; });
  return {
    process: cp,
    http,
    records,
    done,
    sync: () => decodePool.sync(),
    close: () => close().finally(ended),
  };
}
