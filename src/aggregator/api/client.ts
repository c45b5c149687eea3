/**
 * A client of the aggregator API (used by `flowvis get`): HTTPS with the aggregator's CA (or no
 * verification on request), the bearer token, exact 64-bit integers in responses, and failures
 * turned into ApiErrors whose code says what went wrong:
 *
 *   CONNECT_FAILED  nothing answers at the address (refused, unreachable, unknown host)
 *   TLS_VERIFY      the server's certificate is not trusted or does not match the address
 *   TLS_FAILED      the handshake failed otherwise (e.g. protocol version refused)
 *   TIMEOUT         no complete answer in time
 *   UNAUTHORIZED    401: the token was refused
 *   BAD_REQUEST     400: a query parameter was refused (context.parameter names it)
 *   HTTP_ERROR      any other non-2xx status
 *   BAD_RESPONSE    the body is not the expected JSON
 */
import https from 'node:https';
import { ApiError } from '../../errors.ts';
import { parseJson } from './json.ts';

export interface ApiClientOptions {
  /** https://host:port */
  readonly server: string;
  readonly token: string;
  /** PEM CA certificate(s) to verify the server with; default: the system's CAs. */
  readonly ca?: string | Buffer;
  readonly insecureSkipTlsVerify?: boolean;
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

export interface FlowRecordsRequest {
  readonly srcip?: string;
  readonly dstip?: string;
  readonly proto?: string | number;
  readonly srcport?: string | number;
  readonly dstport?: string | number;
  readonly limit?: string | number;
}

/** One record as the API returns it: IE name → value (bigint beyond 2^53). */
export type FlowRecordJson = Record<string, unknown>;

export interface FlowRecordsResult {
  readonly flowRecords: FlowRecordJson[];
  readonly truncated: boolean;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNRESET', 'EADDRNOTAVAIL']);
const VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'INVALID_CA',
]);
const MAX_BODY_BYTES = 512 * 1024 * 1024;

export class ApiClient {
  private readonly base: URL;

  constructor(private readonly o: ApiClientOptions) {
    let url: URL;
    try {
      url = new URL(o.server);
    } catch {
      throw new ApiError('BAD_SERVER_URL', `--server ${JSON.stringify(o.server)} is not a URL (expected https://host:port)`, { server: o.server });
    }
    if (url.protocol !== 'https:') throw new ApiError('BAD_SERVER_URL', `--server ${o.server}: only https:// is served by the aggregator`, { server: o.server });
    this.base = url;
  }

  get server(): string {
    return this.base.origin;
  }

  async flowRecords(req: FlowRecordsRequest = {}): Promise<FlowRecordsResult> {
    const params = new URLSearchParams();
    for (const k of ['srcip', 'dstip', 'proto', 'srcport', 'dstport', 'limit'] as const) {
      const v = req[k];
      if (v !== undefined && v !== '') params.set(k, String(v));
    }
    const body = await this.getJson('/flowrecords', params);
    const records = (body as { flowRecords?: unknown } | null)?.flowRecords;
    if (!Array.isArray(records)) throw new ApiError('BAD_RESPONSE', `${this.server}/flowrecords: no flowRecords array in the response`, { server: this.server });
    return { flowRecords: records as FlowRecordJson[], truncated: (body as { truncated?: unknown }).truncated === true };
  }

  async recordMetrics(): Promise<Record<string, unknown>> {
    const body = await this.getJson('/recordmetrics');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError('BAD_RESPONSE', `${this.server}/recordmetrics: expected a JSON object`, { server: this.server });
    return body as Record<string, unknown>;
  }

  /** GET a JSON endpoint. */
  async getJson(path: string, params?: URLSearchParams): Promise<unknown> {
    const { status, body } = await this.get(path, params);
    const parsed = (): unknown => {
      try {
        return parseJson(body);
      } catch {
        return undefined;
      }
    };
    if (status >= 200 && status < 300) {
      const v = parsed();
      if (v === undefined) throw new ApiError('BAD_RESPONSE', `${this.server}${path}: the response is not JSON`, { server: this.server, status });
      return v;
    }
    const err = parsed() as { error?: unknown; parameter?: unknown } | undefined;
    const detail = typeof err?.error === 'string' ? err.error : body.trim().slice(0, 200);
    const code = status === 401 ? 'UNAUTHORIZED' : status === 400 ? 'BAD_REQUEST' : 'HTTP_ERROR';
    throw new ApiError(code, `${this.server}${path}: HTTP ${status}: ${detail}`, {
      server: this.server, status, parameter: typeof err?.parameter === 'string' ? err.parameter : undefined,
    });
  }

  /** GET `path`; resolves with the status and body text of any HTTP answer. */
  get(path: string, params?: URLSearchParams): Promise<{ status: number; body: string }> {
    const url = new URL(path, this.base);
    if (params) url.search = params.toString();
    const timeoutMs = this.o.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const req = https.request(url, {
        method: 'GET',
        headers: { authorization: `Bearer ${this.o.token}`, accept: 'application/json' },
        ca: this.o.ca,
        rejectUnauthorized: !this.o.insecureSkipTlsVerify,
        timeout: timeoutMs,
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) req.destroy(new ApiError('BAD_RESPONSE', `${this.server}${path}: response larger than ${MAX_BODY_BYTES} bytes`, { server: this.server }));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(this.networkError(e)));
      });
      req.on('timeout', () => req.destroy(new ApiError('TIMEOUT', `${this.server}${path}: no answer within ${timeoutMs} ms`, { server: this.server, timeoutMs })));
      req.on('error', (e) => reject(this.networkError(e)));
      req.end();
    });
  }

  private networkError(e: unknown): ApiError {
    if (e instanceof ApiError) return e;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const message = (e as Error).message;
    const server = this.server;
    if (CONNECT_CODES.has(code)) {
      return new ApiError('CONNECT_FAILED', `cannot connect to ${server} (${code}): is the flow aggregator running at ${server}?`, { server, errno: code }, { cause: e });
    }
    if (VERIFY_CODES.has(code)) {
      return new ApiError('TLS_VERIFY', `the certificate of ${server} was not accepted: ${message}`, { server, errno: code }, { cause: e });
    }
    if (code.startsWith('ERR_SSL') || /ssl|tls|alert/i.test(message)) {
      return new ApiError('TLS_FAILED', `TLS handshake with ${server} failed: ${message}`, { server, errno: code }, { cause: e });
    }
    return new ApiError('CONNECT_FAILED', `request to ${server} failed: ${message}`, { server, errno: code }, { cause: e });
  }
}
