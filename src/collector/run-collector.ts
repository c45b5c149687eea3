/**
 * The standalone collector: a collecting process whose records are printed (text blocks or JSON
 * lines) and kept in a bounded ring for the optional HTTP API. Printing applies backpressure: while
 * the output stream is full, the collector's queue fills and TCP reads pause.
 */
import type { Writable } from 'node:stream';
import {
  CollectingProcess, silentLogger, type CollectorTlsOptions, type TransportLogger, type TransportProtocol,
} from '../transport/index.ts';
import { startCollectorHttpServer, type CollectorHttpServer } from './http-server.ts';
import { collectorMetricsRegistry } from './metrics.ts';
import { formatRecordJson, formatRecordText, type CollectedRecord } from './record-format.ts';
import { RecordRing } from './record-ring.ts';

export type OutputFormat = 'text' | 'json';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['text', 'json'];

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
  logger?: TransportLogger;
}

export interface RunningCollector {
  readonly process: CollectingProcess;
  readonly http: CollectorHttpServer | null;
  readonly ring: RecordRing<CollectedRecord>;
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
  const log = options.logger ?? silentLogger;
  const out = options.out ?? process.stdout;
  const ring = new RecordRing<CollectedRecord>(options.ringSize ?? 4096);
  const cp = new CollectingProcess({
    transport: options.transport, address: options.address, port: options.port, tls: options.tls, logger: log,
  });
  await cp.start();
  let http: CollectorHttpServer | null = null;
  if (options.httpPort !== undefined) {
    try {
      http = await startCollectorHttpServer({ ring, registry: collectorMetricsRegistry(cp), address: options.httpAddress, port: options.httpPort });
      log.info({ ...http.address }, 'collector HTTP API listening');
    } catch (e) {
      await cp.close();
      throw e;
    }
  }
  const format = options.output === 'json' ? (r: CollectedRecord) => formatRecordJson(r) + '\n' : formatRecordText;
  let outputBroken = false;
  out.on('error', (err) => {
    if (!outputBroken) log.error({ err }, 'collector output failed; records are no longer printed');
    outputBroken = true;
  });

  const done = (async () => {
    for await (const batch of cp.batches()) {
      let text = '';
      for (const m of batch) {
        const records = m.records;
        for (let i = 0; i < records.length; i++) {
          const r: CollectedRecord = { session: m.session, header: records[i].header, record: records[i], recordIdx: i };
          ring.push(r);
          if (!outputBroken) text += format(r);
        }
      }
      if (text.length > 0 && !outputBroken && !out.write(text)) {
        await writable(out);
      }
    }
  })();

  let closing: Promise<void> | null = null;
  return {
    process: cp,
    http,
    ring,
    done,
    close: () => (closing ??= (async () => {
      await cp.close();
      await done;
      if (http) await http.close();
    })()),
  };
}
