import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentElementNames, agentTemplate, buildTemplate, proxyElementNames, type DataRecord, type FieldValue, type IpFamily } from '../../ipfix/index.ts';
import { StaticInventorySource } from '../../k8s/static-inventory.ts';
import { zeroValue } from '../core/index.ts';
import { FLOW_DIRECTION, flowDirection, ProxyProcess, type ProxiedRecord } from './proxy-process.ts';

const INVENTORY = `
nodes: [{name: node1, podCIDR: 10.244.1.0/24}, {name: node2, podCIDR: 10.244.2.0/24}]
pods:
  - {name: client, namespace: web, ip: 10.244.1.10, node: node1, labels: {tier: front, app: client}}
  - {name: server, namespace: api, ip: 10.244.2.10, node: node2, labels: {}}
`;

function record(fields: Record<string, FieldValue>, family: IpFamily = 4): DataRecord {
  const base: Record<string, FieldValue> = {
    flowStartSeconds: 1_700_000_000, flowEndSeconds: 1_700_000_010, sourceTransportPort: 40000, destinationTransportPort: 8080, protocolIdentifier: 6,
    sourceIPv4Address: '10.244.1.10', destinationIPv4Address: '10.244.2.10', packetDeltaCount: 3n, ...fields,
  };
  const template = agentTemplate(family);
  const header = { version: 10, length: 0, exportTime: 1_700_000_011, sequenceNumber: 0, observationDomainId: 7 };
  return { template, header, values: agentElementNames(family).map((n) => base[n] ?? zeroValue(n)) };
}

function proxy(podLabels = true): { p: ProxyProcess; out: Record<string, FieldValue>[] } {
  const out: Record<string, FieldValue>[] = [];
  const sink = (r: ProxiedRecord): void => {
    const names = proxyElementNames(r.family);
    assert.equal(r.values.length, names.length, 'one value per element of the proxy template');
    out.push(Object.fromEntries(names.map((n, i) => [n, r.values[i] as FieldValue])));
  };
  const p = new ProxyProcess({ sink, clusterId: 'c-1', metadata: new StaticInventorySource({ text: INVENTORY }), podLabels });
  return { p, out };
}

describe('Proxy mode', () => {
  it('gives each record its direction as its Node saw it', () => {
    assert.equal(flowDirection(2, 'client', ''), FLOW_DIRECTION.egress);
    assert.equal(flowDirection(2, '', 'server'), FLOW_DIRECTION.ingress);
    assert.equal(flowDirection(2, 'client', 'server'), FLOW_DIRECTION.unknown);
    assert.equal(flowDirection(3, 'client', ''), FLOW_DIRECTION.egress);
    assert.equal(flowDirection(4, '', 'server'), FLOW_DIRECTION.ingress);
    assert.equal(flowDirection(4, 'client', ''), FLOW_DIRECTION.unknown);
    assert.equal(flowDirection(1, 'client', 'server'), FLOW_DIRECTION.unknown);
  });

  it('forwards each Node\'s record on its own: the other end looked up, labels, cluster and origin added', () => {
    const { p, out } = proxy();
    assert.equal(p.ingest(record({ flowType: 2, sourcePodName: 'client', sourcePodNamespace: 'web', sourceNodeName: 'node1' }), { exporterAddress: '192.0.2.1', observationDomainId: 11 }), null);
    assert.equal(p.ingest(record({ flowType: 2, destinationPodName: 'server', destinationPodNamespace: 'api', destinationNodeName: 'node2' }), { exporterAddress: 'fd00::2', observationDomainId: 22 }), null);
    assert.equal(out.length, 2);
    const [fromSource, fromDestination] = out as [Record<string, FieldValue>, Record<string, FieldValue>];
    assert.equal(fromSource.flowDirection, 1);
    assert.equal(fromSource.destinationPodName, 'server', 'filled by address at the flow start');
    assert.equal(fromSource.destinationNodeName, 'node2');
    assert.equal(fromSource.sourcePodLabels, '{"app":"client","tier":"front"}');
    assert.equal(fromSource.destinationPodLabels, '{}');
    assert.equal(fromSource.clusterId, 'c-1');
    assert.equal(fromSource.originalObservationDomainId, 11);
    assert.equal(fromSource.originalExporterIPv4Address, '192.0.2.1');
    assert.equal(fromSource.originalExporterIPv6Address, '::');
    assert.equal(fromSource.packetDeltaCount, 3n, 'the statistics are the Node\'s own');
    assert.equal(fromDestination.flowDirection, 0);
    assert.equal(fromDestination.sourcePodName, 'client');
    assert.equal(fromDestination.originalExporterIPv4Address, '0.0.0.0');
    assert.equal(fromDestination.originalExporterIPv6Address, 'fd00::2');
    assert.deepEqual(p.counters, { recordsReceived: 2, recordsForwarded: 2, recordsDropped: 0 });
  });

  it('keeps intra-Node records as they are, without labels when podLabels is off, and IPv6 records in their layout', () => {
    const { p, out } = proxy(false);
    p.ingest(record({ flowType: 1, sourcePodName: 'client', sourcePodNamespace: 'web', destinationPodName: 'other', destinationPodNamespace: 'web' }), { exporterAddress: '192.0.2.1', observationDomainId: 1 });
    p.ingest(record({ flowType: 3, sourceIPv6Address: 'fd00::10', destinationIPv6Address: '2001:db8::1', sourcePodName: 'x', sourcePodNamespace: 'web' }, 6), { exporterAddress: '192.0.2.1', observationDomainId: 1 });
    assert.equal(out[0]?.flowDirection, 0xff);
    assert.equal(out[0]?.destinationPodName, 'other');
    assert.equal(out[0]?.sourcePodLabels, '');
    assert.equal(out[1]?.sourceIPv6Address, 'fd00::10');
    assert.equal(out[1]?.flowDirection, 1);
  });

  it('drops and counts a record it cannot key', () => {
    const { p, out } = proxy();
    const t = buildTemplate(300, ['octetDeltaCount']);
    const err = p.ingest({ template: t, header: { version: 10, length: 0, exportTime: 0, sequenceNumber: 0, observationDomainId: 1 }, values: [5n] }, { exporterAddress: '192.0.2.1', observationDomainId: 1 });
    assert.ok(err);
    assert.equal(out.length, 0);
    assert.deepEqual(p.counters, { recordsReceived: 1, recordsForwarded: 0, recordsDropped: 1 });
  });
});
