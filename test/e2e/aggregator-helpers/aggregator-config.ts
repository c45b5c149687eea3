/**
 * flow-aggregator.conf for the aggregator under test (keys: docs/configuration.md), with fast
 * timeouts by default and one optional downstream collector (flowCollector: IPFIX or JSON lines).
 */
import { stringify } from 'yaml';

export interface AggregatorConfigOptions {
  /** Aggregate (default) or Proxy. */
  mode?: 'Aggregate' | 'Proxy';
  /** Go durations. Defaults: 3s / 6s (fast tests). */
  activeFlowRecordTimeout?: string;
  inactiveFlowRecordTimeout?: string;
  /** TLS (default), TCP or UDP. */
  aggregatorTransportProtocol?: 'TLS' | 'TCP' | 'UDP';
  /** Extra name or address in the server certificate (e.g. the aggregator's underlay IP). */
  flowAggregatorAddress?: string;
  /** ipfixCollector.address / port (defaults: 0.0.0.0 / 4739). */
  collectorAddress?: string;
  collectorPort?: number;
  /** apiServer.apiPort (default 10348). */
  apiPort?: number;
  /** recordContents.podLabels. */
  podLabels?: boolean;
  /** clusterID (default: the cluster UUID). */
  clusterID?: string;
  /** flowCollector: "IP:PORT:PROTO" and the record format; omit to leave it disabled. */
  flowCollector?: { address: string; recordFormat?: 'IPFIX' | 'JSON'; observationDomainID?: number };
  /** embeddedStore.enable (default: the aggregator's default, on). */
  embeddedStore?: boolean;
  /** flowLogger.path: enables the CSV flow log. */
  flowLoggerPath?: string;
}

export function aggregatorConfigYaml(o: AggregatorConfigOptions = {}): string {
  const conf: Record<string, unknown> = {
    mode: o.mode ?? 'Aggregate',
    activeFlowRecordTimeout: o.activeFlowRecordTimeout ?? '3s',
    inactiveFlowRecordTimeout: o.inactiveFlowRecordTimeout ?? '6s',
    aggregatorTransportProtocol: o.aggregatorTransportProtocol ?? 'TLS',
    recordContents: { podLabels: o.podLabels ?? false },
    apiServer: { apiPort: o.apiPort ?? 10348 },
    ipfixCollector: { address: o.collectorAddress ?? '0.0.0.0', port: o.collectorPort ?? 4739 },
  };
  if (o.flowAggregatorAddress !== undefined) conf.flowAggregatorAddress = o.flowAggregatorAddress;
  if (o.clusterID !== undefined) conf.clusterID = o.clusterID;
  if (o.flowCollector !== undefined) {
    conf.flowCollector = {
      enable: true,
      address: o.flowCollector.address,
      recordFormat: o.flowCollector.recordFormat ?? 'IPFIX',
      ...(o.flowCollector.observationDomainID !== undefined ? { observationDomainID: o.flowCollector.observationDomainID } : {}),
    };
  }
  if (o.embeddedStore !== undefined) conf.embeddedStore = { enable: o.embeddedStore };
  if (o.flowLoggerPath !== undefined) conf.flowLogger = { enable: true, path: o.flowLoggerPath, compress: false };
  return stringify(conf);
}
