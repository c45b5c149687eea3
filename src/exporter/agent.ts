/**
 * The Flow Exporter: polls conntrack every flowPollInterval into the connection store, receives
 * denied packets from NFLOG into the deny store, and exports expired connections (deny store
 * first, so the aggregator sees a deny record before any conntrack record of the same key) as
 * IPFIX records of Antrea's agent templates, many records per message.
 */
import type { ConntrackSource } from '../conntrack/source.ts';
import type { NflogPacket } from '../conntrack/nflog-parser.ts';
import type { FlowExporterConfig } from '../config/agent-config.ts';
import { compileNflogPrefixFormat } from '../config/nflog-prefix.ts';
import { agentTemplate } from '../ipfix/antrea-templates.ts';
import type { Template } from '../ipfix/template.ts';
import type { MetadataView } from '../k8s/metadata-source.ts';
import { silentLogger, type TransportLogger } from '../transport/logger.ts';
import type { Connection } from './connection.ts';
import { ConnectionStore } from './connection-store.ts';
import { createContextResolver } from './context-resolver.ts';
import { DenyStore } from './deny-store.ts';
import { AgentMetrics } from './metrics.ts';
import { agentRecordValues } from './record-builder.ts';

/** What the agent needs of an exporting process (src/transport's ExportingProcess fits). */
export interface RecordSink {
  addTemplate(t: Template): void;
  addRecord(t: Template, values: readonly unknown[]): void;
  flush(): void;
  readonly stats: { reconnections: number; recordsDropped: number };
}

export interface FlowExporterAgentOptions {
  nodeName: string;
  config: FlowExporterConfig;
  metadata: MetadataView;
  conntrack: ConntrackSource;
  sink: RecordSink;
  /** Milliseconds since the epoch. */
  now?: () => number;
  logger?: TransportLogger;
  metrics?: AgentMetrics;
  /** Records exported per export round at most (the rest waits for the next round). */
  maxRecordsPerRound?: number;
  /** nf_conntrack_max, for the metric. */
  conntrackMax?: number;
}

const MIN_EXPORT_DELAY_MS = 100;

export class FlowExporterAgent {
  readonly store: ConnectionStore;
  readonly deny: DenyStore;
  readonly metrics: AgentMetrics;
  private readonly templates: Record<4 | 6, Template> = { 4: agentTemplate(4), 6: agentTemplate(6) };
  private readonly now: () => number;
  private readonly log: TransportLogger;
  private readonly resolver: ReturnType<typeof createContextResolver>;
  private pollTimer: NodeJS.Timeout | undefined;
  private exportTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly skippedSeen = { no_local_pod: 0, unsupported: 0, store_full: 0 };
  private polling: Promise<void> | undefined;
  private stopped = false;
  private readonly batch: Connection[] = [];
  lastPoll = { entries: 0, durationMs: 0, at: 0 };

  constructor(private readonly opts: FlowExporterAgentOptions) {
    const c = opts.config;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? silentLogger;
    this.metrics = opts.metrics ?? new AgentMetrics();
    this.resolver = createContextResolver({ metadata: opts.metadata });
    this.store = new ConnectionStore({
      activeTimeoutMs: c.activeFlowExportTimeout, idleTimeoutMs: c.idleFlowExportTimeout,
      staleTimeoutMs: c.staleConnectionTimeout, resolveContext: this.resolver, maxConnections: c.maxConnections,
    });
    const prefix = compileNflogPrefixFormat(c.nflog.prefixFormat);
    this.deny = new DenyStore({
      activeTimeoutMs: c.activeFlowExportTimeout, idleTimeoutMs: c.idleFlowExportTimeout,
      staleTimeoutMs: c.staleConnectionTimeout, resolveContext: this.resolver,
      prefix: prefix.ok ? prefix.compiled : undefined,
    });
    if (opts.conntrackMax !== undefined) this.metrics.maxConnections.set(opts.conntrackMax);
    opts.sink.addTemplate(this.templates[4]);
    opts.sink.addTemplate(this.templates[6]);
  }

  /** Starts polling and exporting on timers. */
  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.polling = this.pollOnce()
        .catch((err: unknown) => {
          this.metrics.pollErrors.inc();
          this.log.warn({ err }, 'conntrack poll failed');
        })
        .then(() => {
          this.exportDue();
          if (!this.stopped) this.pollTimer = setTimeout(tick, this.opts.config.flowPollInterval);
        });
    };
    tick();
    this.sweepTimer = setInterval(() => this.deny.sweep(this.now()), 60_000);
    this.sweepTimer.unref();
  }

  /** One poll: dump conntrack and update the store (Antrea's Poll). */
  async pollOnce(): Promise<void> {
    const started = performance.now();
    const now = this.now();
    const zones = this.opts.config.conntrackZones;
    this.store.beginPoll(now);
    let received = 0;
    const visit = (e: Parameters<ConnectionStore['upsert']>[0]): void => this.store.upsert(e, now);
    if (zones.length === 0) {
      const s = await this.opts.conntrack.dump(visit);
      received = s.received;
      if (s.malformed > 0) this.metrics.malformedNetlink.inc(s.malformed);
    } else {
      for (const zone of zones) {
        const s = await this.opts.conntrack.dump(visit, { zone });
        received = Math.max(received, s.received);
        if (s.malformed > 0) this.metrics.malformedNetlink.inc(s.malformed);
      }
    }
    const durationMs = performance.now() - started;
    this.lastPoll = { entries: received, durationMs, at: now };
    this.metrics.pollDuration.observe(durationMs / 1000);
    this.metrics.totalConnections.set(received);
    this.updateGauges();
  }

  /** A packet logged by a dropping rule. */
  onDeniedPacket(p: NflogPacket): void {
    this.metrics.deniedPackets.inc();
    this.deny.add(p, this.now());
    this.metrics.deniedConnections.set(this.deny.size);
    this.scheduleExport();
  }

  /** Exports every expired connection, deny store first; returns how many records. */
  exportDue(): number {
    const now = this.now();
    const max = this.opts.maxRecordsPerRound ?? 100_000;
    const batch = this.batch;
    batch.length = 0;
    const denied = this.deny.popExpired(now, max, batch);
    this.store.popExpired(now, max - denied, batch);
    for (const c of batch) this.opts.sink.addRecord(this.templates[c.family], agentRecordValues(c));
    if (batch.length > 0) {
      this.opts.sink.flush();
      this.metrics.recordsExported.inc({ store: 'deny' }, denied);
      this.metrics.recordsExported.inc({ store: 'conntrack' }, batch.length - denied);
    }
    const n = batch.length;
    batch.length = 0;
    this.updateGauges();
    this.scheduleExport();
    return n;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    clearTimeout(this.exportTimer);
    clearInterval(this.sweepTimer);
    await this.polling;
  }

  private updateGauges(): void {
    this.metrics.trackedConnections.set(this.store.size);
    this.metrics.deniedConnections.set(this.deny.size);
    this.metrics.reconnections.set(this.opts.sink.stats.reconnections);
    this.metrics.recordsDropped.set(this.opts.sink.stats.recordsDropped);
    const r = this.resolver.stats;
    const now = { no_local_pod: r.noLocalPod, unsupported: r.unsupported, store_full: this.store.stats.droppedFull };
    for (const reason of Object.keys(now) as (keyof typeof now)[]) {
      const delta = now[reason] - this.skippedSeen[reason];
      if (delta > 0) this.metrics.connectionsSkipped.inc({ reason }, delta);
      this.skippedSeen[reason] = now[reason];
    }
  }

  /** Arms the export timer for the next deadline of either store (at least 100 ms away). */
  private scheduleExport(): void {
    if (this.stopped) return;
    const next = Math.min(this.store.nextExpiry(), this.deny.nextExpiry());
    clearTimeout(this.exportTimer);
    if (next === Infinity) return;
    const delay = Math.max(MIN_EXPORT_DELAY_MS, next - this.now());
    this.exportTimer = setTimeout(() => this.exportDue(), delay);
  }
}
