/**
 * The Flow Aggregator's HTTPS API (upstream: a Kubernetes generic API server on 10348):
 *
 *   GET /flowrecords?srcip=&dstip=&proto=&srcport=&dstport=&limit=
 *       {"flowRecords":[{IE name: value, ..., "correlationState": ...}],"truncated":false}
 *   GET /recordmetrics   {"numRecordsExported":..,"numRecordsReceived":..,"numRecordsDropped":..,"numFlows":..,
 *                         "numConnToCollector":..,"withClickHouseExporter":..,"withS3Exporter":..,
 *                         "withLogExporter":..,"withIPFIXExporter":..}
 *   GET /flows, /toptalkers, /throughput, /servicemap, /policyhits   the flow store's query layer
 *                        (query-routes.ts); 404 NO_FLOW_STORE when no flowQueries is given
 *   GET /metrics         Prometheus text
 *   GET /healthz, /livez, /readyz   "ok" (readyz: 503 until ready); no token needed
 *
 * Every other request needs `Authorization: Bearer <token>` (401 with a JSON error otherwise). 64-bit
 * counters are written as exact JSON integers. Errors are JSON `{"error","code"[,"parameter"]}`;
 * a bad request is answered 400 and counted, an internal failure 500 and counted; neither ends the
 * process.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { nodeCipherList, nodeTlsMinVersion, type TlsVersionName } from '../../config/index.ts';
import { ApiError, ConfigError } from '../../errors.ts';
import { stringifyWithBigInts, toElementObject, type AggregatedFlow } from '../core/index.ts';
import { DEFAULT_FLOW_RECORDS_LIMIT, MAX_FLOW_RECORDS_LIMIT, parseFlowRecordsQuery } from './flow-query.ts';
import type { FlowQueries } from '../query/index.ts';
import { isQueryEndpoint, NO_FLOW_STORE_MESSAGE, QUERY_ENDPOINTS, queryResponse } from './query-routes.ts';
import { tokenMatches } from './token.ts';
import { RECORD_METRICS_KEYS, type AggregatorQueries, type RecordMetricsProvider } from './types.ts';

export const DEFAULT_API_PORT = 10348;
export const API_ENDPOINTS = ['/flowrecords', '/recordmetrics', ...QUERY_ENDPOINTS, '/metrics', '/healthz', '/livez', '/readyz'] as const;
/** Answered without a token, like the Kubernetes API server's public health endpoints. */
export const PUBLIC_ENDPOINTS: readonly string[] = ['/healthz', '/livez', '/readyz'];

export interface ApiServerOptions {
  readonly queries: AggregatorQueries;
  readonly recordMetrics: RecordMetricsProvider;
  /** The flow store's query layer (embedded store or ClickHouse), served on /flows etc.; absent: those answer 404. */
  readonly flowQueries?: FlowQueries;
  /** Served on /metrics; the server also registers its request counter there. */
  readonly registry?: Registry;
  /** PEM server certificate (chain) and key. */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly tlsMinVersion?: TlsVersionName;
  /** Go cipher suite names (apiServer.tlsCipherSuites); empty: Node's defaults. */
  readonly tlsCipherSuites?: readonly string[];
  /** The bearer token clients must send. */
  readonly token: string;
  /** Default 10348; 0 picks a free port. */
  readonly port?: number;
  /** Default: every address. */
  readonly address?: string;
  /** /readyz answers 503 while this returns false (default: always ready). */
  readonly ready?: () => boolean;
  readonly flowRecordsDefaultLimit?: number;
  readonly flowRecordsMaxLimit?: number;
  readonly log?: Logger;
}

export interface ApiServerStats {
  requests: number;
  unauthorized: number;
  badRequests: number;
  notFound: number;
  serverErrors: number;
  /** TLS handshakes that failed (wrong version, cipher, certificate...). */
  tlsErrors: number;
}

export interface ApiServer {
  readonly port: number;
  readonly address: AddressInfo;
  /** https://<address>:<port> as a client would write it. */
  readonly url: string;
  readonly stats: Readonly<ApiServerStats>;
  /** Switches to a new certificate (after a rotation) for the next handshakes. */
  setCertificate(cert: string | Buffer, key: string | Buffer): void;
  close(): Promise<void>;
}

/** Reads tls.crt and tls.key from apiServer.certDir (ConfigError naming the file when missing). */
export async function readCertDir(dir: string): Promise<{ cert: Buffer; key: Buffer }> {
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await readFile(join(dir, name));
    } catch (e) {
      throw new ConfigError('FILE_UNREADABLE', `apiServer.certDir: cannot read ${join(dir, name)}: ${(e as Error).message}`, { key: 'apiServer.certDir', path: join(dir, name) });
    }
  };
  return { cert: await read('tls.crt'), key: await read('tls.key') };
}

/** One flow of /flowrecords: the 69 information elements (template order), then correlationState. */
export function flowRecordObject(flow: AggregatedFlow): Record<string, string | number | bigint> {
  const out = toElementObject(flow);
  out.correlationState = flow.correlationState;
  return out;
}

function requestCounter(registry: Registry | undefined): Counter<'endpoint' | 'code'> | undefined {
  if (registry === undefined) return undefined;
  const name = 'flowvis_aggregator_api_requests_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'endpoint' | 'code'>;
  return new Counter({ name, help: 'Requests to the aggregator API server, by endpoint and HTTP status.', labelNames: ['endpoint', 'code'] as const, registers: [registry] });
}

/** TLS 1.2 clients cannot connect when the listed suites do not match the key type; say so at start. */
function warnOnCipherMismatch(o: ApiServerOptions): void {
  const suites = o.tlsCipherSuites ?? [];
  if (suites.length === 0 || o.tlsMinVersion === 'VersionTLS13') return;
  const keyType = createPrivateKey(o.key).asymmetricKeyType;
  const kind = keyType === 'ec' ? '_ECDSA_' : keyType === 'rsa' ? '_RSA_' : undefined;
  if (kind !== undefined && !suites.some((s) => s.includes(kind) || (kind === '_RSA_' && /^TLS_RSA_/.test(s)))) {
    o.log?.warn({ tlsCipherSuites: suites, keyType }, `apiServer.tlsCipherSuites has no suite for the server's ${keyType} key: only TLS 1.3 clients can connect`);
  }
}

export async function startApiServer(o: ApiServerOptions): Promise<ApiServer> {
  if (o.token === '') throw new ConfigError('API_TOKEN', 'the API server needs a non-empty bearer token', { key: 'apiServer.tokenFile' });
  const maxLimit = o.flowRecordsMaxLimit ?? MAX_FLOW_RECORDS_LIMIT;
  const defaultLimit = o.flowRecordsDefaultLimit ?? DEFAULT_FLOW_RECORDS_LIMIT;
  const stats: ApiServerStats = { requests: 0, unauthorized: 0, badRequests: 0, notFound: 0, serverErrors: 0, tlsErrors: 0 };
  const counter = requestCounter(o.registry);
  warnOnCipherMismatch(o);
  const tlsOptions = (cert: string | Buffer, key: string | Buffer): https.ServerOptions => ({
    cert, key, minVersion: nodeTlsMinVersion(o.tlsMinVersion), ciphers: nodeCipherList(o.tlsCipherSuites ?? []),
  });

  const send = (req: IncomingMessage, res: ServerResponse, endpoint: string, status: number, body: string, type = 'application/json'): void => {
    counter?.inc({ endpoint, code: String(status) });
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const sendError = (req: IncomingMessage, res: ServerResponse, endpoint: string, status: number, code: string, message: string, extra: Record<string, string> = {}): void => {
    send(req, res, endpoint, status, JSON.stringify({ error: message, code, ...extra }) + '\n');
  };

  const flowRecords = (params: URLSearchParams): string => {
    const q = parseFlowRecordsQuery(params, maxLimit, defaultLimit);
    let flows: AggregatedFlow[];
    let truncated = false;
    if (q.complete) {
      const one = o.queries.get(q.filter.srcip, q.filter.dstip, q.filter.proto, q.filter.srcport, q.filter.dstport);
      flows = one ? [one] : [];
    } else {
      flows = o.queries.query(q.filter, q.limit + 1);
      truncated = flows.length > q.limit;
      if (truncated) flows.length = q.limit;
    }
    const parts = flows.map((f) => stringifyWithBigInts(flowRecordObject(f)));
    return `{"flowRecords":[${parts.join(',')}],"truncated":${truncated}}\n`;
  };

  const recordMetrics = (): string => {
    const m = o.recordMetrics();
    const ordered: Record<string, unknown> = {};
    for (const k of RECORD_METRICS_KEYS) ordered[k] = m[k];
    return stringifyWithBigInts(ordered) + '\n';
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'https://api.invalid');
    } catch {
      stats.badRequests++;
      sendError(req, res, 'other', 400, 'BAD_REQUEST', `malformed request target ${JSON.stringify(req.url)}`);
      return;
    }
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const endpoint = (API_ENDPOINTS as readonly string[]).includes(path) ? path : 'other';
    if (!PUBLIC_ENDPOINTS.includes(path)) {
      const auth = req.headers.authorization ?? '';
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (!m || !tokenMatches(m[1], o.token)) {
        stats.unauthorized++;
        res.setHeader('www-authenticate', 'Bearer realm="flow-aggregator"');
        sendError(req, res, endpoint, 401, 'UNAUTHORIZED', auth === '' ? 'missing bearer token (Authorization: Bearer <token from apiServer.tokenFile>)' : 'invalid bearer token');
        return;
      }
    }
    if (endpoint === 'other') {
      stats.notFound++;
      sendError(req, res, endpoint, 404, 'NOT_FOUND', `no endpoint ${path}; available: ${API_ENDPOINTS.join(', ')}`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      stats.badRequests++;
      res.setHeader('allow', 'GET, HEAD');
      sendError(req, res, endpoint, 405, 'METHOD_NOT_ALLOWED', `method ${req.method} not allowed on ${path}; use GET`);
      return;
    }
    try {
      await route(req, res, endpoint, path, url.searchParams);
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'BAD_PARAMETER' || e.code === 'BAD_FILTER')) {
        stats.badRequests++;
        const parameter = e.context.parameter ?? e.context.key;
        sendError(req, res, endpoint, 400, e.code, e.message, parameter === undefined ? {} : { parameter: String(parameter) });
        return;
      }
      throw e;
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse, endpoint: string, path: string, params: URLSearchParams): Promise<void> => {
    switch (path) {
      case '/healthz':
      case '/livez':
        send(req, res, endpoint, 200, 'ok', 'text/plain; charset=utf-8');
        return;
      case '/readyz': {
        const ready = o.ready?.() ?? true;
        send(req, res, endpoint, ready ? 200 : 503, ready ? 'ok' : 'not ready', 'text/plain; charset=utf-8');
        return;
      }
      case '/flowrecords':
        send(req, res, endpoint, 200, flowRecords(params));
        return;
      case '/recordmetrics':
        send(req, res, endpoint, 200, recordMetrics());
        return;
      case '/metrics':
        if (o.registry === undefined) {
          send(req, res, endpoint, 200, '', 'text/plain; version=0.0.4; charset=utf-8');
        } else {
          send(req, res, endpoint, 200, await o.registry.metrics(), o.registry.contentType);
        }
        return;
    }
    if (isQueryEndpoint(path)) {
      if (o.flowQueries === undefined) {
        stats.notFound++;
        sendError(req, res, endpoint, 404, 'NO_FLOW_STORE', NO_FLOW_STORE_MESSAGE);
      } else {
        send(req, res, endpoint, 200, await queryResponse(o.flowQueries, path, params));
      }
    }
  };

  const server = https.createServer(tlsOptions(o.cert, o.key), (req, res) => {
    handle(req, res).catch((e: unknown) => {
      stats.serverErrors++;
      o.log?.error({ err: e, url: req.url }, 'API request failed');
      if (res.headersSent) res.destroy();
      else sendError(req, res, 'other', 500, 'INTERNAL', `internal error: ${(e as Error).message}`);
    });
  });
  server.on('tlsClientError', (err, socket) => {
    stats.tlsErrors++;
    o.log?.debug({ err: err.message, peer: socket.remoteAddress }, 'API TLS handshake failed');
  });
  server.on('clientError', (_err, socket) => {
    stats.badRequests++;
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: o.port ?? DEFAULT_API_PORT, host: o.address }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => o.log?.error({ err: e }, 'API server error'));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    port: address.port,
    address,
    url: `https://${host}:${address.port}`,
    stats,
    setCertificate: (cert, key) => server.setSecureContext(tlsOptions(cert, key)),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
