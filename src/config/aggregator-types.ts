/**
 * The validated content of flow-aggregator.conf: defaults and the types that
 * parseAggregatorConfig() returns (durations in milliseconds). Keys are documented in
 * docs/configuration.md.
 */
import { IPFIX_DEFAULT_PORT } from './address.ts';
import type { CollectorAddress } from './address.ts';
import type { ClickHouseEndpoint } from './clickhouse-url.ts';
import type { TlsVersionName } from './tls-options.ts';

export const AGGREGATOR_MODES = ['Aggregate', 'Proxy'] as const;
export type AggregatorMode = (typeof AGGREGATOR_MODES)[number];
export const AGGREGATOR_TRANSPORT_PROTOCOLS = ['TLS', 'TCP', 'UDP'] as const;
export type AggregatorTransportProtocol = (typeof AGGREGATOR_TRANSPORT_PROTOCOLS)[number];
export const NETWORK_POLICY_RULE_ACTIONS = ['None', 'Allow', 'Drop', 'Reject'] as const;
export type NetworkPolicyRuleActionName = (typeof NETWORK_POLICY_RULE_ACTIONS)[number];

export const AGGREGATOR_DEFAULTS = {
  mode: 'Aggregate',
  activeFlowRecordTimeout: '60s',
  inactiveFlowRecordTimeout: '90s',
  minFlowRecordTimeoutMs: 1_000,
  aggregatorTransportProtocol: 'TLS',
  apiPort: 10348,
  recordFormat: 'IPFIX',
  templateRefreshTimeout: '600s',
  minIPFIXMsgSize: 512,
  maxIPFIXMsgSize: 65535,
  clickHouseDatabase: 'default',
  clickHouseDatabaseURL: 'tcp://clickhouse-clickhouse.flow-visibility.svc:9000',
  clickHouseCommitInterval: '8s',
  s3Region: 'us-west-2',
  s3MaxRecordsPerFile: 1_000_000,
  s3UploadInterval: '60s',
  loggerPath: '/tmp/antrea-flows.log',
  loggerMaxSize: 100,
  loggerMaxBackups: 3,
  embeddedStoreRetention: '12h',
  ipfixCollectorAddress: '0.0.0.0',
  ipfixCollectorPort: IPFIX_DEFAULT_PORT,
} as const;

export interface FlowCollectorTlsConfig {
  /** Use TLS over TCP (also implied by the "tls" protocol in flowCollector.address). */
  readonly enable: boolean;
  /** PEM file of the CA that signed the collector's certificate (our addition). */
  readonly caFile?: string;
  /** Secret (namespace of the aggregator) holding ca.crt (Antrea v2.4+ key). */
  readonly caSecretName?: string;
  /** PEM client certificate and key for mutual TLS (our addition). */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** kubernetes.io/tls Secret holding tls.crt / tls.key for mutual TLS (Antrea v2.4+ key). */
  readonly clientSecretName?: string;
  readonly serverName?: string;
  /** "VersionTLS12" (default) or "VersionTLS13". */
  readonly minVersion: 'VersionTLS12' | 'VersionTLS13';
  /** Skip verification of the collector's certificate (our addition; testing only). */
  readonly insecureSkipVerify: boolean;
}

export interface FlowCollectorConfig {
  readonly enable: boolean;
  /** As written ("" when unset). */
  readonly address: string;
  /** Parsed address; the protocol is "tls" when tls.enable is true. Undefined when address is "". */
  readonly collector?: CollectorAddress;
  /** Undefined: derived from the cluster UUID (FNV-1 32-bit). */
  readonly observationDomainID?: number;
  readonly recordFormat: 'IPFIX' | 'JSON';
  /** Milliseconds (UDP only). */
  readonly templateRefreshTimeout: number;
  /** 0: automatic (TCP 65535, UDP from the path MTU); else 512..65535. */
  readonly maxIPFIXMsgSize: number;
  readonly tls: FlowCollectorTlsConfig;
}

export interface ClickHouseConfig {
  readonly enable: boolean;
  readonly database: string;
  readonly databaseURL: string;
  /** databaseURL, parsed. */
  readonly endpoint: ClickHouseEndpoint;
  readonly debug: boolean;
  readonly compress: boolean;
  /** Milliseconds, ≥ 1000. */
  readonly commitInterval: number;
  readonly tls: { readonly insecureSkipVerify: boolean; readonly caCert: boolean };
}

export interface S3UploaderConfig {
  readonly enable: boolean;
  readonly bucketName: string;
  readonly bucketPrefix: string;
  /** region, else $AWS_REGION, else "us-west-2". */
  readonly region: string;
  readonly recordFormat: 'CSV';
  readonly compress: boolean;
  readonly maxRecordsPerFile: number;
  /** Milliseconds, ≥ 1000. */
  readonly uploadInterval: number;
}

export interface FlowLoggerFilter {
  /** Empty: any action. */
  readonly ingressNetworkPolicyRuleActions: readonly NetworkPolicyRuleActionName[];
  readonly egressNetworkPolicyRuleActions: readonly NetworkPolicyRuleActionName[];
}

export interface FlowLoggerConfig {
  readonly enable: boolean;
  readonly path: string;
  /** Megabytes before rotation. */
  readonly maxSize: number;
  readonly maxBackups: number;
  /** Days; 0 keeps old files regardless of age. */
  readonly maxAge: number;
  readonly compress: boolean;
  readonly recordFormat: 'CSV';
  /** OR-ed; empty logs every flow. */
  readonly filters: readonly FlowLoggerFilter[];
  readonly prettyPrint: boolean;
}

export interface EmbeddedStoreConfig {
  /** Default: true when clickHouse is disabled and mode is Aggregate. */
  readonly enable: boolean;
  /** Directory of the store's files; "" keeps records in memory only. */
  readonly path: string;
  /** Milliseconds records are kept. */
  readonly retention: number;
}

export interface AggregatorConfig {
  readonly mode: AggregatorMode;
  readonly flowAggregatorAddress: string;
  /** Milliseconds (values under 1s are rounded up to 1s). */
  readonly activeFlowRecordTimeout: number;
  /** Milliseconds (values under 1s are rounded up to 1s). */
  readonly inactiveFlowRecordTimeout: number;
  readonly aggregatorTransportProtocol: AggregatorTransportProtocol;
  readonly recordContents: { readonly podLabels: boolean };
  readonly apiServer: {
    readonly apiPort: number;
    /** Go cipher suite names (see tls-options.ts for their OpenSSL names); empty: defaults. */
    readonly tlsCipherSuites: readonly string[];
    /** Undefined: TLS 1.2. */
    readonly tlsMinVersion?: TlsVersionName;
    /** File holding a bearer token that API clients must present ("" disables token checks). */
    readonly tokenFile: string;
    /** Directory with tls.crt / tls.key for the API server ("" generates a self-signed pair). */
    readonly certDir: string;
  };
  /** "" means the cluster UUID. */
  readonly clusterID: string;
  readonly flowCollector: FlowCollectorConfig;
  readonly clickHouse: ClickHouseConfig;
  readonly s3Uploader: S3UploaderConfig;
  readonly flowLogger: FlowLoggerConfig;
  readonly embeddedStore: EmbeddedStoreConfig;
  /** Where the IPFIX collecting process listens (protocol: aggregatorTransportProtocol). */
  readonly ipfixCollector: { readonly address: string; readonly port: number };
}
