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

export interface CollectorHttpOptions {
  ring: RecordRing<CollectedRecord>;
  registry: Registry;
  address?: string;
  port: number;
}

export interface CollectorHttpServer {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/** The JSON body of GET /records. */
export function recordsBody(records: readonly CollectedRecord[]): string {
  const parts = records.map((r) => JSON.stringify({
    exportTime: r.header.exportTime,
    sequenceNumber: r.header.sequenceNumber,
    obsDomainID: r.header.observationDomainId,
    templateID: r.record.template.id,
    recordIdx: r.recordIdx,
    data: formatRecordData(r.record),
  }));
  return '{"flowRecords":[' + parts.join(',') + ']}';
}

export async function startCollectorHttpServer(options: CollectorHttpOptions): Promise<CollectorHttpServer> {
  const { ring, registry } = options;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const route = `${req.method} ${path}`;
    if (route === 'GET /records') {
      send(200, recordsBody(ring.toArray()));
    } else if (route === 'POST /reset') {
      ring.clear();
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
