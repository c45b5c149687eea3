/**
 * The Flow Aggregator service: an IPFIX collecting process (TLS by default, TCP or UDP) feeds the
 * aggregation core; expired flows go to every enabled sink through the sink set; metadata lookups
 * fill what records lack. The HTTP API and the CLI read it through `queries` and `recordMetrics()`.
 */
import type { AggregatorConfig } from '../../config/aggregator-types.ts';
import { ConfigError } from '../../errors.ts';
import type { MetadataView } from '../../k8s/metadata-source.ts';
import { CollectingProcess, type CollectedMessage, type CollectorTlsOptions } from '../../transport/collecting-process.ts';
import { silentLogger, type TransportLogger } from '../../transport/logger.ts';
import { AggregationProcess } from '../core/index.ts';
import type { SinkSet } from '../sinks/sink-set.ts';
import { createEnrichHook } from './enrich.ts';
import { aggregatorMetrics } from './metrics.ts';
import { ProxyProcess, type ProxySink } from './proxy-process.ts';
import type { Registry } from 'prom-client';

export interface AggregatorServiceOptions {
  config: AggregatorConfig;
  /** Where aggregated flows go (aggregate mode; empty in Proxy mode). */
  sinks: SinkSet;
  /** Proxy mode (config.mode Proxy): where every completed record goes. */
  proxySink?: ProxySink;
  /** Server certificate (and the CA of exporters' client certificates) when the transport is TLS. */
  tls?: CollectorTlsOptions;
  metadata?: MetadataView;
  /** Cluster UUID: the clusterId element (config.clusterID wins when set). */
  clusterUUID?: string;
  logger?: TransportLogger;
  now?: () => number;
}

/** /recordmetrics, as antctl shows it. */
export interface RecordMetrics {
  numRecordsExported: number;
  numRecordsReceived: number;
  numRecordsDropped: number;
  numFlows: number;
  numConnToCollector: number;
  withClickHouseExporter: boolean;
  withS3Exporter: boolean;
  withLogExporter: boolean;
  withIPFIXExporter: boolean;
}

const MAX_EXPIRY_DELAY_MS = 1000;
/**
 * Flows exported per turn of the event loop: an expiry pass (and stop()'s final flush) that has
 * more to export carries on at the next turn, after the sinks have drained what it gave them. One
 * pass after a stall (a growing store, a long GC) can have hundreds of thousands of flows due;
 * handed over at once they overflowed the IPFIX sink's queue while its socket took ~4 MiB a turn.
 */
export const EXPORTS_PER_TURN = 4096;

export class AggregatorService {
  readonly core: AggregationProcess;
  /** Proxy mode: forwards records instead of aggregating them. */
  readonly proxy: ProxyProcess | undefined;
  readonly registry: Registry;
  collector: CollectingProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private stopped = false;
  private readonly log: TransportLogger;
  private readonly now: () => number;

  constructor(private readonly opts: AggregatorServiceOptions) {
    const c = opts.config;
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.core = new AggregationProcess({
      sink: opts.sinks.offer,
      activeTimeoutMs: c.activeFlowRecordTimeout,
      inactiveTimeoutMs: c.inactiveFlowRecordTimeout,
      clusterId: c.clusterID || opts.clusterUUID || '',
      enrich: opts.metadata ? createEnrichHook({ metadata: opts.metadata, podLabels: c.recordContents.podLabels }) : undefined,
      now: this.now,
    });
    const clusterId = c.clusterID || opts.clusterUUID || '';
    if (c.mode === 'Proxy') {
      const sink = opts.proxySink;
      if (!sink) throw new ConfigError('REQUIRED', 'Proxy mode forwards records to flowCollector, which is not enabled', { key: 'flowCollector.enable' });
      this.proxy = new ProxyProcess({ sink: (r) => sink.offer(r), clusterId, metadata: opts.metadata, podLabels: c.recordContents.podLabels });
    }
    this.registry = aggregatorMetrics({
      collector: () => this.collector, core: this.core, sinks: opts.sinks,
      ...(this.proxy && opts.proxySink ? { proxy: { process: this.proxy, sink: opts.proxySink } } : {}),
    });
  }

  /** Starts listening; resolves with the bound address. */
  async start(): Promise<{ address: string; port: number; family: string }> {
    const c = this.opts.config;
    const transport = c.aggregatorTransportProtocol.toLowerCase() as 'tls' | 'tcp' | 'udp';
    this.collector = new CollectingProcess({
      transport,
      address: c.ipfixCollector.address,
      port: c.ipfixCollector.port,
      tls: transport === 'tls' ? this.opts.tls : undefined,
      onMessage: (m) => this.onMessage(m),
      logger: this.log,
    });
    this.collector.on('sessionOpen', (s) => this.log.info({ exporter: `${s.exporterAddress}:${s.exporterPort}`, transport: s.transport }, 'exporter connected'));
    this.collector.on('sessionClose', (s, reason) => this.log.info({ exporter: `${s.exporterAddress}:${s.exporterPort}`, reason }, 'exporter disconnected'));
    const bound = await this.collector.start();
    this.scheduleExpiry();
    return bound;
  }

  private onMessage(m: CollectedMessage): void {
    if (this.proxy) {
      const origin = { exporterAddress: m.session.exporterAddress, observationDomainId: m.header.observationDomainId };
      for (const r of m.records) this.proxy.ingest(r, origin);
      return;
    }
    // One clock reading per message: its records arrived together.
    const now = this.now();
    for (const r of m.records) this.core.ingest(r, now);
    // A flow that became ready is exported on the next expiry pass, at most 1 s away.
  }

  private scheduleExpiry(): void {
    if (this.stopped) return;
    const next = this.core.nextExpiry() ?? Infinity;
    const delay = Math.max(0, Math.min(MAX_EXPIRY_DELAY_MS, next - this.now()));
    this.timer = setTimeout(() => this.expiryPass(), delay);
  }

  private expiryPass(): void {
    this.immediate = undefined;
    let exported = 0;
    try {
      exported = this.core.expire(this.now(), EXPORTS_PER_TURN);
    } catch (err) {
      this.log.error({ err }, 'expiry pass failed');
    }
    if (exported >= EXPORTS_PER_TURN && !this.stopped) this.immediate = setImmediate(() => this.expiryPass());
    else this.scheduleExpiry();
  }

  recordMetrics(): RecordMetrics {
    const proxySink = this.opts.proxySink;
    if (this.proxy && proxySink) {
      const p = this.proxy.counters;
      return {
        numRecordsExported: p.recordsForwarded,
        numRecordsReceived: p.recordsReceived,
        numRecordsDropped: p.recordsDropped + proxySink.stats().dropped,
        numFlows: 0,
        numConnToCollector: this.collector?.stats.snapshot().sessionsCurrent ?? 0,
        withClickHouseExporter: false, withS3Exporter: false, withLogExporter: false, withIPFIXExporter: true, // flowCollector, IPFIX or JSON, as in aggregate mode
      };
    }
    const s = this.core.stats();
    const sinks = this.opts.sinks;
    return {
      numRecordsExported: sinks.recordsExported,
      numRecordsReceived: s.recordsReceived,
      numRecordsDropped: s.recordsDropped + sinks.stats().dropped,
      numFlows: s.numFlows,
      numConnToCollector: this.collector?.stats.snapshot().sessionsCurrent ?? 0,
      ...sinks.exporterFlags(),
    };
  }

  /** TLS: new credentials (after a certificate renewal) for the exporters' next handshakes. */
  setTlsCredentials(credentials: Pick<CollectorTlsOptions, 'cert' | 'key' | 'ca'>): void {
    this.collector?.setTlsCredentials(credentials);
  }

  /** Stops collecting, exports what is pending and flushes the sinks. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    await this.collector?.close();
    if (this.opts.proxySink) await this.opts.proxySink.close();
    // EXPORTS_PER_TURN at a time, each chunk followed by a turn of the event loop.
    while (this.core.flush(EXPORTS_PER_TURN) >= EXPORTS_PER_TURN) await new Promise((resolve) => setImmediate(resolve));
    await this.opts.sinks.flush();
    await this.opts.sinks.close();
  }
}
