/**
 * The Flow Aggregator's Prometheus metrics (upstream has none specific to flows): records received,
 * exported and dropped per sink, flows in the store, exporters connected, correlation waits and
 * one-sided exports, queue depths, decode errors. Values are read from the components' counters
 * at scrape time (collect callbacks), so the hot path updates nothing here.
 */
import { Gauge, Registry } from 'prom-client';
import type { CollectingProcess } from '../../transport/collecting-process.ts';
import type { AggregationProcess } from '../core/index.ts';
import type { SinkSet } from '../sinks/sink-set.ts';
import type { ProxyProcess, ProxySink } from './proxy-process.ts';

export interface MetricParts {
  collector: () => CollectingProcess | undefined;
  core: AggregationProcess;
  sinks: SinkSet;
  /** Proxy mode: records go through these instead of the core and the sink set. */
  proxy?: { process: ProxyProcess; sink: ProxySink };
}

export function aggregatorMetrics(parts: MetricParts): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, read: (g: Gauge) => void, labelNames: string[] = []): void => {
    new Gauge({ name, help, labelNames, registers: [registry], collect() { read(this); } });
  };
  const proxy = parts.proxy;
  const sinkStats = (): readonly { name: string; sent: number; dropped: number; queued: number; failures: number }[] =>
    proxy ? [{ name: proxy.sink.name, ...proxy.sink.stats() }] : parts.sinks.stats().sinks;
  gauge('flowvis_aggregator_records_received_total', 'Data records received from exporters.', (g) => g.set(proxy ? proxy.process.counters.recordsReceived : parts.core.stats().recordsReceived));
  gauge('flowvis_aggregator_records_invalid_total', 'Records rejected as invalid (no flow key).', (g) => g.set(proxy ? proxy.process.counters.recordsDropped : parts.core.stats().recordsDropped));
  gauge('flowvis_aggregator_records_preprocessed_total', 'Records from other agent versions mapped onto the expected elements.', (g) => g.set(parts.core.stats().recordsPreprocessed));
  gauge('flowvis_aggregator_records_stale_total', 'Records ignored as stale or out of order.', (g) => g.set(parts.core.stats().recordsStale));
  gauge('flowvis_aggregator_flows', 'Flows in the aggregation store.', (g) => g.set(parts.core.numFlows));
  gauge('flowvis_aggregator_flows_correlated_total', 'Inter-Node flows correlated from both Nodes.', (g) => g.set(parts.core.stats().flowsCorrelated));
  gauge('flowvis_aggregator_correlation_waits_total', 'Expiries of flows still waiting for the other Node.', (g) => g.set(parts.core.stats().correlationWaits));
  gauge('flowvis_aggregator_one_sided_exports_total', 'Exports of flows whose other Node never reported.', (g) => g.set(parts.core.stats().oneSidedExports));
  gauge('flowvis_aggregator_skipped_exports_total', 'Expiries with no new data, not exported again.', (g) => g.set(parts.core.stats().skippedExports));
  gauge('flowvis_aggregator_records_exported_total', 'Flow records handed to the sinks.', (g) => g.set(proxy ? proxy.process.counters.recordsForwarded : parts.sinks.recordsExported));
  gauge('flowvis_aggregator_sink_records_sent_total', 'Flow records a sink delivered.', (g) => {
    for (const s of sinkStats()) g.set({ sink: s.name }, s.sent);
  }, ['sink']);
  gauge('flowvis_aggregator_sink_records_dropped_total', 'Flow records a sink dropped (queue overflow, failures).', (g) => {
    for (const s of sinkStats()) g.set({ sink: s.name }, s.dropped);
  }, ['sink']);
  gauge('flowvis_aggregator_sink_queue_depth', 'Flow records waiting in a sink\'s queue.', (g) => {
    for (const s of sinkStats()) g.set({ sink: s.name }, s.queued);
  }, ['sink']);
  gauge('flowvis_aggregator_sink_failures_total', 'Failed sink operations (connects, writes).', (g) => {
    for (const s of sinkStats()) g.set({ sink: s.name }, s.failures);
  }, ['sink']);
  gauge('flowvis_aggregator_exporters_connected', 'Exporter sessions connected to the collecting process.', (g) => g.set(parts.collector()?.stats.snapshot().sessionsCurrent ?? 0));
  gauge('flowvis_aggregator_decode_errors_total', 'IPFIX decode errors by code.', (g) => {
    for (const [code, n] of Object.entries(parts.collector()?.stats.snapshot().decodeErrors ?? {})) g.set({ code }, n);
  }, ['code']);
  gauge('flowvis_aggregator_records_lost_total', 'Records lost according to exporters\' sequence numbers.', (g) => g.set(parts.collector()?.stats.snapshot().recordsLost ?? 0));
  return registry;
}
