/**
 * Collector addresses of the two configuration files.
 *
 * Agent, flowExporter.flowCollectorAddr (Antrea's grammar):
 *   address = host [ ":" [ port ] [ ":" proto ] ]
 *   host    = IPv4 | "[" IPv6 "]" | DNS name | namespace "/" name     (a Kubernetes Service)
 *   proto   = "tls" | "tcp" | "udp"  (case-insensitive)      defaults: port 4739, proto tls
 *
 * Aggregator, flowCollector.address:
 *   address = host [ ":" [ port ] [ ":" proto ] ]    host = IPv4 | "[" IPv6 "]" | DNS name
 *   proto   = "tcp" | "udp" | "tls" (tls is our addition)  defaults: port 4739, proto tcp
 *
 * An empty port ("host::udp") means the default port, as upstream. Ports are decimal 1..65535.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../errors.ts';

export const IPFIX_DEFAULT_PORT = 4739;

export type CollectorProto = 'tls' | 'tcp' | 'udp';
export type HostKind = 'ipv4' | 'ipv6' | 'dns' | 'service';

export interface CollectorAddress {
  /** IP literal (IPv6 without brackets), DNS name, or "namespace/name" for a Service reference. */
  readonly host: string;
  readonly port: number;
  readonly proto: CollectorProto;
  readonly hostKind: HostKind;
  readonly isServiceRef: boolean;
  /** Namespace of the referenced Service (Service references only). */
  readonly namespace?: string;
  /** Name of the referenced Service (Service references only). */
  readonly name?: string;
}

export interface AddressParseOptions {
  readonly defaultPort: number;
  readonly defaultProto: CollectorProto;
  /** Whether "namespace/name" Service references are accepted as host. */
  readonly allowServiceRef: boolean;
}

export type AddressParseResult =
  | { readonly ok: true; readonly address: CollectorAddress }
  | { readonly ok: false; readonly reason: string };

const PROTOS: readonly CollectorProto[] = ['tls', 'tcp', 'udp'];
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HOST_LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$/;

export const AGENT_ADDRESS_OPTIONS: AddressParseOptions = {
  defaultPort: IPFIX_DEFAULT_PORT,
  defaultProto: 'tls',
  allowServiceRef: true,
};

export const AGGREGATOR_ADDRESS_OPTIONS: AddressParseOptions = {
  defaultPort: IPFIX_DEFAULT_PORT,
  defaultProto: 'tcp',
  allowServiceRef: false,
};

/** Parses `<HOST>:[<PORT>][:<PROTO>]` without throwing. */
export function tryParseCollectorAddress(text: string, options: AddressParseOptions): AddressParseResult {
  if (text.trim() !== text) return fail('leading or trailing whitespace');
  if (text === '') return fail('empty address');
  let host: string;
  let tail: string[];
  let bracketed = false;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return fail('missing "]" after IPv6 address');
    host = text.slice(1, close);
    bracketed = true;
    const after = text.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return fail(`unexpected ${JSON.stringify(after)} after "]"`);
    tail = after === '' ? [] : after.slice(1).split(':');
  } else {
    const parts = text.split(':');
    if (parts.length >= 3 && looksLikeBareIPv6(parts)) {
      return fail('IPv6 addresses must be enclosed in brackets, e.g. "[fd00::1]:4739:tcp"');
    }
    host = parts[0] ?? '';
    tail = parts.slice(1);
  }
  if (tail.length > 2) return fail('too many ":"-separated parts (expected <HOST>:[<PORT>][:<PROTO>])');

  const hostResult = classifyHost(host, bracketed, options.allowServiceRef);
  if (typeof hostResult === 'string') return fail(hostResult);

  const [portText = '', protoText] = tail;
  let port = options.defaultPort;
  if (portText !== '') {
    const parsed = parsePort(portText);
    if (typeof parsed === 'string') return fail(parsed);
    port = parsed;
  }
  let proto = options.defaultProto;
  if (protoText !== undefined) {
    const lower = protoText.toLowerCase() as CollectorProto;
    if (!PROTOS.includes(lower)) {
      return fail(`unsupported protocol ${JSON.stringify(protoText)} (expected one of "tls", "tcp", "udp")`);
    }
    proto = lower;
  }
  return { ok: true, address: { ...hostResult, port, proto } };
}

/** Parses the agent's flowCollectorAddr (defaults: port 4739, proto tls; Service references allowed). */
export function parseAgentCollectorAddress(text: string): CollectorAddress {
  return parseOrThrow(text, AGENT_ADDRESS_OPTIONS);
}

/** Parses the aggregator's flowCollector.address (defaults: port 4739, proto tcp; no Service references). */
export function parseAggregatorCollectorAddress(text: string): CollectorAddress {
  return parseOrThrow(text, AGGREGATOR_ADDRESS_OPTIONS);
}

/** Formats an address back to the configuration grammar, always with port and protocol. */
export function formatCollectorAddress(address: CollectorAddress): string {
  return `${joinHostPort(address.host, address.port)}:${address.proto}`;
}

/** "host:port", with brackets around IPv6 literals (Go's net.JoinHostPort). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parses a decimal port 1..65535; returns an explanation on failure. */
export function parsePort(text: string): number | string {
  if (!/^\d{1,5}$/.test(text)) return `invalid port ${JSON.stringify(text)} (expected a number 1..65535)`;
  const port = Number(text);
  if (port < 1 || port > 65535) return `port ${port} is out of range 1..65535`;
  return port;
}

/** Validates a host: IP literal or DNS name. Returns an explanation on failure. */
export function validateHostName(host: string): HostKind | string {
  const classified = classifyHost(host, false, false);
  return typeof classified === 'string' ? classified : classified.hostKind;
}

type HostInfo = Pick<CollectorAddress, 'host' | 'hostKind' | 'isServiceRef' | 'namespace' | 'name'>;

function classifyHost(host: string, bracketed: boolean, allowServiceRef: boolean): HostInfo | string {
  if (host === '') return 'missing host';
  if (bracketed) {
    if (!isIPv6(host)) return `${JSON.stringify(host)} is not a valid IPv6 address`;
    return { host, hostKind: 'ipv6', isServiceRef: false };
  }
  if (host.includes('/')) {
    if (!allowServiceRef) return `${JSON.stringify(host)} is not an IP address or DNS name (Service references are not supported here)`;
    const [namespace = '', name = '', ...extra] = host.split('/');
    if (extra.length > 0) return `invalid Service reference ${JSON.stringify(host)} (expected <namespace>/<name>)`;
    for (const [what, value] of [['namespace', namespace], ['name', name]] as const) {
      if (value.length === 0 || value.length > 63 || !DNS1123_LABEL.test(value)) {
        return `invalid Service ${what} ${JSON.stringify(value)} in ${JSON.stringify(host)} (expected a DNS-1123 label)`;
      }
    }
    return { host, hostKind: 'service', isServiceRef: true, namespace, name };
  }
  if (isIPv4(host)) return { host, hostKind: 'ipv4', isServiceRef: false };
  if (/^[\d.]+$/.test(host)) return `${JSON.stringify(host)} is not a valid IPv4 address`;
  if (host.length > 253) return 'host name longer than 253 characters';
  const labels = host.endsWith('.') ? host.slice(0, -1).split('.') : host.split('.');
  for (const label of labels) {
    if (label.length === 0 || label.length > 63 || !HOST_LABEL.test(label)) {
      return `${JSON.stringify(host)} is not a valid IP address or DNS name`;
    }
  }
  return { host, hostKind: 'dns', isServiceRef: false };
}

/** "fd00::1", "fd00::1:4739" or "fd00::1:4739:tcp": an IPv6 literal, possibly followed by one or two parts. */
function looksLikeBareIPv6(parts: readonly string[]): boolean {
  for (let drop = 0; drop <= 2 && drop < parts.length; drop++) {
    if (isIPv6(parts.slice(0, parts.length - drop).join(':'))) return true;
  }
  return false;
}

function fail(reason: string): AddressParseResult {
  return { ok: false, reason };
}

function parseOrThrow(text: string, options: AddressParseOptions): CollectorAddress {
  const result = tryParseCollectorAddress(text, options);
  if (!result.ok) {
    throw new ConfigError('ADDRESS_INVALID', `${JSON.stringify(text)} is not a valid collector address: ${result.reason}`, {
      value: text,
    });
  }
  return result.address;
}
