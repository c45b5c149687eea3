/**
 * Prometheus metrics of a collecting process, in a private prom-client Registry (nothing global).
 * Values are read from the process's counters when scraped.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { CollectingProcess } from '../transport/index.ts';

type Stats = CollectingProcess['stats'];

const COUNTERS: ReadonlyArray<[name: string, help: string, read: (s: Stats) => number]> = [
  ['sessions_total', 'Transport sessions opened (TCP/TLS connections, UDP exporter address:port pairs).', (s) => s.sessionsTotal],
  ['messages_total', 'IPFIX messages received with a usable header.', (s) => s.messages],
  ['bytes_total', 'Octets of the IPFIX messages received.', (s) => s.bytes],
  ['records_total', 'Data records decoded.', (s) => s.records],
  ['template_records_total', 'Template records received.', (s) => s.templates],
  ['unknown_template_sets_total', 'Data sets that referred to a template the session did not know.', (s) => s.unknownTemplateSets],
  ['records_lost_total', 'Data records missing according to the sequence numbers (RFC 7011 10.3.2).', (s) => s.recordsLost],
  ['sequence_out_of_order_total', 'Messages whose sequence number was behind the expected one.', (s) => s.sequenceOutOfOrder],
  ['framing_errors_total', 'TCP/TLS connections closed because message framing was lost.', (s) => s.framingErrors],
  ['tls_handshake_failures_total', 'Failed TLS handshakes.', (s) => s.tlsHandshakeFailures],
  ['rejected_connections_total', 'Connections rejected (TLS handshake failures, session limit).', (s) => s.rejectedConnections],
  ['records_dropped_total', 'UDP records dropped because the consumer fell behind.', (s) => s.recordsDropped],
  ['backpressure_pauses_total', 'Times a TCP/TLS connection was paused because the consumer fell behind.', (s) => s.backpressurePauses],
];

/** A registry with the collector's metrics, named `<prefix>_...` (default prefix flowvis_collector). */
export function collectorMetricsRegistry(cp: CollectingProcess, prefix = 'flowvis_collector'): Registry {
  const registry = new Registry();
  const stats = cp.stats;
  for (const [name, help, read] of COUNTERS) {
    new Counter({
      name: `${prefix}_${name}`, help, registers: [registry],
      collect() { this.reset(); this.inc(read(stats)); },
    });
  }
  new Gauge({
    name: `${prefix}_sessions`, help: 'Transport sessions open now.', registers: [registry],
    collect() { this.set(stats.sessionsCurrent); },
  });
  new Gauge({
    name: `${prefix}_queued_records`, help: 'Decoded records waiting for the consumer.', registers: [registry],
    collect() { this.set(cp.queueDepth.records); },
  });
  new Counter({
    name: `${prefix}_decode_errors_total`, help: 'Decode errors by error code.', labelNames: ['code'], registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of stats.decodeErrors) this.inc({ code }, n);
    },
  });
  return registry;
}
