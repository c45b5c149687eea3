/**
 * End-to-end: flowCollectorAddr as a Kubernetes Service reference ("namespace/name:port:proto"),
 * the agent's default way of finding the Flow Aggregator. docs/configuration.md: the reference "is
 * resolved to the Service's ClusterIP on every (re)connection" (Antrea resolves it each time it
 * (re)initialises its exporter, and retries while the Service does not exist).
 *
 * Cluster: node1 with pod-a and pod-b; "agg" (10.0.0.254) runs the fake API server and our
 * collector. The ClusterIP reaches the collector through a DNAT rule in node1's output hook (the
 * agent's own connection), as kube-proxy would program it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { service } from './fake-apiserver/fixtures.ts';
import { NetnsCluster } from './netns/cluster.ts';
import {
  agentConfigYaml, agentObservationDomainId, clusterObjects, CollectorProcess, delay, ExporterProcess,
  FakeApiServerProcess, pollUntil, runClient, startEchoServer, withTuple, WorkDir,
  type FiveTuple,
} from './exporter-helpers/index.ts';

const COLLECTOR_ADDR = 'flow-aggregator/flow-aggregator:4739:tcp';
const FIRST_IP = '10.96.0.20';
const SECOND_IP = '10.96.0.21';

function aggregatorService(clusterIP: string): ReturnType<typeof service> {
  return service('flow-aggregator', 'flow-aggregator', { clusterIPs: [clusterIP], ports: [{ name: 'ipfix-tcp', port: 4739, protocol: 'TCP', targetPort: 4739 }] });
}

describe('flowCollectorAddr as a Service reference', { timeout: 120_000 }, () => {
  let cluster: NetnsCluster | undefined;
  let work: WorkDir | undefined;
  let api: FakeApiServerProcess;
  let collector: CollectorProcess;
  let config: string;
  let nextPort = 42001;

  const c = (): NetnsCluster => {
    if (!cluster) throw new Error('no cluster');
    return cluster;
  };

  /** DNAT of the ClusterIP to the collector for connections that node1 itself opens. */
  const routeClusterIP = async (clusterIP: string): Promise<void> => {
    await c().exec('node1', ['nft', 'delete table ip svc'], { allowFailure: true });
    await c().nft('node1', [
      'table ip svc {',
      '  chain output {',
      '    type nat hook output priority -100;',
      `    ip daddr ${clusterIP} tcp dport 4739 dnat to ${c().aggregator!.ipv4}:4739`,
      '  }',
      '}',
    ].join('\n'));
  };

  /** One TCP conversation pod-a → pod-b and the record it must produce at node1. */
  const converse = async (): Promise<FiveTuple> => {
    const a = c().pod('pod-a');
    const b = c().pod('pod-b');
    const sourcePort = nextPort++;
    const r = await runClient(c(), 'pod-a', { proto: 'tcp', family: 4, host: b.ipv4, port: 8080, sourcePort, producer: 'printf x' });
    assert.equal(r.stdout, 'x');
    return { sourceIP: a.ipv4, destinationIP: b.ipv4, sourceTransportPort: sourcePort, destinationTransportPort: 8080, protocolIdentifier: 6 };
  };

  const awaitRecord = (tuple: FiveTuple, what: string): Promise<unknown> =>
    collector.waitForRecords(withTuple(tuple, agentObservationDomainId('node1')), what, { timeoutMs: 20_000 });

  before(async () => {
    cluster = await NetnsCluster.create({ nodes: [{ name: 'node1', pods: ['pod-a', 'pod-b'] }], aggregator: true });
    work = await WorkDir.create('fv-exporter-svcref-');
    api = await FakeApiServerProcess.start(cluster, { kubeconfigPath: work.file('kubeconfig') });
    await api.createAll([
      ...clusterObjects(cluster, { namespaceLabels: { 'flow-aggregator': {} } }),
    ]);
    collector = await CollectorProcess.start(cluster, { port: 4739, proto: 'tcp' });
    config = await work.write('antrea-agent.conf', agentConfigYaml({ flowCollectorAddr: COLLECTOR_ADDR }));
    await startEchoServer(cluster, 'pod-b', 'tcp', 8080);
    // A route for the Service range (a real node has a default route) so that the agent's connect()
    // gets past routing; the output hook's DNAT then rewrites it to the collector.
    await cluster.exec('node1', ['ip', 'route', 'add', '10.96.0.0/12', 'via', cluster.aggregator!.ipv4]);
    await routeClusterIP(FIRST_IP);
  });

  after(async () => {
    await cluster?.destroy();
    await work?.remove();
  });

  it('waits for a collector Service that does not exist yet, then connects to its ClusterIP', async () => {
    assert.equal((await api.list('Service', 'flow-aggregator')).length, 0);
    const exporter = await ExporterProcess.start(c(), { node: 'node1', configPath: config, kubeconfigPath: api.kubeconfigPath, metricsPort: 10351, readyPattern: null });
    try {
      await delay(4000);
      assert.ok(exporter.process.running, `the agent keeps running without its collector Service:\n${exporter.process.stderr.slice(-1500)}`);
      await api.create(aggregatorService(FIRST_IP));
      await exporter.process.waitForOutput(/"msg":"IPFIX exporter connected"/, 20_000, 'stderr');
      await awaitRecord(await converse(), 'a record once the Service exists');
    } finally {
      await exporter.stop();
      await api.remove('Service', 'flow-aggregator', 'flow-aggregator');
    }
  });

  it('resolves an existing Service to its ClusterIP and exports through it', async () => {
    await api.apply(aggregatorService(FIRST_IP));
    const exporter = await ExporterProcess.start(c(), { node: 'node1', configPath: config, kubeconfigPath: api.kubeconfigPath, metricsPort: 10352 });
    try {
      await exporter.process.waitForOutput(/"msg":"IPFIX exporter connected"/, 10_000, 'stderr');
      const connected = exporter.logLines(/IPFIX exporter connected/);
      assert.equal(connected.length, 1);
      assert.equal(connected[0].host, FIRST_IP, 'connected to the ClusterIP');
      await awaitRecord(await converse(), 'a record through the ClusterIP');
    } finally {
      await exporter.stop();
    }
  });

  it('follows the Service to a new ClusterIP when it reconnects', async () => {
    await api.apply(aggregatorService(FIRST_IP));
    const exporter = await ExporterProcess.start(c(), { node: 'node1', configPath: config, kubeconfigPath: api.kubeconfigPath, metricsPort: 10353 });
    try {
      // The Service is recreated with another ClusterIP; only the new one leads to the collector.
      await api.remove('Service', 'flow-aggregator', 'flow-aggregator');
      await api.create(aggregatorService(SECOND_IP));
      await routeClusterIP(SECOND_IP);
      // Restarting the collector drops the connection: the agent must reconnect to the new ClusterIP.
      await collector.stop();
      collector = await CollectorProcess.start(c(), { port: 4739, proto: 'tcp' });
      await pollUntil(async () => (await exporter.metrics()).get('antrea_agent_flow_collector_reconnection_count') === 2, {
        timeoutMs: 15_000, intervalMs: 250, what: 'a reconnection to the new ClusterIP',
        describe: () => exporter.process.stderr.slice(-1500),
      });
      const hosts = exporter.logLines(/IPFIX exporter connected/).map((l) => l.host);
      assert.deepEqual(hosts, [FIRST_IP, SECOND_IP]);
      await awaitRecord(await converse(), 'a record through the new ClusterIP');
    } finally {
      await exporter.stop();
    }
  });
});
