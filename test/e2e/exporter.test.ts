/**
 * End-to-end test of the Flow Exporter on a real kernel (issue 4, point 9).
 *
 * Cluster (network namespaces, test/e2e/netns):
 *   node1: pod-a (frontend, 10.244.1.10), pod-c (frontend, role=c, 10.244.1.11)
 *   node2: pod-b (backend, app=web, 10.244.2.10)
 *   agg (10.0.0.254): the fake Kubernetes API server, our IPFIX collector (TCP 4739, JSON lines)
 *                     and an "external" echo server
 * One `flowvis exporter` per node namespace (poll 1s, active 2s, idle 3s, NFLOG group 100) reads
 * Pods, Nodes, Namespaces, the Service backend/web (ClusterIP 10.96.0.10:80 → 8080, DNAT rule in
 * node1) and the NetworkPolicies backend/allow-frontend (ingress) and frontend/c-egress (egress)
 * from the fake API server, which the test fills over HTTP. Both nodes drop TCP port 9999 with an
 * NFLOG rule whose prefix names backend/deny-9999; node1 drops only the first SYN to port 7777.
 *
 * Traffic (socat, fixed source ports, IPv4 and IPv6), all at once, then the assertions read what
 * the collector printed and compare counters with `conntrack -L` in each node. Finally the
 * collector is restarted (the agents reconnect) and one agent is stopped with SIGTERM.
 * Runs in about 25 s. FV_E2E_DUMP=1 prints every record and the agents' logs at the end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NetnsCluster } from './netns/cluster.ts';
import { networkPolicy, service } from './fake-apiserver/fixtures.ts';
import {
  agentConfigYaml, agentObservationDomainId, big, canonicalIP, clusterObjects, CollectorProcess,
  conntrackEntryFor, ExporterProcess, FakeApiServerProcess, fiveTuple, fnv1, num, pollUntil, runClient,
  startEchoServer, str, summarize, withTuple, WorkDir,
  type ClientOptions, type FiveTuple, type FlowRecord,
} from './exporter-helpers/index.ts';
import type { ExecResult } from './netns/exec.ts';

const NFLOG_GROUP = 100;
const DENY_PREFIX = 'fv:Ingress:Drop:backend/deny-9999:drop-9999';
const FIRST_SYN_PREFIX = 'fv:Ingress:Drop:backend/first-syn:drop-first';
const CLUSTER_IP = '10.96.0.10';
const TCP = 6;
const UDP = 17;
const END = { idle: 1, active: 2, end: 3 } as const;
const FLOW_TYPE = { intraNode: 1, interNode: 2, toExternal: 3, fromExternal: 4 } as const;
const LONG_TRANSFER = 'for i in $(seq 12); do head -c 1000 /dev/zero; sleep 0.5; done';
const THREE_DATAGRAMS = 'for i in 1 2 3; do echo ping$i; sleep 0.2; done';

/** One client conversation: where it runs, what it sends, and the 5-tuple its records must carry. */
interface Conversation {
  from: string;
  client: ClientOptions;
  /** The record's 5-tuple (destination after DNAT). */
  tuple: FiveTuple;
}

type ConversationName =
  | 'interTcp' | 'intraTcp' | 'udp' | 'long' | 'service' | 'tcp6' | 'udp6'
  | 'denied' | 'denied6' | 'deniedIntra' | 'firstSynDropped' | 'toExternal' | 'fromExternal';

function conversations(cluster: NetnsCluster): Record<ConversationName, Conversation> {
  const a = cluster.pod('pod-a');
  const b = cluster.pod('pod-b');
  const pc = cluster.pod('pod-c');
  const agg = cluster.aggregator!;
  const conv = (
    from: string, fromIP: string, proto: 'tcp' | 'udp', host: string, port: number, sourcePort: number,
    extra: Partial<ClientOptions> = {}, recordDst: { ip: string; port: number } = { ip: host, port },
  ): Conversation => ({
    from,
    client: { proto, family: host.includes(':') ? 6 : 4, host, port, sourcePort, ...(proto === 'udp' ? { halfCloseTimeout: 1 } : {}), ...extra },
    tuple: {
      sourceIP: fromIP, destinationIP: recordDst.ip, sourceTransportPort: sourcePort,
      destinationTransportPort: recordDst.port, protocolIdentifier: proto === 'tcp' ? TCP : UDP,
    },
  });
  const dropped = { options: ['connect-timeout=2'], allowFailure: true };
  return {
    interTcp: conv('pod-a', a.ipv4, 'tcp', b.ipv4, 8080, 41001, { producer: 'head -c 3000 /dev/zero' }),
    intraTcp: conv('pod-a', a.ipv4, 'tcp', pc.ipv4, 8080, 41002),
    udp: conv('pod-c', pc.ipv4, 'udp', b.ipv4, 5353, 41003, { producer: THREE_DATAGRAMS }),
    long: conv('pod-a', a.ipv4, 'tcp', b.ipv4, 8080, 41004, { producer: LONG_TRANSFER }),
    // Addressed to the ClusterIP; the record's destination is the Pod after DNAT.
    service: conv('pod-a', a.ipv4, 'tcp', CLUSTER_IP, 80, 41006, { producer: 'printf service' }, { ip: b.ipv4, port: 8080 }),
    tcp6: conv('pod-c', pc.ipv6, 'tcp', b.ipv6, 8080, 41007, { producer: 'printf ipv6' }),
    udp6: conv('pod-a', a.ipv6, 'udp', b.ipv6, 5353, 41008, { producer: 'echo v6' }),
    denied: conv('pod-a', a.ipv4, 'tcp', b.ipv4, 9999, 41005, dropped),
    denied6: conv('pod-a', a.ipv6, 'tcp', b.ipv6, 9999, 41009, dropped),
    deniedIntra: conv('pod-a', a.ipv4, 'tcp', pc.ipv4, 9999, 41010, dropped),
    // node1 drops only the first SYN to port 7777; the retransmitted SYN gets through.
    firstSynDropped: conv('pod-a', a.ipv4, 'tcp', b.ipv4, 7777, 41013, { producer: 'printf retry' }),
    toExternal: conv('pod-a', a.ipv4, 'tcp', agg.ipv4, 8080, 41011, { producer: 'printf out' }),
    fromExternal: conv('agg', agg.ipv4, 'tcp', b.ipv4, 8080, 41012, { producer: 'printf in' }),
  };
}

describe('flow exporter on two nodes: conntrack + NFLOG → IPFIX → collector', { timeout: 180_000 }, () => {
  let cluster: NetnsCluster | undefined;
  let work: WorkDir | undefined;
  let collector: CollectorProcess;
  const exporters = new Map<string, ExporterProcess>();
  let trafficStartSeconds = 0;
  const od = { node1: agentObservationDomainId('node1'), node2: agentObservationDomainId('node2') };
  let conv: Record<ConversationName, Conversation>;
  const results = new Map<ConversationName, ExecResult>();
  let t: Record<ConversationName, FiveTuple>;

  const c = (): NetnsCluster => {
    if (!cluster) throw new Error('no cluster');
    return cluster;
  };
  const recordsOf = (tuple: FiveTuple, node?: 'node1' | 'node2'): FlowRecord[] =>
    collector.records().filter(withTuple(tuple, node ? od[node] : undefined));
  /** Waits for a record of `tuple` from `node` that satisfies `pred`; returns the first such. */
  const waitForRecord = async (tuple: FiveTuple, node: 'node1' | 'node2', what: string, pred: (r: FlowRecord) => boolean = () => true): Promise<FlowRecord> =>
    (await collector.waitForRecords((r) => withTuple(tuple, od[node])(r) && pred(r), `${what} from ${node}`, { timeoutMs: 20_000 }))[0];

  before(async () => {
    cluster = await NetnsCluster.create({
      nodes: [
        { name: 'node1', pods: ['pod-a', 'pod-c'] },
        { name: 'node2', pods: ['pod-b'] },
      ],
      aggregator: true,
      forwardRules: [`tcp dport 9999 log prefix "${DENY_PREFIX}" group ${NFLOG_GROUP} drop`],
    });
    work = await WorkDir.create('fv-exporter-e2e-');
    conv = conversations(cluster);
    t = Object.fromEntries(Object.entries(conv).map(([k, v]) => [k, v.tuple])) as Record<ConversationName, FiveTuple>;
    const b = cluster.pod('pod-b');

    // Kubernetes metadata, created over the fake API server's HTTP API.
    const api = await FakeApiServerProcess.start(cluster, { kubeconfigPath: work.file('kubeconfig') });
    const fromFrontend = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'frontend' } } }];
    await api.createAll([
      ...clusterObjects(cluster, {
        pods: {
          'pod-a': { namespace: 'frontend', labels: { app: 'client' } },
          'pod-c': { namespace: 'frontend', labels: { app: 'client', role: 'c' } },
          'pod-b': { namespace: 'backend', labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] },
        },
        namespaceLabels: { frontend: { team: 'front' }, backend: { team: 'back' } },
      }),
      service('backend', 'web', { clusterIPs: [CLUSTER_IP], ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] }),
      // Ingress to pod-b from the frontend namespace: TCP to the named port "http" (rule 0), UDP 5353 (rule 1).
      networkPolicy('backend', 'allow-frontend', {
        podSelector: { matchLabels: { app: 'web' } },
        policyTypes: ['Ingress'],
        ingress: [
          { from: fromFrontend, ports: [{ protocol: 'TCP', port: 'http' }] },
          { from: fromFrontend, ports: [{ protocol: 'UDP', port: 5353 }] },
        ],
      }),
      // Egress of pod-c: TCP 8080 to namespaces labelled team=back (rule 0), UDP 5353 to node2's Pod CIDR (rule 1).
      networkPolicy('frontend', 'c-egress', {
        podSelector: { matchLabels: { role: 'c' } },
        policyTypes: ['Egress'],
        egress: [
          { to: [{ namespaceSelector: { matchLabels: { team: 'back' } } }], ports: [{ protocol: 'TCP', port: 8080 }] },
          { to: [{ ipBlock: { cidr: cluster.node('node2').podCIDRv4 } }], ports: [{ protocol: 'UDP', port: 5353 }] },
        ],
      }),
    ]);

    // The Service's data path: DNAT in the source Pod's node, as kube-proxy would do.
    await cluster.nft('node1', [
      'table ip nat {',
      '  chain prerouting {',
      '    type nat hook prerouting priority -100;',
      `    ip daddr ${CLUSTER_IP} tcp dport 80 dnat to ${b.ipv4}:8080`,
      '  }',
      '}',
    ].join('\n'));

    // node1 only: drop (and log) the first SYN to port 7777, let the retransmission through.
    await cluster.exec('node1', ['nft', 'insert rule inet fvt forward tcp dport 7777 limit rate 1/hour burst 1 packets ' +
      `log prefix "${FIRST_SYN_PREFIX}" group ${NFLOG_GROUP} drop`]);

    collector = await CollectorProcess.start(cluster, { port: 4739, proto: 'tcp', httpPort: 8090 });
    const config = await work.write('antrea-agent.conf', agentConfigYaml({
      flowCollectorAddr: collector.flowCollectorAddr,
      flowPollInterval: '1s', activeFlowExportTimeout: '2s', idleFlowExportTimeout: '3s',
      nflogGroup: NFLOG_GROUP,
    }));
    const started = await Promise.all(['node1', 'node2'].map((node) => ExporterProcess.start(c(), {
      node, configPath: config, kubeconfigPath: api.kubeconfigPath, metricsAddress: '127.0.0.1', metricsPort: 10350,
    })));
    for (const e of started) exporters.set(e.node, e);

    const servers = [['pod-b', 'tcp', 8080], ['pod-c', 'tcp', 8080], ['pod-b', 'udp', 5353], ['pod-b', 'tcp', 7777], ['agg', 'tcp', 8080]] as const;
    for (const [where, proto, port] of servers) await startEchoServer(cluster, where, proto, port);

    // All conversations at once; the long transfer (12 × 1000 bytes over ~6 s) sets the pace.
    trafficStartSeconds = Math.floor(Date.now() / 1000);
    await Promise.all(Object.entries(conv).map(async ([name, v]) => {
      results.set(name as ConversationName, await runClient(c(), v.from, v.client));
    }));
    assert.equal(results.get('interTcp')!.stdout.length, 3000, 'the echo server returned every byte');
    assert.equal(results.get('service')!.stdout, 'service', 'the ClusterIP answered through DNAT');
    assert.equal(results.get('tcp6')!.stdout, 'ipv6');
    assert.equal(results.get('fromExternal')!.stdout, 'in');
    assert.equal(results.get('firstSynDropped')!.stdout, 'retry', 'connected after the first SYN was dropped');
    for (const name of ['denied', 'denied6', 'deniedIntra'] as const) {
      assert.notEqual(results.get(name)!.code, 0, `the ${name} connection to port 9999 was dropped`);
    }
  });

  after(async () => {
    // FV_E2E_DUMP=1 prints what the collector received and the agents' logs (for debugging).
    if (process.env.FV_E2E_DUMP && cluster) {
      process.stderr.write(`collector records:\n${collector?.records().map(summarize).join('\n')}\n`);
      for (const e of exporters.values()) process.stderr.write(`--- exporter ${e.node} stderr:\n${e.process.stderr}\n`);
    }
    await cluster?.destroy();
    await work?.remove();
  });

  it('exports records from both nodes with each node\'s observation domain (FNV-1 of the Node name)', async () => {
    await waitForRecord(t.interTcp, 'node1', 'a record of the inter-node connection');
    await waitForRecord(t.interTcp, 'node2', 'a record of the inter-node connection');
    const all = collector.records();
    for (const r of all) {
      const expected = r.exporterAddress === c().node('node1').ipv4 ? od.node1 : r.exporterAddress === c().node('node2').ipv4 ? od.node2 : -1;
      assert.equal(r.obsDomainID, expected, `observation domain of ${summarize(r)} from ${r.exporterAddress}`);
      assert.equal(r.templateID, 'sourceIPv4Address' in r.data ? 256 : 257, `template of ${summarize(r)}`);
    }
    // The test's own FNV-1 (fnv1.ts) against the published test vectors, so the check above means something.
    assert.deepEqual([fnv1(''), fnv1('a'), fnv1('foobar')], [0x811c9dc5, 0x050c5d7e, 0x31f0b262]);
    // Only Pod traffic: the agents' own connections (API server, collector) are not exported.
    const nodeIPs = new Set(c().nodes.flatMap((n) => [n.ipv4, canonicalIP(n.ipv6)]));
    for (const r of all) {
      const tuple = fiveTuple(r);
      assert.ok(!nodeIPs.has(canonicalIP(tuple.sourceIP)) && !nodeIPs.has(canonicalIP(tuple.destinationIP)), `no Node-to-Node flow: ${summarize(r)}`);
    }
  });

  it('inter-node TCP: 5-tuple, Pods and Nodes as seen by each node, flowType 2', async () => {
    const r1 = await waitForRecord(t.interTcp, 'node1', 'inter-node TCP');
    const r2 = await waitForRecord(t.interTcp, 'node2', 'inter-node TCP');
    for (const r of [r1, r2]) {
      assert.equal(r.templateID, 256);
      assert.equal(r.data.sourceIPv4Address, t.interTcp.sourceIP);
      assert.equal(r.data.destinationIPv4Address, t.interTcp.destinationIP);
      assert.equal(r.data.sourceTransportPort, 41001);
      assert.equal(r.data.destinationTransportPort, 8080);
      assert.equal(r.data.protocolIdentifier, TCP);
      assert.equal(r.data.flowType, FLOW_TYPE.interNode);
      assert.equal(r.data.destinationClusterIPv4, '0.0.0.0');
      assert.equal(r.data.destinationServicePortName, '');
    }
    // Source node: only the local (source) Pod is named.
    assert.equal(r1.data.sourcePodName, 'pod-a');
    assert.equal(r1.data.sourcePodNamespace, 'frontend');
    assert.equal(r1.data.sourceNodeName, 'node1');
    assert.equal(r1.data.destinationPodName, '');
    assert.equal(r1.data.destinationPodNamespace, '');
    assert.equal(r1.data.destinationNodeName, '');
    // Destination node: only the destination Pod.
    assert.equal(r2.data.sourcePodName, '');
    assert.equal(r2.data.sourcePodNamespace, '');
    assert.equal(r2.data.sourceNodeName, '');
    assert.equal(r2.data.destinationPodName, 'pod-b');
    assert.equal(r2.data.destinationPodNamespace, 'backend');
    assert.equal(r2.data.destinationNodeName, 'node2');
  });

  it('intra-node TCP: both Pods and the Node named by node1, flowType 1, nothing from node2', async () => {
    const r = await waitForRecord(t.intraTcp, 'node1', 'intra-node TCP');
    assert.equal(r.data.sourcePodName, 'pod-a');
    assert.equal(r.data.sourcePodNamespace, 'frontend');
    assert.equal(r.data.sourceNodeName, 'node1');
    assert.equal(r.data.destinationPodName, 'pod-c');
    assert.equal(r.data.destinationPodNamespace, 'frontend');
    assert.equal(r.data.destinationNodeName, 'node1');
    assert.equal(r.data.flowType, FLOW_TYPE.intraNode);
    assert.deepEqual(recordsOf(t.intraTcp, 'node2'), [], 'node2 never saw this connection');
  });

  it('TCP close: flowEndReason 3 with tcpState TIME_WAIT or CLOSE; counters equal the kernel\'s entry on both nodes', async () => {
    for (const node of ['node1', 'node2'] as const) {
      const last = await waitForRecord(t.interTcp, node, 'the end-of-flow record', (r) => r.data.flowEndReason === END.end);
      assert.match(str(last, 'tcpState'), /^(TIME_WAIT|CLOSE)$/);
      const ct = await conntrackEntryFor(c().ns(node), t.interTcp);
      assert.ok(ct, `conntrack entry of the connection in ${node}`);
      assert.match(ct.state, /^(TIME_WAIT|CLOSE)$/);
      assert.equal(big(last, 'packetTotalCount'), ct.packets, `packets (${node}): ${ct.line.raw}`);
      assert.equal(big(last, 'octetTotalCount'), ct.bytes, `octets (${node})`);
      assert.equal(big(last, 'reversePacketTotalCount'), ct.replyPackets, `reverse packets (${node})`);
      assert.equal(big(last, 'reverseOctetTotalCount'), ct.replyBytes, `reverse octets (${node})`);
      // 3000 bytes each way plus TCP/IP headers
      assert.ok(ct.bytes > 3000n && ct.replyBytes > 3000n);
      // Deltas add up to the totals over all of the connection's records.
      const all = recordsOf(t.interTcp, node);
      const sum = (f: string): bigint => all.reduce((s, r) => s + big(r, f), 0n);
      assert.equal(sum('octetDeltaCount'), ct.bytes);
      assert.equal(sum('reverseOctetDeltaCount'), ct.replyBytes);
      assert.equal(sum('packetDeltaCount'), ct.packets);
      // Start from the kernel's timestamp (seconds), end at the poll that saw the close.
      assert.ok(num(last, 'flowStartSeconds') >= trafficStartSeconds - 1, `flowStartSeconds ${num(last, 'flowStartSeconds')} >= ${trafficStartSeconds}`);
      assert.ok(num(last, 'flowEndSeconds') >= num(last, 'flowStartSeconds'));
      assert.ok(num(last, 'flowEndSeconds') <= Date.now() / 1000 + 1);
    }
  });

  it('UDP: idle export (flowEndReason 1) with counters equal to the kernel\'s entry on both nodes', async () => {
    for (const node of ['node1', 'node2'] as const) {
      const idle = await waitForRecord(t.udp, node, 'the idle UDP record', (r) => r.data.flowEndReason === END.idle);
      assert.equal(idle.data.protocolIdentifier, UDP);
      assert.equal(idle.data.tcpState, '');
      assert.equal(idle.data.flowType, FLOW_TYPE.interNode);
      if (node === 'node1') assert.equal(idle.data.sourcePodName, 'pod-c');
      else assert.equal(idle.data.destinationPodName, 'pod-b');
      const ct = await conntrackEntryFor(c().ns(node), t.udp);
      assert.ok(ct, `conntrack entry of the UDP flow in ${node}`);
      assert.equal(big(idle, 'packetTotalCount'), ct.packets, `packets (${node}): ${ct.line.raw}`);
      assert.equal(ct.packets, 3n, 'three datagrams sent');
      assert.equal(big(idle, 'octetTotalCount'), ct.bytes);
      assert.equal(big(idle, 'reversePacketTotalCount'), ct.replyPackets);
      assert.equal(big(idle, 'reverseOctetTotalCount'), ct.replyBytes);
    }
  });

  it('a 6-second transfer is exported with active-timeout records (flowEndReason 2) before its end', async () => {
    for (const node of ['node1', 'node2'] as const) {
      await waitForRecord(t.long, node, 'the end of the long transfer', (r) => r.data.flowEndReason === END.end);
      const all = recordsOf(t.long, node);
      const active = all.filter((r) => r.data.flowEndReason === END.active);
      assert.ok(active.length >= 2, `at least two active-timeout records from ${node}:\n${all.map(summarize).join('\n')}`);
      // Totals grow record after record; each record's delta is the growth since the previous one.
      let prevOctets = 0n;
      for (const r of all) {
        const total = big(r, 'octetTotalCount');
        assert.ok(total >= prevOctets, 'totals never decrease');
        assert.equal(big(r, 'octetDeltaCount'), total - prevOctets, `delta of ${summarize(r)}`);
        prevOctets = total;
      }
      const last = all[all.length - 1];
      assert.equal(last.data.flowEndReason, END.end, 'the last record ends the flow');
      for (const r of active) assert.ok(big(r, 'octetTotalCount') < big(last, 'octetTotalCount'), 'active records come before the end');
      // One start time (the kernel's) for every record; the flow lasted the ~6 s of the transfer.
      assert.equal(new Set(all.map((r) => num(r, 'flowStartSeconds'))).size, 1, 'same flowStartSeconds in every record');
      const duration = num(last, 'flowEndSeconds') - num(last, 'flowStartSeconds');
      assert.ok(duration >= 5 && duration <= 12, `flow duration ${duration} s`);
      assert.ok(Math.abs(num(last, 'flowStartSeconds') - trafficStartSeconds) <= 2, 'started with the traffic');
      const ct = await conntrackEntryFor(c().ns(node), t.long);
      assert.ok(ct);
      assert.equal(big(last, 'octetTotalCount'), ct.bytes);
      assert.equal(big(last, 'reverseOctetTotalCount'), ct.replyBytes);
      assert.ok(ct.bytes > 12_000n);
    }
  });

  it('a connection dropped by an nft rule with NFLOG is exported as a deny record, and never from conntrack', async () => {
    const cases = [
      { name: 'denied', tuple: t.denied, synBytes: 60n, dst: ['', '', ''], flowType: FLOW_TYPE.interNode },
      { name: 'denied6', tuple: t.denied6, synBytes: 80n, dst: ['', '', ''], flowType: FLOW_TYPE.interNode },
      { name: 'deniedIntra', tuple: t.deniedIntra, synBytes: 60n, dst: ['pod-c', 'frontend', 'node1'], flowType: FLOW_TYPE.intraNode },
    ];
    for (const k of cases) {
      const deny = await waitForRecord(k.tuple, 'node1', `the deny record of ${k.name}`);
      assert.equal(deny.templateID, k.tuple.sourceIP.includes(':') ? 257 : 256);
      // The policy as the log prefix names it.
      assert.equal(deny.data.ingressNetworkPolicyRuleAction, 2, 'Drop');
      assert.equal(deny.data.ingressNetworkPolicyType, 1);
      assert.equal(deny.data.ingressNetworkPolicyName, 'deny-9999');
      assert.equal(deny.data.ingressNetworkPolicyNamespace, 'backend');
      assert.equal(deny.data.ingressNetworkPolicyRuleName, 'drop-9999');
      assert.equal(deny.data.egressNetworkPolicyRuleAction, 0);
      assert.equal(deny.data.flowEndReason, END.end);
      assert.equal(deny.data.tcpState, '');
      assert.equal(deny.data.sourcePodName, 'pod-a');
      assert.equal(deny.data.sourcePodNamespace, 'frontend');
      assert.equal(deny.data.sourceNodeName, 'node1');
      assert.deepEqual([deny.data.destinationPodName, deny.data.destinationPodNamespace, deny.data.destinationNodeName], k.dst);
      assert.equal(deny.data.flowType, k.flowType);
      const packets = big(deny, 'packetTotalCount');
      assert.ok(packets >= 1n && packets <= 3n, `SYN and its retransmissions: ${packets}`);
      assert.equal(big(deny, 'octetTotalCount'), k.synBytes * packets, `SYNs of ${k.synBytes} bytes (IP length)`);
      assert.equal(big(deny, 'packetDeltaCount'), packets, 'first export: delta = total');
      assert.equal(big(deny, 'reversePacketTotalCount'), 0n);
      assert.equal(big(deny, 'reverseOctetTotalCount'), 0n);
      // The packets never passed node1: node2 saw nothing, and no conntrack entry exists anywhere.
      for (const node of ['node1', 'node2'] as const) {
        assert.equal(await conntrackEntryFor(c().ns(node), k.tuple), undefined, `no conntrack entry in ${node}`);
      }
      for (const r of recordsOf(k.tuple)) {
        assert.equal(r.obsDomainID, od.node1, `only node1 reports it: ${summarize(r)}`);
        assert.equal(r.data.ingressNetworkPolicyRuleAction, 2, `every record of it is a deny record: ${summarize(r)}`);
        assert.equal(r.data.flowEndReason, END.end);
      }
    }
  });

  it('a key whose first SYN was dropped: the deny record comes before the conntrack records of the same 5-tuple', async () => {
    const tuple = t.firstSynDropped;
    const end = await waitForRecord(tuple, 'node1', 'the end of the connection', (r) => r.data.flowEndReason === END.end && r.data.tcpState !== '');
    const all = recordsOf(tuple, 'node1');
    const denies = all.filter((r) => r.data.tcpState === '');
    assert.equal(denies.length, 1, `one deny record:\n${all.map(summarize).join('\n')}`);
    const deny = denies[0];
    assert.equal(deny.data.ingressNetworkPolicyName, 'first-syn');
    assert.equal(deny.data.ingressNetworkPolicyRuleName, 'drop-first');
    assert.equal(deny.data.ingressNetworkPolicyRuleAction, 2);
    assert.equal(big(deny, 'packetTotalCount'), 1n, 'only the first SYN was dropped');
    assert.equal(big(deny, 'octetTotalCount'), 60n);
    for (const r of all.filter((x) => x !== deny)) {
      assert.ok(r.seq > deny.seq, `the deny record is sent first: ${summarize(r)}`);
      assert.equal(r.data.ingressNetworkPolicyRuleAction, 0, 'conntrack records do not carry the deny (pod-b is not local to node1)');
    }
    // The conntrack record counts what the kernel tracked: the dropped SYN is not part of it.
    const ct = await conntrackEntryFor(c().ns('node1'), tuple);
    assert.ok(ct);
    assert.equal(big(end, 'packetTotalCount'), ct.packets);
    assert.equal(big(end, 'octetTotalCount'), ct.bytes);
    // node2 saw only the allowed connection.
    const r2 = await waitForRecord(tuple, 'node2', 'the allowed connection', (r) => r.data.flowEndReason === END.end);
    assert.ok(recordsOf(tuple, 'node2').every((r) => r.data.tcpState !== ''), 'no deny record from node2');
    assert.equal(big(r2, 'packetTotalCount'), ct.packets, 'both nodes counted the same packets');
  });

  it('pod-to-Service: the record of the DNATed connection carries the Service and the ClusterIP', async () => {
    const r = await waitForRecord(t.service, 'node1', 'the Service connection');
    assert.equal(r.data.destinationIPv4Address, c().pod('pod-b').ipv4, 'destination after DNAT');
    assert.equal(r.data.destinationTransportPort, 8080);
    assert.equal(r.data.destinationClusterIPv4, CLUSTER_IP);
    assert.equal(r.data.destinationServicePort, 80);
    assert.equal(r.data.destinationServicePortName, 'backend/web:http');
    assert.equal(r.data.sourcePodName, 'pod-a');
    assert.equal(r.data.flowType, FLOW_TYPE.interNode);
    // node2 sees the connection after DNAT, without the Service.
    const r2 = await waitForRecord(t.service, 'node2', 'the Service connection');
    assert.equal(r2.data.destinationPodName, 'pod-b');
    assert.equal(r2.data.destinationClusterIPv4, '0.0.0.0');
  });

  it('IPv6: inter-node TCP and UDP records use template 257 with the Pods\' IPv6 addresses', async () => {
    for (const node of ['node1', 'node2'] as const) {
      const r = await waitForRecord(t.tcp6, node, 'the IPv6 TCP connection', (x) => x.data.flowEndReason === END.end);
      assert.equal(r.templateID, 257);
      assert.equal(canonicalIP(str(r, 'sourceIPv6Address')), canonicalIP(c().pod('pod-c').ipv6));
      assert.equal(canonicalIP(str(r, 'destinationIPv6Address')), canonicalIP(c().pod('pod-b').ipv6));
      assert.equal(r.data.flowType, FLOW_TYPE.interNode);
      assert.match(str(r, 'tcpState'), /^(TIME_WAIT|CLOSE)$/);
      assert.equal(r.data.destinationClusterIPv6, '::');
      if (node === 'node1') {
        assert.equal(r.data.sourcePodName, 'pod-c');
        assert.equal(r.data.sourceNodeName, 'node1');
      } else {
        assert.equal(r.data.destinationPodName, 'pod-b');
        assert.equal(r.data.destinationNodeName, 'node2');
      }
      const ct = await conntrackEntryFor(c().ns(node), t.tcp6);
      assert.ok(ct);
      assert.equal(big(r, 'octetTotalCount'), ct.bytes);
      assert.equal(big(r, 'reverseOctetTotalCount'), ct.replyBytes);
      const u = await waitForRecord(t.udp6, node, 'the IPv6 UDP flow');
      assert.equal(u.templateID, 257);
      assert.equal(u.data.protocolIdentifier, UDP);
    }
  });

  it('NetworkPolicy: node2 attributes the ingress to backend/allow-frontend rule ingress-0 (Allow)', async () => {
    const r2 = await waitForRecord(t.interTcp, 'node2', 'inter-node TCP');
    assert.equal(r2.data.ingressNetworkPolicyName, 'allow-frontend');
    assert.equal(r2.data.ingressNetworkPolicyNamespace, 'backend');
    assert.equal(r2.data.ingressNetworkPolicyType, 1);
    assert.equal(r2.data.ingressNetworkPolicyRuleAction, 1);
    assert.equal(r2.data.ingressNetworkPolicyRuleName, 'ingress-0');
    assert.equal(r2.data.egressNetworkPolicyRuleAction, 0, 'pod-b\'s egress is not isolated');
    // The source node does not report the destination's ingress policy, and pod-a's egress is not isolated.
    const r1 = await waitForRecord(t.interTcp, 'node1', 'inter-node TCP');
    assert.equal(r1.data.ingressNetworkPolicyName, '');
    assert.equal(r1.data.ingressNetworkPolicyRuleAction, 0);
    assert.equal(r1.data.egressNetworkPolicyRuleAction, 0);
  });

  it('NetworkPolicy: rule indexes, egress rules on the source node, IPv6 and a connection no rule allows', async () => {
    const policy = (r: FlowRecord, dir: 'ingress' | 'egress'): string =>
      ['Namespace', 'Name', 'Type', 'RuleName', 'RuleAction'].map((f) => String(r.data[`${dir}NetworkPolicy${f}`])).join('|');
    // UDP to pod-b: ingress rule 1 at node2; pod-c's egress through the ipBlock rule 1 at node1.
    assert.equal(policy(await waitForRecord(t.udp, 'node2', 'UDP'), 'ingress'), 'backend|allow-frontend|1|ingress-1|1');
    const udp1 = await waitForRecord(t.udp, 'node1', 'UDP');
    assert.equal(policy(udp1, 'egress'), 'frontend|c-egress|1|egress-1|1');
    assert.equal(policy(udp1, 'ingress'), '||0||0');
    // IPv6 TCP from pod-c: egress rule 0 (namespaceSelector) at node1, ingress rule 0 (named port) at node2.
    assert.equal(policy(await waitForRecord(t.tcp6, 'node1', 'IPv6 TCP'), 'egress'), 'frontend|c-egress|1|egress-0|1');
    assert.equal(policy(await waitForRecord(t.tcp6, 'node2', 'IPv6 TCP'), 'ingress'), 'backend|allow-frontend|1|ingress-0|1');
    assert.equal(policy(await waitForRecord(t.udp6, 'node2', 'IPv6 UDP'), 'ingress'), 'backend|allow-frontend|1|ingress-1|1');
    // From outside the cluster: pod-b is isolated and no rule allows it; the CNI let it through,
    // so the record says Drop with no policy name (Kubernetes' default deny).
    assert.equal(policy(await waitForRecord(t.fromExternal, 'node2', 'from-external'), 'ingress'), '||1||2');
  });

  it('external traffic: flowType 3 (to external) on the source node, 4 (from external) on the destination node', async () => {
    const out = await waitForRecord(t.toExternal, 'node1', 'to-external TCP');
    assert.equal(out.data.flowType, FLOW_TYPE.toExternal);
    assert.equal(out.data.sourcePodName, 'pod-a');
    assert.equal(out.data.destinationIPv4Address, c().aggregator!.ipv4);
    assert.equal(out.data.destinationPodName, '');
    const inbound = await waitForRecord(t.fromExternal, 'node2', 'from-external TCP');
    assert.equal(inbound.data.flowType, FLOW_TYPE.fromExternal);
    assert.equal(inbound.data.sourceIPv4Address, c().aggregator!.ipv4);
    assert.equal(inbound.data.sourcePodName, '');
    assert.equal(inbound.data.destinationPodName, 'pod-b');
    assert.equal(inbound.data.destinationNodeName, 'node2');
    assert.deepEqual(recordsOf(t.toExternal, 'node2'), [], 'node2 never saw the to-external connection');
    assert.deepEqual(recordsOf(t.fromExternal, 'node1'), [], 'node1 never saw the from-external connection');
  });

  it('metrics: tracked connections, one collector connection, denied connections', async () => {
    const m1 = await pollUntil(async () => {
      const m = await exporters.get('node1')!.metrics();
      return (m.get('antrea_agent_denied_connection_count') ?? 0) >= 1 ? m : undefined;
    }, { timeoutMs: 10_000, what: 'node1 denied_connection_count >= 1' });
    const m2 = await exporters.get('node2')!.metrics();
    for (const m of [m1, m2]) {
      assert.ok((m.get('antrea_agent_conntrack_antrea_connection_count') ?? 0) > 0, 'connections in the store');
      assert.ok((m.get('antrea_agent_conntrack_total_connection_count') ?? 0) > 0, 'connections in conntrack');
      assert.equal(m.get('antrea_agent_flow_collector_reconnection_count'), 1, 'connected once, never reconnected');
      assert.ok((m.get('antrea_agent_conntrack_max_connection_count') ?? 0) > 0);
      assert.ok((m.get('antrea_agent_conntrack_poll_cycle_duration_seconds_count') ?? 0) >= 3, 'polled every second');
    }
    assert.ok(m1.get('antrea_agent_denied_connection_count')! >= 1);
    assert.equal(m2.get('antrea_agent_denied_connection_count'), 0, 'nothing was dropped at node2');
  });

  it('the collector\'s GET /records serves the same records it printed', async () => {
    const agg = c().aggregator!;
    const r = await c().exec('agg', ['curl', '-sS', '--fail', '--max-time', '5', `http://${agg.ipv4}:8090/records`]);
    const body = JSON.parse(r.stdout) as { flowRecords: { obsDomainID: number; templateID: number; data: string }[] };
    const printed = collector.records().length;
    assert.ok(body.flowRecords.length >= printed && printed > 0, `${body.flowRecords.length} served, ${printed} printed`);
    assert.ok(body.flowRecords.some((x) => x.obsDomainID === od.node1 && x.data.includes('sourcePodName: pod-a')));
  });

  it('reconnects to a restarted collector and sends the templates again', async () => {
    await collector.stop();
    collector = await CollectorProcess.start(c(), { port: 4739, proto: 'tcp' });
    for (const e of exporters.values()) {
      await pollUntil(async () => (await e.metrics()).get('antrea_agent_flow_collector_reconnection_count') === 2,
        { timeoutMs: 20_000, intervalMs: 250, what: `${e.node} reconnected to the new collector` });
    }
    const b = c().pod('pod-b');
    const tuple: FiveTuple = { sourceIP: c().pod('pod-a').ipv4, destinationIP: b.ipv4, sourceTransportPort: 41014, destinationTransportPort: 8080, protocolIdentifier: TCP };
    const r = await runClient(c(), 'pod-a', { proto: 'tcp', family: 4, host: b.ipv4, port: 8080, sourcePort: 41014, producer: 'printf again' });
    assert.equal(r.stdout, 'again');
    for (const node of ['node1', 'node2'] as const) {
      const rec = await waitForRecord(tuple, node, 'a record after the reconnection', (x) => x.data.flowEndReason === END.end);
      assert.equal(rec.templateID, 256);
    }
  });

  it('an exporter stops cleanly on SIGTERM (exit code 0) and the collector sees its session close', async () => {
    const e = exporters.get('node2')!;
    await e.process.kill('SIGTERM', 10_000);
    assert.equal(e.process.exitCode, 0, `exit code; stderr:\n${e.process.stderr.slice(-2000)}`);
    assert.ok(e.logLines(/stopping flow exporter/).length === 1);
    const ip = c().node('node2').ipv4.replaceAll('.', '\\.');
    await collector.process.waitForOutput(new RegExp(`"exporter":"${ip}"[^\\n]*"msg":"IPFIX collector: session closed"`), 5000, 'stderr');
  });
});
