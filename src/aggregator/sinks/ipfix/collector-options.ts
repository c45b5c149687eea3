/**
 * What the flowCollector sinks (IPFIX and JSON) share: the context the aggregator passes when it
 * builds them from flow-aggregator.conf, the TLS options derived from `flowCollector.tls`, and the
 * logger shape the transport layer expects.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../../errors.ts';
import type { FlowCollectorConfig, FlowCollectorTlsConfig } from '../../../config/aggregator-types.ts';
import type { BackoffOptions, ExporterTlsOptions, Timers, TransportLogger, TransportProtocol } from '../../../transport/index.ts';
import type { SinkLogger } from '../flow-row.ts';

/** PEM material that came from Kubernetes Secrets (caSecretName / clientSecretName), resolved by the caller. */
export interface TlsMaterial {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface CollectorSinkContext {
  /** The cluster UUID (antrea-cluster-identity), for the observation domain ID. */
  clusterUUID: string;
  /** PEMs from the Secrets named in flowCollector.tls (files named there are read here). */
  tlsMaterial?: TlsMaterial;
  /** Flows queued per sink (default 32768). */
  maxQueue?: number;
  backoff?: BackoffOptions;
  timers?: Timers;
  logger?: SinkLogger;
}

/** Host, port and transport of flowCollector.address. Throws ConfigError when it is missing. */
export function collectorEndpoint(config: FlowCollectorConfig): { host: string; port: number; transport: TransportProtocol } {
  const a = config.collector;
  if (!a) throw new ConfigError('REQUIRED', 'flowCollector.address is required when flowCollector is enabled', { key: 'flowCollector.address' });
  return { host: a.host, port: a.port, transport: config.tls.enable ? 'tls' : a.proto };
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigError('FILE_UNREADABLE', `${key}: cannot read ${file}: ${(e as Error).message}`, { key, value: file }, { cause: e });
  }
}

/** Exporter TLS options from flowCollector.tls (files are read now; Secrets come in `material`). */
export function exporterTlsFromConfig(tls: FlowCollectorTlsConfig, material: TlsMaterial = {}): ExporterTlsOptions {
  const ca = tls.caFile ? readPem(tls.caFile, 'flowCollector.tls.caFile') : material.ca;
  const cert = tls.certFile ? readPem(tls.certFile, 'flowCollector.tls.certFile') : material.cert;
  const key = tls.keyFile ? readPem(tls.keyFile, 'flowCollector.tls.keyFile') : material.key;
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
    rejectUnauthorized: !tls.insecureSkipVerify,
    minVersion: tls.minVersion === 'VersionTLS13' ? 'TLSv1.3' : 'TLSv1.2',
  };
}

const nothing = (): void => {};

/** The transport layer's logger (it also logs at debug level) on top of a sink logger. */
export function transportLogger(log: SinkLogger | undefined): TransportLogger | undefined {
  if (!log) return undefined;
  const withDebug = log as SinkLogger & { debug?: (obj: object, msg?: string) => void };
  return {
    debug: typeof withDebug.debug === 'function' ? withDebug.debug.bind(log) : nothing,
    info: log.info.bind(log),
    warn: log.warn.bind(log),
    error: log.error.bind(log),
  };
}
