/**
 * The IPFIX sink (flowCollector with recordFormat IPFIX): aggregated flows to an external IPFIX
 * collector over TCP, TLS or UDP, as Antrea's Flow Aggregator exports them in Aggregate mode.
 *
 * - Templates: the 69-element aggregator template for IPv4 (ID 256) and IPv6 (ID 257), both always
 *   announced, first thing on every (re)connection, and re-sent every templateRefreshTimeout on UDP.
 * - Observation domain ID: configured, else FNV-1 32 of the cluster UUID's 16 octets.
 * - Many records per message up to the maximum message size (TCP/TLS 65535, UDP from the path
 *   MTU, or maxIPFIXMsgSize); the message is flushed after each batch of expiries.
 * - The exporting process (src/transport) reconnects with backoff and holds records while the
 *   collector is away, in a bounded queue that drops the oldest (counted).
 * - While connected with nothing waiting, offer() encodes the flow at once into the message being
 *   built (see offer()); the message leaves on the next turn of the event loop, after the expiry
 *   pass, as a queued batch would. Otherwise flows queue and drain as in every QueuedSink.
 */
import { IpfixError } from '../../../errors.ts';
import type { FlowCollectorConfig } from '../../../config/aggregator-types.ts';
import { aggregatorTemplate, type IpFamily, type Template } from '../../../ipfix/index.ts';
import {
  ExportingProcess, type BackoffOptions, type ExporterTlsOptions, type TransportProtocol,
} from '../../../transport/index.ts';
import { toAggregatorValues, type AggregatedFlow } from '../../core/index.ts';
import { QUEUED_SINK_DEFAULTS, QueuedSink, type QueuedSinkOptions, type Sink, type SinkStats } from '../sink.ts';
import {
  collectorEndpoint, exporterTlsFromConfig, transportLogger, type CollectorSinkContext,
} from './collector-options.ts';
import { aggregatorObservationDomainId } from './observation-domain.ts';

export interface IpfixSinkOptions extends QueuedSinkOptions {
  host: string;
  port: number;
  transport: TransportProtocol;
  observationDomainId: number;
  tls?: ExporterTlsOptions;
  /** 512..65535; undefined: TCP/TLS 65535, UDP from the path MTU. */
  maxMessageSize?: number;
  /** UDP: path MTU to derive the message size from (default: the sending interface's MTU). */
  mtu?: number;
  /** UDP template refresh (default 600 s). */
  templateRefreshTimeoutMs?: number;
  backoff?: BackoffOptions;
  connectTimeoutMs?: number;
  /**
   * TCP/TLS: octets the socket may hold unsent before records wait in the exporting process's
   * queue (default 4 MiB). A TLS socket reports its writes done only at the next turn of the event
   * loop, so this is also about what one turn can send: with the exporting process's 512 KiB default
   * (~1,100 flows a turn) the sink fell behind whenever a busy collecting process made turns long.
   */
  maxBufferedBytes?: number;
}

export const IPFIX_SINK_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export class IpfixSink extends QueuedSink implements Sink {
  readonly name = 'ipfix';
  readonly exporter: ExportingProcess;
  readonly observationDomainId: number;
  private readonly templates: Readonly<Record<IpFamily, Template>> = { 4: aggregatorTemplate(4), 6: aggregatorTemplate(6) };
  private ownInvalid = 0;
  private flushScheduled = false;
  private watch: NodeJS.Timeout | undefined;

  constructor(options: IpfixSinkOptions) {
    super(options);
    this.observationDomainId = options.observationDomainId;
    this.exporter = sinkExportingProcess(options, [this.templates[4], this.templates[6]]);
    // Records held while disconnected are written on connect (after this event): send them now
    // rather than after the exporting process's flush interval.
    this.exporter.on('connect', () => queueMicrotask(() => {
      if (!this.exporter.connected) return;
      this.exporter.flush();
      this.watchBacklog();
    }));
    this.exporter.on('connectFailed', (e) => this.recordFailure(e));
    this.exporter.on('disconnect', (e) => this.recordFailure(e ?? new Error('connection to the collector lost')));
    this.exporter.start();
  }

  /** The template a flow of this family is exported with. */
  template(family: IpFamily): Template {
    return this.templates[family];
  }

  override stats(): SinkStats {
    const base = super.stats();
    const ep = this.exporter.stats;
    // Encoding failures count once as a failure and once as a dropped record.
    const invalid = ep.recordsInvalid + this.ownInvalid;
    return {
      ...base,
      sent: ep.recordsSent,
      dropped: base.dropped + ep.recordsDropped + invalid,
      failures: base.failures + invalid + ep.sendErrors,
    };
  }

  /**
   * Connected, and no flow waiting here or in the exporting process: the flow is encoded right away
   * instead of waiting in the queue for the next turn of the event loop. An expiry pass then never
   * overflows the queue while the collector keeps up, and the flow object dies young (flows held
   * across turns were copied by every scavenge and promoted: most of this sink's GC cost). Order is
   * kept: with anything waiting, the flow queues behind it.
   */
  override offer(flow: AggregatedFlow): void {
    if (this.closed || this.backlog > 0 || !this.exporter.connected || this.exporter.queueDepth > 0) {
      super.offer(flow);
      return;
    }
    this.write(flow);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.exporter.flush();
        this.watchBacklog();
      });
    }
  }

  protected deliver(batch: AggregatedFlow[]): void {
    for (const flow of batch) this.write(flow);
    this.exporter.flush();
    this.watchBacklog();
  }

  private write(flow: AggregatedFlow): void {
    try {
      this.exporter.addRecord(this.templates[flow.family], toAggregatorValues(flow));
    } catch (e) {
      // IpfixErrors are counted by the exporting process (recordsInvalid); anything else here.
      if (!(e instanceof IpfixError)) this.ownInvalid++;
      this.lastError = e instanceof Error ? e.message : String(e);
    }
  }

  /**
   * While the connection pushes back, records wait in the exporting process's queue, which it
   * empties as the socket drains, leaving the last message to its flush timer (1 s). Checks every
   * millisecond until that queue is empty, then sends that last message and resumes this queue.
   * (A poll of in-process state on the event loop, not a timeout: it does not use `timers`.)
   */
  private watchBacklog(): void {
    if (this.watch || this.exporter.queueDepth === 0 || !this.exporter.connected) return;
    this.watch = setTimeout(() => {
      this.watch = undefined;
      if (this.exporter.queueDepth > 0) {
        this.watchBacklog();
        return;
      }
      this.exporter.flush();
      this.kick();
    }, 1);
  }

  protected override flushOutput(): void {
    this.exporter.flush();
  }

  protected override extraQueued(): number {
    return this.exporter.queueDepth;
  }

  protected override async closeOutput(): Promise<void> {
    clearTimeout(this.watch);
    this.watch = undefined;
    await this.exporter.close();
  }
}

/** The exporting process of an IPFIX sink (not started), announcing `templates`. */
export function sinkExportingProcess(options: IpfixSinkOptions, templates: readonly Template[]): ExportingProcess {
  return new ExportingProcess({
    host: options.host,
    port: options.port,
    transport: options.transport,
    observationDomainId: options.observationDomainId,
    templates: [...templates],
    tls: options.tls,
    maxMessageSize: options.maxMessageSize,
    mtu: options.mtu,
    templateRefreshTimeoutMs: options.templateRefreshTimeoutMs,
    backoff: options.backoff,
    connectTimeoutMs: options.connectTimeoutMs,
    maxQueuedRecords: options.maxQueue ?? QUEUED_SINK_DEFAULTS.maxQueue,
    maxBufferedBytes: options.maxBufferedBytes ?? IPFIX_SINK_MAX_BUFFERED_BYTES,
    timers: options.timers,
    logger: transportLogger(options.logger),
  });
}

/** The options of flowCollector's IPFIX sink (recordFormat IPFIX) from the configuration. */
export function ipfixSinkOptionsFromConfig(config: FlowCollectorConfig, context: CollectorSinkContext): IpfixSinkOptions {
  const endpoint = collectorEndpoint(config);
  return {
    ...endpoint,
    observationDomainId: aggregatorObservationDomainId(config.observationDomainID, context.clusterUUID),
    ...(endpoint.transport === 'tls' ? { tls: exporterTlsFromConfig(config.tls, context.tlsMaterial) } : {}),
    ...(config.maxIPFIXMsgSize > 0 ? { maxMessageSize: config.maxIPFIXMsgSize } : {}),
    // 0 means the default (600 s), as go-ipfix treats TempRefTimeout 0.
    ...(config.templateRefreshTimeout > 0 ? { templateRefreshTimeoutMs: config.templateRefreshTimeout } : {}),
    backoff: context.backoff,
    maxQueue: context.maxQueue,
    timers: context.timers,
    logger: context.logger,
  };
}

/** The IPFIX sink of flowCollector (recordFormat IPFIX). */
export function ipfixSinkFromConfig(config: FlowCollectorConfig, context: CollectorSinkContext): IpfixSink {
  return new IpfixSink(ipfixSinkOptionsFromConfig(config, context));
}
