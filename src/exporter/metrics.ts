/**
 * The node agent's Prometheus metrics: Antrea's names (antrea_agent_*) for what Antrea exports,
 * flowvis_agent_* for what we add. One private registry per agent.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly totalConnections = new Gauge({ name: 'antrea_agent_conntrack_total_connection_count', help: 'Number of connections in the conntrack table (all zones), as of the last poll.', registers: [this.registry] });
  readonly trackedConnections = new Gauge({ name: 'antrea_agent_conntrack_antrea_connection_count', help: 'Number of connections in the connection store.', registers: [this.registry] });
  readonly deniedConnections = new Gauge({ name: 'antrea_agent_denied_connection_count', help: 'Number of denied connections in the deny store.', registers: [this.registry] });
  readonly maxConnections = new Gauge({ name: 'antrea_agent_conntrack_max_connection_count', help: 'Size of the conntrack table (nf_conntrack_max).', registers: [this.registry] });
  readonly reconnections = new Gauge({ name: 'antrea_agent_flow_collector_reconnection_count', help: 'Successful connections to the flow collector, the first one included.', registers: [this.registry] });
  readonly pollDuration = new Histogram({
    name: 'antrea_agent_conntrack_poll_cycle_duration_seconds', help: 'Duration of one conntrack poll (dump and store update).',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry],
  });
  readonly recordsExported = new Counter({ name: 'flowvis_agent_records_exported_total', help: 'Flow records handed to the exporting process.', labelNames: ['store'] as const, registers: [this.registry] });
  readonly recordsDropped = new Gauge({ name: 'flowvis_agent_records_dropped', help: 'Flow records the exporting process dropped (queue overflow while disconnected, shutdown).', registers: [this.registry] });
  readonly connectionsSkipped = new Counter({ name: 'flowvis_agent_connections_skipped_total', help: 'New conntrack connections not tracked.', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly pollErrors = new Counter({ name: 'flowvis_agent_poll_errors_total', help: 'Conntrack polls that failed.', registers: [this.registry] });
  readonly malformedNetlink = new Counter({ name: 'flowvis_agent_malformed_netlink_messages_total', help: 'Netlink messages rejected as malformed (conntrack dumps and NFLOG).', registers: [this.registry] });
  readonly deniedPackets = new Counter({ name: 'flowvis_agent_denied_packets_total', help: 'Dropped packets received through NFLOG.', registers: [this.registry] });
}
