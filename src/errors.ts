/**
 * The project's closed set of error classes. Every error carries a machine-readable `code`
 * and the context needed to act on it (byte offset, config key, peer address, ...).
 */

export type ErrorContext = Readonly<Record<string, string | number | bigint | boolean | undefined>>;

export abstract class FlowvisError extends Error {
  abstract readonly kind: string;
  constructor(
    readonly code: string,
    message: string,
    readonly context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Malformed or unsupported IPFIX input, or a record that cannot be encoded. */
export class IpfixError extends FlowvisError {
  readonly kind = 'ipfix';
}

/** Socket, TLS and session failures of exporting and collecting processes. */
export class TransportError extends FlowvisError {
  readonly kind = 'transport';
}

/** Invalid configuration: always names the key and the bad value. */
export class ConfigError extends FlowvisError {
  readonly kind = 'config';
}

/** Netlink / conntrack / NFLOG failures and malformed netlink messages. */
export class ConntrackError extends FlowvisError {
  readonly kind = 'conntrack';
}

/** Kubernetes API and metadata-source failures. */
export class MetadataError extends FlowvisError {
  readonly kind = 'metadata';
}

/** Bad requests to the HTTP APIs, store and sink failures. */
export class ApiError extends FlowvisError {
  readonly kind = 'api';
}
