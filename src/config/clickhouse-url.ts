/**
 * clickHouse.databaseURL, as Antrea's Flow Aggregator accepts it:
 *
 *   url      = protocol "://" host [ ":" port ] [ "/" ]
 *   protocol = "tcp" | "tls" (native protocol) | "http" | "https"
 *
 * "tls" and "https" enable TLS. A path, query string or user info is refused (credentials come
 * from the CH_USERNAME / CH_PASSWORD environment variables). Without a port, ClickHouse's
 * standard port for the protocol is used (9000, 9440, 8123, 8443).
 */
import { isIPv6 } from 'node:net';
import { parsePort, validateHostName } from './address.ts';

export type ClickHouseProtocol = 'tcp' | 'tls' | 'http' | 'https';

export interface ClickHouseEndpoint {
  readonly protocol: ClickHouseProtocol;
  /** Host name or IP (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** Native protocol (tcp/tls) or HTTP (http/https). */
  readonly interface: 'native' | 'http';
  readonly secure: boolean;
}

const DEFAULT_PORTS: Readonly<Record<ClickHouseProtocol, number>> = { tcp: 9000, tls: 9440, http: 8123, https: 8443 };
const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#@]*)(?::([^/?#]*))?(\/?)$/;

export type ClickHouseUrlResult =
  | { readonly ok: true; readonly value: ClickHouseEndpoint }
  | { readonly ok: false; readonly reason: string };

export function parseClickHouseUrl(text: string): ClickHouseUrlResult {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/.test(text)) {
    return { ok: false, reason: 'user info must not be set (use the CH_USERNAME and CH_PASSWORD environment variables)' };
  }
  const m = URL_SHAPE.exec(text);
  if (m === null) {
    return { ok: false, reason: 'expected <protocol>://<host>:<port> without path or query string' };
  }
  const [, scheme = '', hostPart = '', portText] = m;
  const protocol = scheme.toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'tls' && protocol !== 'http' && protocol !== 'https') {
    return { ok: false, reason: `protocol ${JSON.stringify(scheme)} is not supported (expected tcp, tls, http or https)` };
  }
  let host = hostPart;
  if (host.startsWith('[')) host = host.slice(1, -1);
  if (host === '') return { ok: false, reason: 'missing host' };
  const hostKind = hostPart.startsWith('[')
    ? isIPv6(host)
      ? 'ipv6'
      : `${JSON.stringify(host)} is not a valid IPv6 address`
    : validateHostName(host);
  if (hostKind !== 'ipv4' && hostKind !== 'ipv6' && hostKind !== 'dns') return { ok: false, reason: hostKind };
  let port = DEFAULT_PORTS[protocol];
  if (portText !== undefined && portText !== '') {
    const parsed = parsePort(portText);
    if (typeof parsed === 'string') return { ok: false, reason: parsed };
    port = parsed;
  }
  return {
    ok: true,
    value: {
      protocol,
      host,
      port,
      interface: protocol === 'tcp' || protocol === 'tls' ? 'native' : 'http',
      secure: protocol === 'tls' || protocol === 'https',
    },
  };
}
