import { test } from 'node:test';
import { createServer, type AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { AggregatorService, EXPORTS_PER_TURN } from './aggregator-service.ts';
import { parseAggregatorConfig } from '../../config/aggregator-config.ts';
import { SinkSet } from '../sinks/sink-set.ts';
import type { Sink, SinkStats } from '../sinks/sink.ts';
import { zeroValue, type AggregatedFlow } from '../core/index.ts';
import { ExportingProcess } from '../../transport/exporting-process.ts';
import { CollectingProcess, type CollectedMessage } from '../../transport/collecting-process.ts';
import { agentTemplate, agentElementNames, fnv1_32, proxyElementNames, type DataRecord, type FieldValue } from '../../ipfix/index.ts';
import { ipfixSinkOptionsFromConfig, ProxyIpfixSink } from '../sinks/ipfix/index.ts';
import { proxySinkFromConfig } from '../sinks/sink-set.ts';
import { StaticInventorySource } from '../../k8s/static-inventory.ts';
import { generatePki, type Pki } from '../certs/index.ts';

/** Collects what the aggregator exports. */
class MemorySink implements Sink {
  readonly name = 'memory';
  flows: AggregatedFlow[] = [];
  offer(flow: AggregatedFlow): void { this.flows.push(flow); }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  stats(): SinkStats { return { queued: 0, sent: this.flows.length, dropped: 0, failures: 0 }; }
}

const INVENTORY = `
nodes: [{name: node1, podCIDR: 10.244.1.0/24}, {name: node2, podCIDR: 10.244.2.0/24}]
pods:
  - {name: client, namespace: web, ip: 10.244.1.10, node: node1, labels: {app: client, tier: front}}
  - {name: server, namespace: api, ip: 10.244.2.10, node: node2, labels: {app: server}}
`;

function agentValues(fields: Record<string, FieldValue>): FieldValue[] {
  const base: Record<string, FieldValue> = {
    flowStartSeconds: 1_700_000_000, flowEndSeconds: 1_700_000_010, flowEndReason: 2, sourceTransportPort: 40000, destinationTransportPort: 8080,
    protocolIdentifier: 6, packetTotalCount: 10n, octetTotalCount: 10_000n, packetDeltaCount: 10n, octetDeltaCount: 10_000n,
    sourceIPv4Address: '10.244.1.10', destinationIPv4Address: '10.244.2.10', reversePacketTotalCount: 5n, reverseOctetTotalCount: 500n,
    reversePacketDeltaCount: 5n, reverseOctetDeltaCount: 500n, tcpState: 'ESTABLISHED', flowType: 2, destinationClusterIPv4: '0.0.0.0', ...fields,
  };
  return agentElementNames(4).map((n) => base[n] ?? zeroValue(n));
}

/** One TCP exporting process per Node (node1, node2), each with its Node's observation domain. */
function nodeExporters(port: number, template: ReturnType<typeof agentTemplate>): ExportingProcess[] {
  return ['node1', 'node2'].map((node) => new ExportingProcess({
    host: '127.0.0.1', port, transport: 'tcp', observationDomainId: fnv1_32(node), templates: [template], flushIntervalMs: 10,
  }).start());
}

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('records from both Nodes over TCP are correlated into one flow with both Pods and labels', async () => {
  const { config } = parseAggregatorConfig(`
aggregatorTransportProtocol: TCP
activeFlowRecordTimeout: 1s
inactiveFlowRecordTimeout: 3s
recordContents: {podLabels: true}
clusterID: 8b5c3f2e-1d4a-4b7e-9c2f-5a6d7e8f9012
ipfixCollector: {address: 127.0.0.1, port: ${await freeTcpPort()}}
`);
  const sink = new MemorySink();
  const service = new AggregatorService({
    config, sinks: new SinkSet([sink]), metadata: new StaticInventorySource({ text: INVENTORY }),
  });
  const { port } = await service.start();
  const t = agentTemplate(4);
  const exporters = nodeExporters(port, t);
  try {
    exporters[0].addRecord(t, agentValues({ sourcePodName: 'client', sourcePodNamespace: 'web', sourceNodeName: 'node1',
      egressNetworkPolicyName: 'allow-out', egressNetworkPolicyNamespace: 'web', egressNetworkPolicyType: 1, egressNetworkPolicyRuleAction: 1, egressNetworkPolicyRuleName: 'egress-0' }));
    exporters[1].addRecord(t, agentValues({ destinationPodName: 'server', destinationPodNamespace: 'api', destinationNodeName: 'node2',
      ingressNetworkPolicyName: 'allow-in', ingressNetworkPolicyNamespace: 'api', ingressNetworkPolicyType: 1, ingressNetworkPolicyRuleAction: 1, ingressNetworkPolicyRuleName: 'ingress-0' }));
    for (const e of exporters) e.flush();
    const deadline = Date.now() + 5000;
    while (sink.flows.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(sink.flows.length, 1);
    const f = sink.flows[0];
    assert.equal(f.correlationState, 'correlated');
    assert.equal(f.sourcePodName, 'client');
    assert.equal(f.destinationPodName, 'server');
    assert.equal(f.sourceNodeName, 'node1');
    assert.equal(f.destinationNodeName, 'node2');
    assert.equal(f.ingressNetworkPolicyName, 'allow-in');
    assert.equal(f.egressNetworkPolicyName, 'allow-out');
    assert.equal(f.octetTotalCountFromSourceNode, 10_000n);
    assert.equal(f.octetTotalCountFromDestinationNode, 10_000n);
    assert.equal(f.sourcePodLabels, '{"app":"client","tier":"front"}');
    assert.equal(f.destinationPodLabels, '{"app":"server"}');
    assert.equal(f.clusterId, '8b5c3f2e-1d4a-4b7e-9c2f-5a6d7e8f9012');
    const m = service.recordMetrics();
    assert.equal(m.numRecordsReceived, 2);
    assert.equal(m.numRecordsExported, 1);
    assert.equal(m.numConnToCollector, 2);
    assert.equal(m.numFlows, 1);
    const text = await service.registry.metrics();
    assert.match(text, /flowvis_aggregator_exporters_connected 2/);
    assert.match(text, /flowvis_aggregator_flows_correlated_total 1/);
    assert.match(text, /flowvis_aggregator_sink_records_sent_total\{sink="memory"\} 1/);
  } finally {
    for (const e of exporters) await e.close();
    await service.stop();
  }
});

test('stop() exports what is pending in chunks, a turn of the event loop apart, so sinks can drain', async () => {
  const { config } = parseAggregatorConfig(`
aggregatorTransportProtocol: TCP
ipfixCollector: {address: 127.0.0.1, port: ${await freeTcpPort()}}
`);
  /** Counts the flows offered in each turn of the event loop. */
  class TurnCountingSink extends MemorySink {
    perTurn: number[] = [];
    private turnEnded = false;
    override offer(flow: AggregatedFlow): void {
      super.offer(flow);
      if (this.perTurn.length === 0 || this.turnEnded) {
        this.perTurn.push(0);
        this.turnEnded = false;
        setImmediate(() => { this.turnEnded = true; });
      }
      this.perTurn[this.perTurn.length - 1]++;
    }
  }
  const sink = new TurnCountingSink();
  const service = new AggregatorService({ config, sinks: new SinkSet([sink]) });
  const { port } = await service.start();
  const t = agentTemplate(4);
  const exporter = new ExportingProcess({ host: '127.0.0.1', port, transport: 'tcp', observationDomainId: 1, templates: [t], flushIntervalMs: 10 }).start();
  const total = 2 * EXPORTS_PER_TURN + 500;
  try {
    // Inter-Node records from the source Node only: they wait for the other Node, so all are pending at stop().
    for (let i = 0; i < total; i++) {
      exporter.addRecord(t, agentValues({ sourceTransportPort: 10_000 + i, sourcePodName: 'client', sourcePodNamespace: 'web', sourceNodeName: 'node1' }));
    }
    exporter.flush();
    const deadline = Date.now() + 5000;
    while (service.core.stats().recordsReceived < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(sink.flows.length, 0, 'nothing exported before stop()');
  } finally {
    await exporter.close();
    await service.stop();
  }
  assert.equal(sink.flows.length, total);
  assert.ok(sink.flows.every((f) => f.correlationState === 'one-sided'));
  assert.deepEqual(sink.perTurn, [EXPORTS_PER_TURN, EXPORTS_PER_TURN, 500]);
});

test('renewed TLS credentials apply to the next handshakes; open connections keep theirs', async () => {
  const { config } = parseAggregatorConfig(`
aggregatorTransportProtocol: TLS
clusterID: 8b5c3f2e-1d4a-4b7e-9c2f-5a6d7e8f9012
ipfixCollector: {address: 127.0.0.1, port: ${await freeTcpPort()}}
`);
  const before = generatePki({ extraIpAddresses: ['127.0.0.1'] });
  const after = generatePki({ extraIpAddresses: ['127.0.0.1'] }); // a new CA, as after a CA renewal
  const service = new AggregatorService({
    config, sinks: new SinkSet([new MemorySink()]),
    tls: { cert: before.server.cert, key: before.server.key, ca: before.ca.cert, requireClientCert: true },
  });
  const { port } = await service.start();
  const exporters: ExportingProcess[] = [];
  /** Resolves with 'connect' or 'connectFailed', whichever the exporter reports first. */
  const attempt = (pki: Pki): Promise<string> => {
    const e = new ExportingProcess({
      host: '127.0.0.1', port, transport: 'tls', observationDomainId: 1, templates: [agentTemplate(4)],
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    });
    exporters.push(e);
    const outcome = new Promise<string>((resolve) => {
      e.once('connect', () => resolve('connect'));
      e.once('connectFailed', () => resolve('connectFailed'));
    });
    e.start();
    return outcome;
  };
  try {
    assert.equal(await attempt(before), 'connect');
    service.setTlsCredentials({ cert: after.server.cert, key: after.server.key, ca: after.ca.cert });
    assert.equal(await attempt(before), 'connectFailed', 'an exporter with the old CA rejects the new server certificate');
    assert.equal(await attempt(after), 'connect', 'the new CA and client certificate work');
    // The server side completes its handshake a moment after the client (TLS 1.3).
    const deadline = Date.now() + 5000;
    while (service.collector!.sessions().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(service.collector!.sessions().length, 2, 'the first connection stays open');
  } finally {
    for (const e of exporters) await e.close();
    await service.stop();
  }
});

test('Proxy mode forwards every record at once in the proxy template, with its origin and direction', async () => {
  const downstream = new CollectingProcess({ transport: 'tcp', address: '127.0.0.1', port: 0 });
  const { port: downstreamPort } = await downstream.start();
  const received: CollectedMessage[] = [];
  const consuming = (async () => { for await (const batch of downstream.batches()) received.push(...batch); })();
  const { config } = parseAggregatorConfig(`
mode: Proxy
aggregatorTransportProtocol: TCP
recordContents: {podLabels: true}
clusterID: 8b5c3f2e-1d4a-4b7e-9c2f-5a6d7e8f9012
flowCollector: {enable: true, address: "127.0.0.1:${downstreamPort}:tcp"}
ipfixCollector: {address: 127.0.0.1, port: ${await freeTcpPort()}}
`);
  const proxySink = new ProxyIpfixSink(ipfixSinkOptionsFromConfig(config.flowCollector, { clusterUUID: '8b5c3f2e-1d4a-4b7e-9c2f-5a6d7e8f9012' }));
  const service = new AggregatorService({
    config, sinks: new SinkSet([]), proxySink, metadata: new StaticInventorySource({ text: INVENTORY }),
  });
  const { port } = await service.start();
  const t = agentTemplate(4);
  const exporters = nodeExporters(port, t);
  try {
    exporters[0].addRecord(t, agentValues({ sourcePodName: 'client', sourcePodNamespace: 'web', sourceNodeName: 'node1' }));
    exporters[1].addRecord(t, agentValues({ destinationPodName: 'server', destinationPodNamespace: 'api', destinationNodeName: 'node2' }));
    for (const e of exporters) e.flush();
    const deadline = Date.now() + 5000;
    const records = (): DataRecord[] => received.flatMap((m) => m.records);
    while (records().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(records().length, 2, 'one record downstream per record received, not aggregated');
    const byDomain = new Map(records().map((r) => {
      const v = Object.fromEntries(r.template.names.map((n, i) => [n, r.values[i]]));
      return [v.originalObservationDomainId, v];
    }));
    assert.deepEqual(records()[0]?.template.names, proxyElementNames(4));
    assert.equal(records()[0]?.template.id, 256);
    const fromSource = byDomain.get(fnv1_32('node1'))!;
    const fromDestination = byDomain.get(fnv1_32('node2'))!;
    assert.equal(fromSource.flowDirection, 1);
    assert.equal(fromSource.destinationPodName, 'server');
    assert.equal(fromSource.sourcePodLabels, '{"app":"client","tier":"front"}');
    assert.equal(fromSource.originalExporterIPv4Address, '127.0.0.1');
    assert.equal(fromSource.clusterId, '8b5c3f2e-1d4a-4b7e-9c2f-5a6d7e8f9012');
    assert.equal(fromDestination.flowDirection, 0);
    assert.equal(fromDestination.sourcePodName, 'client');
    const metrics = service.recordMetrics();
    assert.equal(metrics.numFlows, 0);
    assert.equal(metrics.numRecordsReceived, 2);
    assert.equal(metrics.numRecordsExported, 2);
    assert.equal(metrics.withIPFIXExporter, true);
    const text = await service.registry.metrics();
    assert.match(text, /^flowvis_aggregator_records_exported_total 2$/m);
    assert.match(text, /^flowvis_aggregator_sink_records_sent_total\{sink="ipfix"\} 2$/m);
  } finally {
    for (const e of exporters) await e.close();
    await service.stop();
    await downstream.close();
    await consuming;
  }
});

test('Proxy mode with recordFormat JSON writes each forwarded record as one JSON line', async () => {
  let text = '';
  const server = createServer((sock) => sock.on('data', (c: Buffer) => { text += c.toString(); }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jsonPort = (server.address() as AddressInfo).port;
  const { config } = parseAggregatorConfig(`
mode: Proxy
aggregatorTransportProtocol: TCP
flowCollector: {enable: true, address: "127.0.0.1:${jsonPort}:tcp", recordFormat: JSON}
ipfixCollector: {address: 127.0.0.1, port: ${await freeTcpPort()}}
`);
  const proxySink = proxySinkFromConfig(config.flowCollector, { clusterUUID: '8b5c3f2e-1d4a-4b7e-9c2f-5a6d7e8f9012' });
  assert.equal(proxySink.name, 'json');
  const service = new AggregatorService({ config, sinks: new SinkSet([]), proxySink, clusterUUID: '8b5c3f2e-1d4a-4b7e-9c2f-5a6d7e8f9012' });
  const { port } = await service.start();
  const t = agentTemplate(4);
  const exporters = nodeExporters(port, t);
  try {
    exporters[0].addRecord(t, agentValues({ sourcePodName: 'client', sourcePodNamespace: 'web', sourceNodeName: 'node1', octetTotalCount: 2n ** 60n + 1n }));
    exporters[0].flush();
    const deadline = Date.now() + 5000;
    while (!text.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const [line] = text.split('\n');
    assert.match(line!, /^\{"@timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ","ipfix":\{"appProtocolName":"",/);
    assert.match(line!, /"clusterId":"8b5c3f2e-1d4a-4b7e-9c2f-5a6d7e8f9012",/);
    assert.match(line!, /"flowDirection":1,/);
    assert.match(line!, /"octetTotalCount":1152921504606846977,/, 'exact 64-bit integers');
    assert.match(line!, new RegExp(`"originalObservationDomainId":${fnv1_32('node1')},`));
    const keys = [...line!.matchAll(/"([A-Za-z0-9]+)":/g)].map((m) => m[1]).slice(1); // after "ipfix"
    assert.deepEqual(keys, [...proxyElementNames(4)].sort(), 'every element of the proxy template, keys in order');
  } finally {
    for (const e of exporters) await e.close();
    await service.stop();
    await new Promise((resolve) => server.close(resolve));
  }
});
