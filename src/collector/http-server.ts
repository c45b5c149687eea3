/**
 * The standalone collector's HTTP API (the go-ipfix test collector's, plus metrics):
 *
 *   GET  /records   {"flowRecords":[{"exportTime","sequenceNumber","obsDomainID","templateID","recordIdx","data"}]}
 *                   the most recent records, oldest first; `data` is the record's "    name: value \n" lines
 *   POST /reset     forgets the recent records
 *   GET  /metrics   Prometheus text format
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { formatRecordData, type CollectedRecord } from './record-format.ts';
import type { RecordRing } from './record-ring.ts';

/** Where GET /records and POST /reset get and forget the recent records. */
export interface RecentRecords {
  /** The body of GET /records. */
  body(): string | Promise<string>;
  reset(): void;
}

/** Recent records kept in a ring on this thread. */
export function ringRecords(ring: RecordRing<CollectedRecord>): RecentRecords {
  return { body: () => recordsBody(ring.toArray()), reset: () => ring.clear() };
}

export interface CollectorHttpOptions {
  records: RecentRecords;
  registry: Registry;
  address?: string;
  port: number;
}

export interface CollectorHttpServer {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/** One record as GET /records lists it. */
export function recordJson(r: CollectedRecord): string {
  return JSON.stringify({
    exportTime: r.header.exportTime,
    sequenceNumber: r.header.sequenceNumber,
    obsDomainID: r.header.observationDomainId,
    templateID: r.record.template.id,
    recordIdx: r.recordIdx,
    data: formatRecordData(r.record),
  });
}

/** The JSON body of GET /records. */
export function recordsBody(records: readonly CollectedRecord[]): string {
  return recordsBodyOf(records.map(recordJson));
}

/** The JSON body of GET /records from records already rendered by recordJson(). */
export function recordsBodyOf(json: readonly string[]): string {
  return '{"flowRecords":[' + json.join(',') + ']}';
}

export async function startCollectorHttpServer(options: CollectorHttpOptions): Promise<CollectorHttpServer> {
  const { records, registry } = options;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const route = `${req.method} ${path}`;
    if (route === 'GET /records') {
      Promise.resolve(records.body()).then(
        (body) => send(200, body),
        (err: unknown) => send(500, JSON.stringify({ error: String(err) })),
      );
    } else if (route === 'POST /reset') {
      records.reset();
      send(200, '{}');
    } else if (route === 'GET /metrics') {
      registry.metrics().then(
        (text) => send(200, text, registry.contentType),
        (err: unknown) => send(500, JSON.stringify({ error: String(err) })),
      );
    } else if (['/records', '/reset', '/metrics'].includes(path)) {
      res.setHeader('allow', path === '/reset' ? 'POST' : 'GET');
      send(405, JSON.stringify({ error: `method ${req.method} not allowed on ${path}` }));
    } else {
      send(404, JSON.stringify({ error: `no route ${path}; try GET /records, POST /reset, GET /metrics` }));
    }
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.address, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
