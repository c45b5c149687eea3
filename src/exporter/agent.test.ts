import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowExporterAgent, type RecordSink } from './agent.ts';
import { parseAgentConfig } from '../config/agent-config.ts';
import { StaticInventorySource } from '../k8s/static-inventory.ts';
import { ObjectEntryView } from '../conntrack/object-view.ts';
import { emptyTuple, type ConntrackEntry } from '../conntrack/entry.ts';
import { IPS } from '../conntrack/constants.ts';
import type { ConntrackSource, DumpStats } from '../conntrack/source.ts';
import type { Template } from '../ipfix/template.ts';

/** A conntrack table held in memory, served through the ConntrackSource interface. */
class TableSource implements ConntrackSource {
  readonly kind = 'netlink' as const;
  entries: ConntrackEntry[] = [];
  async dump(visit: Parameters<ConntrackSource['dump']>[0]): Promise<DumpStats> {
    for (const e of this.entries) visit(new ObjectEntryView(e));
    return { visited: this.entries.length, received: this.entries.length, malformed: 0, lastError: undefined, durationMs: 0 };
  }
  async dumpAll(): Promise<ConntrackEntry[]> {
    return this.entries;
  }
  close(): void {}
}

class CapturingSink implements RecordSink {
  readonly stats = { reconnections: 1, recordsDropped: 0 };
  templates: Template[] = [];
  records: { template: Template; values: readonly unknown[] }[] = [];
  flushes = 0;
  addTemplate(t: Template): void { this.templates.push(t); }
  addRecord(template: Template, values: readonly unknown[]): void { this.records.push({ template, values }); }
  flush(): void { this.flushes++; }
}

const INVENTORY = `
nodes: [{name: node1, podCIDR: 10.244.1.0/24}, {name: node2, podCIDR: 10.244.2.0/24}]
pods:
  - {name: a, namespace: ns, ip: 10.244.1.10, node: node1}
  - {name: b, namespace: ns, ip: 10.244.2.10, node: node2}
`;

function tcp(sport: number, over: Partial<ConntrackEntry> = {}): ConntrackEntry {
  return {
    family: 'ipv4',
    original: { ...emptyTuple(), src: '10.244.1.10', dst: '10.244.2.10', protocol: 6, srcPort: sport, dstPort: 80 },
    reply: { ...emptyTuple(), src: '10.244.2.10', dst: '10.244.1.10', protocol: 6, srcPort: 80, dstPort: sport },
    origPackets: 5n, origBytes: 500n, replyPackets: 4n, replyBytes: 400n, startTime: 1_700_000_000_000_000_000n, stopTime: 0n,
    tcpState: 'ESTABLISHED', status: IPS.CONFIRMED, mark: 0, labels: null, zone: 0, id: sport, timeout: 100, ...over,
  };
}

test('polls conntrack, exports expired connections with the agent template and updates its metrics', async () => {
  const { config } = parseAgentConfig('featureGates: {FlowExporter: true}\nflowExporter: {enable: true, flowCollectorAddr: "127.0.0.1:4739:tcp", flowPollInterval: 1s, activeFlowExportTimeout: 2s, idleFlowExportTimeout: 3s}\n');
  let now = 1_700_000_000_000;
  const source = new TableSource();
  const sink = new CapturingSink();
  const agent = new FlowExporterAgent({
    nodeName: 'node1', config: config.flowExporter, conntrack: source, sink, now: () => now,
    metadata: new StaticInventorySource({ text: INVENTORY, localNodeName: 'node1' }), conntrackMax: 262144,
  });
  assert.deepEqual(sink.templates.map((t) => t.id), [256, 257]);
  source.entries = [tcp(40000), tcp(40001)];
  await agent.pollOnce();
  assert.equal(agent.store.size, 2);
  assert.equal(agent.exportDue(), 0);
  now += 2000;
  await agent.pollOnce();
  assert.equal(agent.exportDue(), 2);
  assert.equal(sink.records.length, 2);
  const r = sink.records[0];
  assert.equal(r.template.id, 256);
  assert.equal(r.values[r.template.indexOf('sourcePodName')], 'a');
  assert.equal(r.values[r.template.indexOf('destinationPodName')], '', 'b is not on node1');
  assert.equal(r.values[r.template.indexOf('flowType')], 2);
  assert.equal(r.values[r.template.indexOf('octetDeltaCount')], 500n);
  const text = await agent.metrics.registry.metrics();
  assert.match(text, /antrea_agent_conntrack_antrea_connection_count 2/);
  assert.match(text, /antrea_agent_conntrack_total_connection_count 2/);
  assert.match(text, /antrea_agent_conntrack_max_connection_count 262144/);
  assert.match(text, /antrea_agent_flow_collector_reconnection_count 1/);
  assert.match(text, /antrea_agent_conntrack_poll_cycle_duration_seconds_count 2/);
  assert.match(text, /flowvis_agent_records_exported_total\{store="conntrack"\} 2/);
  // A connection that goes away is exported as ended.
  source.entries = [tcp(40000, { origPackets: 9n, origBytes: 900n })];
  now += 1000;
  await agent.pollOnce();
  now += 1000;
  await agent.pollOnce();
  agent.exportDue();
  const ended = sink.records.slice(2).find((x) => x.values[x.template.indexOf('sourceTransportPort')] === 40001);
  assert.equal(ended?.values[ended.template.indexOf('flowEndReason')], 3);
  await agent.stop();
});
