/**
 * The sinks flow-aggregator.conf enables: the IPFIX or JSON collector (flowCollector), the flow log
 * (flowLogger), ClickHouse (clickHouse) and the embedded store (embeddedStore, the default when
 * ClickHouse is off). A sink that cannot start (ClickHouse unreachable at start-up, a native-protocol
 * databaseURL) fails the start with its own clear error, as upstream's start-up ping does.
 */
import type { AggregatorConfig } from '../../config/aggregator-types.ts';
import { ConfigError } from '../../errors.ts';
import { openClickHouseSink } from '../sinks/clickhouse/clickhouse-sink.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../sinks/embedded/embedded-store.ts';
import type { SinkLogger } from '../sinks/flow-row.ts';
import { flowLogSinkFromConfig } from '../sinks/flowlog/flowlog-sink.ts';
import { collectorSinkFromConfig, SinkSet } from '../sinks/sink-set.ts';
import type { Sink } from '../sinks/sink.ts';
import { StorageSinkAdapter } from '../sinks/to-flow-row.ts';

export interface SinkContext {
  clusterUUID: string;
  logger: SinkLogger;
  /** With clickHouse.tls.caCert: reads the CA (PEM) of the `clickhouse-ca` Secret. */
  clickHouseCa?: () => Promise<string>;
}

export interface BuiltSinks {
  sinks: SinkSet;
  /** The embedded store, when enabled (the query layer reads it). */
  embedded: EmbeddedStore | undefined;
}

export async function buildSinks(config: AggregatorConfig, ctx: SinkContext): Promise<BuiltSinks> {
  const sinks: Sink[] = [];
  let embedded: EmbeddedStore | undefined;
  if (config.flowCollector.enable) sinks.push(collectorSinkFromConfig(config.flowCollector, { clusterUUID: ctx.clusterUUID, logger: ctx.logger }));
  if (config.flowLogger.enable) sinks.push(flowLogSinkFromConfig(config.flowLogger, { logger: ctx.logger }));
  if (config.clickHouse.enable) {
    const ch = config.clickHouse;
    if (ch.endpoint.interface === 'native') {
      throw new ConfigError('CLICKHOUSE_NATIVE_PROTOCOL', `clickHouse.databaseURL: "${ch.databaseURL}" uses ClickHouse's native protocol, which is not supported; write http://${ch.endpoint.host}:8123 (or https://${ch.endpoint.host}:8443)`, { key: 'clickHouse.databaseURL', value: ch.databaseURL });
    }
    let caCert: string | undefined;
    if (ch.tls.caCert) {
      if (!ctx.clickHouseCa) {
        throw new ConfigError('CLICKHOUSE_CA_UNAVAILABLE', 'clickHouse.tls.caCert: the clickhouse-ca Secret can only be read with Kubernetes access (--kubeconfig or in-cluster)', { key: 'clickHouse.tls.caCert' });
      }
      caCert = await ctx.clickHouseCa();
    }
    const storage = await openClickHouseSink({
      databaseURL: ch.databaseURL, database: ch.database, compress: ch.compress, commitIntervalMs: ch.commitInterval, logger: ctx.logger,
      tls: { insecureSkipVerify: ch.tls.insecureSkipVerify, caCert },
    });
    sinks.push(new StorageSinkAdapter(storage, { clusterUUID: ctx.clusterUUID, logger: ctx.logger }));
  }
  if (config.embeddedStore.enable) {
    embedded = await openEmbeddedStore({ path: config.embeddedStore.path, retentionMs: config.embeddedStore.retention, logger: ctx.logger });
    sinks.push(new StorageSinkAdapter(embedded, { clusterUUID: ctx.clusterUUID, logger: ctx.logger }));
  }
  return { sinks: new SinkSet(sinks, ctx.logger), embedded };
}
