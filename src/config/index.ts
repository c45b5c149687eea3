/** Configuration: antrea-agent.conf (flow exporter) and flow-aggregator.conf. */
export { parseAgentConfig, AGENT_DEFAULTS } from './agent-config.ts';
export type { AgentConfig, AgentNflogConfig, AgentTlsConfig, FlowExporterConfig } from './agent-config.ts';
export { parseAggregatorConfig } from './aggregator-config.ts';
export {
  AGGREGATOR_DEFAULTS,
  AGGREGATOR_MODES,
  AGGREGATOR_TRANSPORT_PROTOCOLS,
  NETWORK_POLICY_RULE_ACTIONS,
} from './aggregator-types.ts';
export type {
  AggregatorConfig,
  AggregatorMode,
  AggregatorTransportProtocol,
  ClickHouseConfig,
  EmbeddedStoreConfig,
  FlowCollectorConfig,
  FlowCollectorTlsConfig,
  FlowLoggerConfig,
  FlowLoggerFilter,
  NetworkPolicyRuleActionName,
  S3UploaderConfig,
} from './aggregator-types.ts';
export { loadAgentConfig, loadAggregatorConfig } from './load.ts';
export type { ConfigInput, LoadOptions } from './load.ts';
export type { ConfigResult, ParseOptions } from './validate.ts';
export { configProblems, formatPath } from './problems.ts';
export type { ConfigPath, ConfigWarning } from './problems.ts';
export { parseDuration, tryParseDuration, formatDuration, formatNs } from './duration.ts';
export type { DurationParseResult, FormatDurationOptions } from './duration.ts';
export {
  parseAgentCollectorAddress,
  parseAggregatorCollectorAddress,
  tryParseCollectorAddress,
  formatCollectorAddress,
  joinHostPort,
  AGENT_ADDRESS_OPTIONS,
  AGGREGATOR_ADDRESS_OPTIONS,
  IPFIX_DEFAULT_PORT,
} from './address.ts';
export type { AddressParseOptions, CollectorAddress, CollectorProto, HostKind } from './address.ts';
export { parseClickHouseUrl } from './clickhouse-url.ts';
export type { ClickHouseEndpoint, ClickHouseProtocol } from './clickhouse-url.ts';
export { compileNflogPrefixFormat, DEFAULT_NFLOG_PREFIX_FORMAT, NFLOG_PLACEHOLDERS } from './nflog-prefix.ts';
export type { CompiledNflogPrefix, NflogPrefixFields } from './nflog-prefix.ts';
export { nodeCipherList, nodeTlsMinVersion, parseCipherSuiteList, GO_CIPHER_SUITES, TLS_VERSIONS } from './tls-options.ts';
export type { TlsVersionName } from './tls-options.ts';
