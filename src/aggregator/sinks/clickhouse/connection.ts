/**
 * Connecting to ClickHouse over HTTP(S) with @clickhouse/client: the databaseURL, credentials
 * (CH_USERNAME / CH_PASSWORD), TLS (custom CA, insecureSkipVerify), compression, and the
 * classification of errors into "retry later" and "this will never work".
 *
 * databaseURL: http://host[:8123] or https://host[:8443]. The native-protocol forms that
 * Antrea's seed configuration uses (tcp://host:9000, tls://host:9440) are refused at start-up
 * with the URL to write instead: this aggregator speaks ClickHouse's HTTP interface only.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { ClickHouseError, ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { parseClickHouseUrl, type ClickHouseEndpoint } from '../../../config/clickhouse-url.ts';
import { ApiError, ConfigError } from '../../../errors.ts';

export interface ClickHouseTlsOptions {
  /** Do not verify the server's certificate (testing only). */
  readonly insecureSkipVerify?: boolean;
  /** PEM file of the CA that signed the server's certificate. */
  readonly caFile?: string;
  /** The same, as PEM text or bytes (e.g. read from the `clickhouse-ca` Secret). */
  readonly caCert?: string | Buffer;
}

export interface ClickHouseConnectionOptions {
  /** http://host:port or https://host:port. */
  readonly databaseURL: string;
  /** Default: $CH_USERNAME, else "default". */
  readonly username?: string;
  /** Default: $CH_PASSWORD, else "". */
  readonly password?: string;
  /** gzip request and response bodies (default true). */
  readonly compress?: boolean;
  readonly tls?: ClickHouseTlsOptions;
  /** Per-request timeout in ms (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Environment to read CH_USERNAME / CH_PASSWORD from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface ClickHouseConnection {
  readonly client: ClickHouseClient;
  readonly endpoint: ClickHouseEndpoint;
  /** http(s)://host:port, for messages. */
  readonly url: string;
  readonly username: string;
}

/** What to write instead of a native-protocol URL. */
function httpEquivalent(endpoint: ClickHouseEndpoint, written: string): string {
  const secure = endpoint.protocol === 'tls';
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const nativeDefault = secure ? 9440 : 9000;
  const port = endpoint.port === nativeDefault ? (secure ? 8443 : 8123) : endpoint.port;
  const hint = endpoint.port === nativeDefault ? '' : ` (and the port of ClickHouse's ${secure ? 'https_port' : 'http_port'})`;
  return (
    `clickHouse.databaseURL ${JSON.stringify(written)} uses ClickHouse's native protocol (${endpoint.protocol}://), which is not ` +
    `supported; use ${secure ? 'https' : 'http'}://${host}:${port}${hint}`
  );
}

/** Parses and checks databaseURL; throws ConfigError for native-protocol or malformed URLs. */
export function resolveEndpoint(databaseURL: string): { endpoint: ClickHouseEndpoint; url: string } {
  const parsed = parseClickHouseUrl(databaseURL);
  if (!parsed.ok) {
    throw new ConfigError('BAD_CLICKHOUSE_URL', `clickHouse.databaseURL ${JSON.stringify(databaseURL)}: ${parsed.reason}`, {
      key: 'clickHouse.databaseURL',
      value: databaseURL,
    });
  }
  const endpoint = parsed.value;
  if (endpoint.interface === 'native') {
    throw new ConfigError('CLICKHOUSE_NATIVE_PROTOCOL', httpEquivalent(endpoint, databaseURL), {
      key: 'clickHouse.databaseURL',
      value: databaseURL,
    });
  }
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return { endpoint, url: `${endpoint.protocol}://${host}:${endpoint.port}` };
}

export function openConnection(options: ClickHouseConnectionOptions): ClickHouseConnection {
  const { endpoint, url } = resolveEndpoint(options.databaseURL);
  const env = options.env ?? process.env;
  const username = options.username ?? (env.CH_USERNAME || 'default');
  const password = options.password ?? env.CH_PASSWORD ?? '';
  const compress = options.compress ?? true;
  let httpsAgent: HttpsAgent | undefined;
  if (endpoint.secure) {
    const tls = options.tls ?? {};
    let ca: string | Buffer | undefined = tls.caCert;
    if (ca === undefined && tls.caFile !== undefined && tls.caFile !== '') {
      try {
        ca = readFileSync(tls.caFile);
      } catch (err) {
        throw new ConfigError('CLICKHOUSE_CA', `cannot read the ClickHouse CA file ${tls.caFile}: ${(err as Error).message}`, {
          key: 'clickHouse.tls.caFile',
          value: tls.caFile,
        });
      }
    }
    httpsAgent = new HttpsAgent({ keepAlive: false, rejectUnauthorized: tls.insecureSkipVerify !== true, ...(ca === undefined ? {} : { ca }) });
  }
  const client = createClient({
    url,
    username,
    password,
    application: 'flowvis-aggregator',
    request_timeout: options.requestTimeoutMs ?? 30_000,
    // gzip level 1: several times faster than the default level, most of the size gain (TSV of flows is repetitive).
    compression: { request: compress ? { codec: 'gzip', level: 1 } : false, response: compress },
    log: { level: ClickHouseLogLevel.OFF },
    ...(httpsAgent === undefined ? {} : { http_agent: httpsAgent }),
  });
  return { client, endpoint, url, username };
}

/** Server error codes for a refused login (old and new servers). */
const AUTH_CODES = new Set(['192', '193', '194', '516']);
/** Server error codes that mean the data itself cannot be inserted: retrying cannot help. */
const DATA_CODES = new Set(['6', '26', '27', '38', '41', '53', '69', '70', '72', '117']);

/**
 * The server's error code and message. Current servers answer "Code: 516. DB::Exception: … (TYPE)",
 * which the client parses into a ClickHouseError; 18.16 answers "Code: 193, e.displayText() =
 * DB::Exception: Wrong password for user x, e.what() = DB::Exception", which it leaves as an Error.
 */
export function serverError(err: unknown): { code: string; message: string } | undefined {
  if (err instanceof ClickHouseError) return { code: err.code, message: err.message.trim() };
  if (!(err instanceof Error) || (err as NodeJS.ErrnoException).code !== undefined) return undefined;
  const m = /^\s*Code: (\d+)[.,]\s*(?:e\.displayText\(\) = )?(?:[\w:]*Exception: )?(.*?)(?:, e\.what\(\) = .*)?\s*$/s.exec(err.message);
  return m === null ? undefined : { code: m[1] as string, message: (m[2] as string).trim() };
}

/** Node's codes for a server certificate that cannot be verified. */
const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export type FailureKind = 'auth' | 'tls' | 'data' | 'transient';

export function classifyFailure(err: unknown): FailureKind {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  if (code !== undefined && TLS_VERIFY_CODES.has(code)) return 'tls';
  const server = serverError(err);
  if (server !== undefined && AUTH_CODES.has(server.code)) return 'auth';
  if (server !== undefined && DATA_CODES.has(server.code)) return 'data';
  return 'transient';
}

const MAX_DESCRIPTION = 300;

/** One line describing a failure (server code and message, or the socket error), at most 300 characters. */
export function describeFailure(err: unknown): string {
  const server = serverError(err);
  if (server !== undefined) {
    const text = `ClickHouse error ${server.code}: ${server.message.replace(/\s+/g, ' ')}`;
    return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1)}…` : text;
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === undefined ? err.message : `${code}: ${err.message}`;
  }
  return String(err);
}

export function tlsError(conn: ClickHouseConnection, err: unknown): ApiError {
  return new ApiError(
    'CLICKHOUSE_TLS',
    `the certificate of ClickHouse at ${conn.url} cannot be verified (${describeFailure(err)}); ` +
      'give the CA that signed it (clickHouse.tls.caCert / the clickhouse-ca Secret, or a CA file) or, for testing only, set insecureSkipVerify',
    { url: conn.url },
    { cause: err },
  );
}

export function authError(conn: ClickHouseConnection, err: unknown): ApiError {
  return new ApiError(
    'CLICKHOUSE_AUTH',
    `ClickHouse at ${conn.url} refused the login of user ${JSON.stringify(conn.username)} (${describeFailure(err)}); ` +
      'set the CH_USERNAME and CH_PASSWORD environment variables to a valid user',
    { url: conn.url, username: conn.username },
    { cause: err },
  );
}
