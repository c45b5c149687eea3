/**
 * End-to-end test of the Flow Aggregator in Proxy mode on a real kernel:
 *
 *   node1: pod-a (frontend, app=client)   node2: pod-b (backend, app=web)   one agent per node
 *   agg: the fake API server; `flowvis aggregator` with mode: Proxy (TLS on 4739, podLabels);
 *        our `flowvis collector` on TCP 4740 receiving what it forwards
 *
 * One inter-Node TCP connection pod-a → pod-b. In Proxy mode nothing is correlated: each Node's
 * record arrives downstream on its own, in the 49-element proxy template, with the agent's
 * observation domain and address, the direction as that Node saw it (node1 egress, node2 ingress),
 * the other end's Pod looked up by the aggregator, the Pods' labels, and that Node's own counters
 * (compared with `conntrack -L` in each node). About 30 s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { proxyElementNames } from '../../src/ipfix/index.ts';
import { NetnsCluster } from './netns/cluster.ts';
import {
  agentObservationDomainId, big, conntrackEntryFor, runClient, startEchoServer, withTuple, WorkDir,
  type FiveTuple, type FlowRecord,
} from './exporter-helpers/index.ts';
import { aggregatorObservationDomainId, startPipeline, type Pipeline } from './aggregator-helpers/index.ts';

const CLUSTER_UUID = '0d2a6c44-5b7e-4f3a-9c1d-7e8f9a0b1c2d';
const END_OF_FLOW = 3;

describe('flow aggregator in Proxy mode: each Node\'s record forwarded on its own', { timeout: 120_000 }, () => {
  let cluster: NetnsCluster | undefined;
  let work: WorkDir | undefined;
  let p: Pipeline;
  let tuple: FiveTuple;
  const aggOD = aggregatorObservationDomainId(CLUSTER_UUID);
  /** node → its final record of the connection. */
  const finals = new Map<string, FlowRecord>();

  before(async () => {
    cluster = await NetnsCluster.create({ nodes: [{ name: 'node1', pods: ['pod-a'] }, { name: 'node2', pods: ['pod-b'] }], aggregator: true });
    work = await WorkDir.create('fv-aggregator-proxy-e2e-');
    p = await startPipeline(cluster, {
      work,
      clusterUUID: CLUSTER_UUID,
      clusterObjects: {
        pods: {
          'pod-a': { namespace: 'frontend', labels: { app: 'client' } },
          'pod-b': { namespace: 'backend', labels: { app: 'web' } },
        },
      },
      aggregator: { mode: 'Proxy', podLabels: true },
      downstream: 'ipfix',
    });
    await startEchoServer(cluster, 'pod-b', 'tcp', 8080);
    const a = cluster.pod('pod-a');
    const b = cluster.pod('pod-b');
    tuple = { sourceIP: a.ipv4, destinationIP: b.ipv4, sourceTransportPort: 42601, destinationTransportPort: 8080, protocolIdentifier: 6 };
    const r = await runClient(cluster, 'pod-a', { proto: 'tcp', family: 4, host: b.ipv4, port: 8080, sourcePort: 42601, producer: 'head -c 3000 /dev/zero; sleep 1.5' });
    assert.equal(r.stdout.length, 3000, 'the echo server returned every byte');
    for (const node of ['node1', 'node2']) {
      const od = agentObservationDomainId(node);
      const [rec] = await p.collector!.waitForRecords(
        (x) => withTuple(tuple, aggOD)(x) && x.data.originalObservationDomainId === od && x.data.flowEndReason === END_OF_FLOW,
        `${node}'s end-of-flow record`, { timeoutMs: 30_000 });
      finals.set(node, rec as FlowRecord);
    }
  });

  after(async () => {
    await cluster?.destroy();
    await work?.remove();
  });

  it('forwards in the 49-element proxy template with the aggregator\'s observation domain', () => {
    const rec = finals.get('node1')!;
    assert.equal(rec.templateID, 256);
    assert.deepEqual(Object.keys(rec.data), proxyElementNames(4));
  });

  it('node1\'s record: egress, the destination Pod looked up, both Pods\' labels, node1\'s counters', async () => {
    const r = finals.get('node1')!;
    assert.equal(r.data.flowDirection, 1);
    assert.equal(r.data.sourcePodName, 'pod-a');
    assert.equal(r.data.destinationPodName, 'pod-b', 'filled by the aggregator (node1 does not know pod-b)');
    assert.equal(r.data.destinationNodeName, 'node2');
    assert.equal(r.data.sourcePodLabels, '{"app":"client"}');
    assert.equal(r.data.destinationPodLabels, '{"app":"web"}');
    assert.equal(r.data.clusterId, CLUSTER_UUID);
    const ct = await conntrackEntryFor(cluster!.ns('node1'), tuple);
    assert.ok(ct, 'node1 tracked the connection');
    assert.equal(big(r, 'octetTotalCount'), ct.bytes);
    assert.equal(big(r, 'reverseOctetTotalCount'), ct.replyBytes);
  });

  it('node2\'s record: ingress, the source Pod looked up, node2\'s counters', async () => {
    const r = finals.get('node2')!;
    assert.equal(r.data.flowDirection, 0);
    assert.equal(r.data.destinationPodName, 'pod-b');
    assert.equal(r.data.sourcePodName, 'pod-a', 'filled by the aggregator (node2 does not know pod-a)');
    const ct = await conntrackEntryFor(cluster!.ns('node2'), tuple);
    assert.ok(ct, 'node2 tracked the connection');
    assert.equal(big(r, 'octetTotalCount'), ct.bytes);
  });

  it('each record names the agent that sent it; nothing is kept as a flow', async () => {
    const connected = p.aggregator.logLines(/^exporter connected$/).map((l) => String(l.exporter).split(':')[0]);
    const origins = ['node1', 'node2'].map((n) => String(finals.get(n)!.data.originalExporterIPv4Address));
    assert.notEqual(origins[0], origins[1]);
    for (const o of origins) assert.ok(connected.includes(o), `${o} is one of the connected agents (${connected.join(', ')})`);
    for (const n of ['node1', 'node2']) assert.equal(finals.get(n)!.data.originalExporterIPv6Address, '::');
    const m = await p.aggregator.recordMetrics();
    assert.equal(m.numFlows, 0);
    assert.equal(m.numConnToCollector, 2);
    assert.ok(m.numRecordsExported > 0 && m.numRecordsExported === m.numRecordsReceived - m.numRecordsDropped, JSON.stringify(m));
  });
});
