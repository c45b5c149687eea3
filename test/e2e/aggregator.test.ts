/**
 * End-to-end test of the Flow Aggregator on a real kernel (issue 5, point 8; transport mismatch:
 * point 7), with the whole pipeline started by `startPipeline` (test/e2e/aggregator-helpers):
 *
 *   node1: pod-a (frontend, app=client), pod-c (frontend, app=worker)      one `flowvis exporter`
 *   node2: pod-b (backend, app=web, port "http" 8080)                       per node (poll 1s,
 *                                                                           active 2s, idle 3s)
 *   agg (10.0.0.254): the fake API server; `flowvis aggregator` (TLS on 4739, active 3s,
 *     inactive 6s, podLabels, API on 10348); our `flowvis collector` on TCP 4740 receiving the
 *     aggregator's IPFIX; later a plain TCP listener on 4741 receiving JSON lines; echo server 8080.
 *
 * The agents find the aggregator as Antrea's do: flowCollectorAddr
 * "flow-aggregator/flow-aggregator:4739:tls", a Service whose ClusterIP (10.96.0.100) each node
 * DNATs in its output hook to 10.0.0.254:4739, and TLS material (CA, client certificate) read from
 * the ConfigMap and Secret the aggregator published through the (fake) Kubernetes API.
 *
 * Kubernetes objects: Service backend/web (10.96.0.10 and fd00:10:96::a, port 80 → 8080, DNAT in
 * node1's prerouting hook), NetworkPolicies backend/allow-frontend (ingress of pod-b) and
 * frontend/client-egress (egress of pod-a), and the cluster UUID ConfigMap. node2 drops TCP 9997
 * with an NFLOG rule naming backend/deny-9997 (ingress drop), node1 drops TCP 9998 naming
 * frontend/deny-9998 (egress drop).
 *
 * Every conversation runs over IPv4 and IPv6 at once (the rate-limited transfers, ~7.5 s, set the
 * pace); the assertions read what the downstream collector printed and compare counters with
 * `conntrack -L` in each node. Then the aggregator is restarted with JSON-lines output (the agents
 * reconnect with the same CA) and a second round of traffic is checked there; finally an agent
 * configured for plain TCP talks to the TLS port.
 * About 70 s. FV_E2E_DUMP=1 prints every record and the processes' logs at the end.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { NetnsCluster } from './netns/cluster.ts';
import {
  big, canonicalIP, conntrackEntryFor, delay, ExporterProcess, num, pollUntil, runClient, startEchoServer, str, summarize,
  withTuple, WorkDir,
  type ClientOptions, type ConntrackCounters, type FieldValue, type FiveTuple, type FlowRecord,
} from './exporter-helpers/index.ts';
import {
  AGGREGATOR_CLUSTER_IP, AGGREGATOR_NAMESPACE, AGGREGATOR_TEMPLATE_ID, aggregatorObservationDomainId, aggregatorTemplateElements, dnatPodService, networkPolicy,
  service, startPipeline,
  type JsonLineRecord, type Pipeline,
} from './aggregator-helpers/index.ts';
import type { ExecResult } from './netns/exec.ts';

const NFLOG_GROUP = 100;
const CLUSTER_UUID = '6f1c3b1e-2f0a-4c5e-9d7b-0a1b2c3d4e5f';
const SVC = { 4: '10.96.0.10', 6: 'fd00:10:96::a' } as const;
const INGRESS_DROP = { port: 9997, prefix: 'fv:Ingress:Drop:backend/deny-9997:drop-9997' };
const EGRESS_DROP = { port: 9998, prefix: 'fv:Egress:Drop:frontend/deny-9998:drop-9998' };
/** The rate-limited transfer: CHUNK bytes every 100 ms, CHUNKS times (~8 s, ~2 Mbit/s). */
const CHUNK = 25_000;
const CHUNKS = 70;
const TCP = 6;
const END = { idle: 1, active: 2, end: 3 } as const;
const FLOW_TYPE = { intraNode: 1, interNode: 2, toExternal: 3 } as const;
const ACTION = { none: 0, allow: 1, drop: 2 } as const;
const LABELS = { 'pod-a': '{"app":"client"}', 'pod-b': '{"app":"web"}', 'pod-c': '{"app":"worker"}' } as const;

type Family = 4 | 6;
const FAMILIES: readonly Family[] = [4, 6];

interface Conversation {
  from: string;
  client: ClientOptions;
  /** The record's 5-tuple (destination after DNAT). */
  tuple: FiveTuple;
}

type ConversationName = 'intra' | 'inter' | 'external' | 'service' | 'ingressDrop' | 'egressDrop' | 'throughput';

const dropped = { options: ['connect-timeout=2'], allowFailure: true };
const RATE_LIMITED = `date +%s.%N >&2; for i in $(seq ${CHUNKS}); do head -c ${CHUNK} /dev/zero; sleep 0.1; done; date +%s.%N >&2`;

function conversations(cluster: NetnsCluster, sourcePortBase: number): Record<ConversationName, Record<Family, Conversation>> {
  const ip = (name: string, f: Family): string => {
    if (name === 'agg') return f === 4 ? cluster.aggregator!.ipv4 : cluster.aggregator!.ipv6;
    const p = cluster.pod(name);
    return f === 4 ? p.ipv4 : p.ipv6;
  };
  let next = sourcePortBase;
  const conv = (from: string, to: string, f: Family, port: number, extra: Partial<ClientOptions> = {}, recordDst?: { ip: string; port: number }): Conversation => {
    const sourcePort = next++;
    const host = to.startsWith('svc') ? SVC[f] : ip(to, f);
    return {
      from,
      client: { proto: 'tcp', family: f, host, port, sourcePort, ...extra },
      tuple: {
        sourceIP: ip(from, f), destinationIP: recordDst?.ip ?? host, sourceTransportPort: sourcePort,
        destinationTransportPort: recordDst?.port ?? port, protocolIdentifier: TCP,
      },
    };
  };
  const both = (make: (f: Family) => Conversation): Record<Family, Conversation> => ({ 4: make(4), 6: make(6) });
  return {
    intra: both((f) => conv('pod-a', 'pod-c', f, 8080, { producer: 'printf intra' })),
    // Longer than a second (see 'short inter-node connections' below).
    inter: both((f) => conv('pod-a', 'pod-b', f, 8080, { producer: 'head -c 3000 /dev/zero; sleep 1.5' })),
    external: both((f) => conv('pod-a', 'agg', f, 8080, { producer: 'printf out' })),
    service: both((f) => conv('pod-a', 'svc', f, 80, { producer: 'printf service; sleep 1.5' }, { ip: ip('pod-b', f), port: 8080 })),
    ingressDrop: both((f) => conv('pod-a', 'pod-b', f, INGRESS_DROP.port, dropped)),
    egressDrop: both((f) => conv('pod-a', 'pod-b', f, EGRESS_DROP.port, dropped)),
    // IPv4 from pod-a, IPv6 from pod-c (no egress policy).
    throughput: { 4: conv('pod-a', 'pod-b', 4, 8080, { producer: RATE_LIMITED, timeoutMs: 40_000 }), 6: conv('pod-c', 'pod-b', 6, 8080, { producer: RATE_LIMITED, timeoutMs: 40_000 }) },
  };
}

/** Runs every conversation at once; returns each one's result. */
async function runAll(cluster: NetnsCluster, conv: Partial<Record<ConversationName, Record<Family, Conversation>>>): Promise<Map<string, ExecResult>> {
  const results = new Map<string, ExecResult>();
  await Promise.all(Object.entries(conv).flatMap(([name, byFamily]) => FAMILIES.map(async (f) => {
    const c = byFamily[f];
    results.set(`${name}${f}`, await runClient(cluster, c.from, c.client));
  })));
  return results;
}

/** "fd00:244:1::10" → "fd00:0244:0001:0000:0000:0000:0000:0010". */
function expandIPv6(ip: string): string {
  const [head, tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  return [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t].map((g) => g.padStart(4, '0')).join(':');
}

const bigReplacer = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);

describe('flow aggregator: two nodes → TLS → correlation → IPFIX / JSON lines, API and CLI', { timeout: 170_000 }, () => {
  let cluster: NetnsCluster | undefined;
  let work: WorkDir | undefined;
  let p: Pipeline;
  let conv: Record<ConversationName, Record<Family, Conversation>>;
  let results: Map<string, ExecResult>;
  const aggOD = aggregatorObservationDomainId(CLUSTER_UUID);

  const c = (): NetnsCluster => {
    if (!cluster) throw new Error('no cluster');
    return cluster;
  };
  const recordsOf = (tuple: FiveTuple): FlowRecord[] => p.collector!.records().filter(withTuple(tuple, aggOD));
  const describeRecords = (tuple: FiveTuple): string => `records of the flow:\n${recordsOf(tuple).map(summarize).join('\n')}`;
  /** The first aggregated record of `tuple` that satisfies `pred`. */
  const waitForRecord = async (tuple: FiveTuple, what: string, pred: (r: FlowRecord) => boolean = () => true, timeoutMs = 25_000): Promise<FlowRecord> =>
    (await p.collector!.waitForRecords((r) => withTuple(tuple, aggOD)(r) && pred(r), what, { timeoutMs }))[0];
  /**
   * Waits for the aggregated record whose per-Node totals equal the conntrack entries of the
   * given Nodes (source side, destination side); returns it with those entries.
   */
  const waitForFinal = async (tuple: FiveTuple, what: string, srcNode: string, dstNode: string): Promise<{ r: FlowRecord; src: ConntrackCounters; dst: ConntrackCounters }> => {
    await waitForRecord(tuple, `${what}: end of flow`, (r) => r.data.flowEndReason === END.end);
    const src = await conntrackEntryFor(c().ns(srcNode), tuple);
    const dst = await conntrackEntryFor(c().ns(dstNode), tuple);
    assert.ok(src && dst, `conntrack entries of ${what} in ${srcNode} and ${dstNode}`);
    const r = await waitForRecord(tuple, `${what}: a record with both Nodes' final counters`, (x) =>
      big(x, 'octetTotalCountFromSourceNode') === src.bytes && big(x, 'octetTotalCountFromDestinationNode') === dst.bytes &&
      big(x, 'reverseOctetTotalCountFromSourceNode') === src.replyBytes && big(x, 'reverseOctetTotalCountFromDestinationNode') === dst.replyBytes, 15_000);
    return { r, src, dst };
  };
  const policy = (r: { data: Record<string, FieldValue> }, dir: 'ingress' | 'egress'): string =>
    ['Namespace', 'Name', 'Type', 'RuleName', 'RuleAction'].map((f) => String(r.data[`${dir}NetworkPolicy${f}`])).join('|');
  const ipField = (f: Family, end: 'source' | 'destination'): string => `${end}IPv${f}Address`;

  before(async () => {
    cluster = await NetnsCluster.create({
      nodes: [{ name: 'node1', pods: ['pod-a', 'pod-c'] }, { name: 'node2', pods: ['pod-b'] }],
      aggregator: true,
    });
    work = await WorkDir.create('fv-aggregator-e2e-');
    conv = conversations(cluster, 42001);
    const agg = cluster.aggregator!;
    const toNamespace = (team: string): Record<string, unknown>[] => [{ namespaceSelector: { matchLabels: { team } } }];

    p = await startPipeline(cluster, {
      work,
      clusterUUID: CLUSTER_UUID,
      clusterObjects: {
        pods: {
          'pod-a': { namespace: 'frontend', labels: { app: 'client' } },
          'pod-c': { namespace: 'frontend', labels: { app: 'worker' } },
          'pod-b': { namespace: 'backend', labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] },
        },
        namespaceLabels: { frontend: { team: 'front' }, backend: { team: 'back' } },
      },
      objects: [
        service('backend', 'web', { clusterIPs: [SVC[4], SVC[6]], ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] }),
        // Ingress of pod-b from the frontend namespace to its named port "http" (rule ingress-0).
        networkPolicy('backend', 'allow-frontend', {
          podSelector: { matchLabels: { app: 'web' } },
          policyTypes: ['Ingress'],
          ingress: [{ from: toNamespace('front'), ports: [{ protocol: 'TCP', port: 'http' }] }],
        }),
        // Egress of pod-a: the backend (8080 and the port node2 drops), the frontend, the external server.
        networkPolicy('frontend', 'client-egress', {
          podSelector: { matchLabels: { app: 'client' } },
          policyTypes: ['Egress'],
          egress: [
            { to: toNamespace('back'), ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'TCP', port: INGRESS_DROP.port }] },
            { to: toNamespace('front'), ports: [{ protocol: 'TCP', port: 8080 }] },
            { to: [{ ipBlock: { cidr: `${agg.ipv4}/32` } }, { ipBlock: { cidr: `${agg.ipv6}/128` } }], ports: [{ protocol: 'TCP', port: 8080 }] },
          ],
        }),
      ],
      aggregator: { podLabels: true },
      agent: { nflogGroup: NFLOG_GROUP },
      downstream: 'ipfix',
    });

    // Drops with NFLOG: ingress at the destination Node, egress at the source Node.
    await cluster.exec('node2', ['nft', `insert rule inet fvt forward tcp dport ${INGRESS_DROP.port} log prefix "${INGRESS_DROP.prefix}" group ${NFLOG_GROUP} drop`]);
    await cluster.exec('node1', ['nft', `insert rule inet fvt forward tcp dport ${EGRESS_DROP.port} log prefix "${EGRESS_DROP.prefix}" group ${NFLOG_GROUP} drop`]);
    // The Service's data path, as kube-proxy programs it in the client's Node.
    const b = cluster.pod('pod-b');
    await dnatPodService(cluster, 'node1', { clusterIPv4: SVC[4], clusterIPv6: SVC[6], port: 80, backendIPv4: b.ipv4, backendIPv6: b.ipv6, targetPort: 8080 });
    for (const [where, port] of [['pod-b', 8080], ['pod-c', 8080], ['agg', 8080]] as const) await startEchoServer(cluster, where, 'tcp', port);

    results = await runAll(cluster, conv);
    for (const f of FAMILIES) {
      assert.equal(results.get(`inter${f}`)!.stdout.length, 3000, 'the echo server returned every byte');
      assert.equal(results.get(`service${f}`)!.stdout, 'service', `the ClusterIP (IPv${f}) answered through DNAT`);
      assert.equal(results.get(`external${f}`)!.stdout, 'out');
      assert.equal(results.get(`throughput${f}`)!.stdout.length, CHUNK * CHUNKS);
      for (const name of ['ingressDrop', 'egressDrop']) assert.notEqual(results.get(`${name}${f}`)!.code, 0, `${name}${f} was dropped`);
    }
  });

  after(async () => {
    if (process.env.FV_E2E_DUMP && cluster) {
      process.stderr.write(`downstream IPFIX records:\n${p?.collector?.records().map((r) => `${summarize(r)} exportTime=${r.exportTime} ${JSON.stringify(r.data, bigReplacer)}`).join('\n')}\n`);
      process.stderr.write(`downstream JSON lines:\n${p?.jsonLines?.process.stdout ?? ''}\n`);
      process.stderr.write(`--- aggregator stderr:\n${p?.aggregator?.process.stderr ?? ''}\n`);
      for (const e of p?.agents.values() ?? []) process.stderr.write(`--- exporter ${e.node} stderr:\n${e.process.stderr.slice(-4000)}\n`);
    }
    await cluster?.destroy();
    await work?.remove();
  });

  it('the agents found the aggregator through its Service and connected with the TLS material it published', async () => {
    const cm = (await p.api.list('ConfigMap', AGGREGATOR_NAMESPACE)).find((o) => o.metadata.name === 'flow-aggregator-ca');
    const secret = (await p.api.list('Secret', AGGREGATOR_NAMESPACE)).find((o) => o.metadata.name === 'flow-aggregator-client-tls');
    assert.ok(cm && secret, 'ConfigMap flow-aggregator-ca and Secret flow-aggregator-client-tls exist');
    const caPem = (cm.data as Record<string, string>)['ca.crt'];
    assert.equal(caPem.trim(), (await readFile(p.aggregator.pki.caFile, 'utf8')).trim(), 'the published CA is the one in <state-dir>/pki/ca.crt');
    assert.equal(secret.type, 'kubernetes.io/tls');
    const data = secret.data as Record<string, string>;
    const clientCert = new X509Certificate(Buffer.from(data['tls.crt'], 'base64'));
    const ca = new X509Certificate(caPem);
    assert.ok(clientCert.verify(ca.publicKey), 'the client certificate is signed by the published CA');
    assert.ok(clientCert.checkPrivateKey(createPrivateKey(Buffer.from(data['tls.key'], 'base64'))), 'the Secret holds its key');
    for (const e of p.agents.values()) {
      assert.equal(e.logLines(/TLS: using the CA and client certificate the flow aggregator publishes/).length, 1, `${e.node} read the published material`);
      const connected = e.logLines(/^IPFIX exporter connected$/);
      assert.equal(connected.length, 1, `${e.node} connected once`);
      assert.equal(connected[0].host, AGGREGATOR_CLUSTER_IP, 'to the Service\'s ClusterIP');
      assert.equal(connected[0].transport, 'tls');
    }
  });

  it('intra-node flows (pod-a → pod-c): flowType 1, both Pods and Node node1, node1\'s counters on both sides', async () => {
    for (const f of FAMILIES) {
      const t = conv.intra[f].tuple;
      const { r, src } = await waitForFinal(t, `intra-node IPv${f}`, 'node1', 'node1');
      assert.equal(r.templateID, AGGREGATOR_TEMPLATE_ID[f]);
      assert.equal(r.data.flowType, FLOW_TYPE.intraNode);
      assert.deepEqual([r.data.sourcePodName, r.data.sourcePodNamespace, r.data.sourceNodeName], ['pod-a', 'frontend', 'node1']);
      assert.deepEqual([r.data.destinationPodName, r.data.destinationPodNamespace, r.data.destinationNodeName], ['pod-c', 'frontend', 'node1']);
      assert.equal(r.data.sourcePodLabels, LABELS['pod-a']);
      assert.equal(r.data.destinationPodLabels, LABELS['pod-c']);
      assert.equal(policy(r, 'egress'), 'frontend|client-egress|1|egress-1|1');
      assert.equal(policy(r, 'ingress'), '||0||0', 'pod-c is not isolated for ingress');
      // One Node reports the flow; its record stands for both sides.
      assert.equal(big(r, 'octetTotalCount'), src.bytes);
      assert.equal(big(r, 'packetTotalCountFromSourceNode'), src.packets);
      assert.equal(big(r, 'packetTotalCountFromDestinationNode'), src.packets);
      assert.equal(r.data.clusterId, CLUSTER_UUID);
      for (const x of recordsOf(t)) assert.equal(x.data.destinationPodName, 'pod-c', `every export names both Pods: ${summarize(x)}`);
    }
  });

  it('inter-node flows (pod-a → pod-b): one record with both Pods, both Nodes\' statistics, ingress policy from node2, egress from node1', async () => {
    for (const f of FAMILIES) {
      const t = conv.inter[f].tuple;
      const { r, src, dst } = await waitForFinal(t, `inter-node IPv${f}`, 'node1', 'node2');
      assert.equal(r.data.flowType, FLOW_TYPE.interNode);
      assert.equal(canonicalIP(str(r, ipField(f, 'source'))), canonicalIP(t.sourceIP));
      assert.equal(canonicalIP(str(r, ipField(f, 'destination'))), canonicalIP(t.destinationIP));
      assert.deepEqual([r.data.sourcePodName, r.data.sourcePodNamespace, r.data.sourceNodeName], ['pod-a', 'frontend', 'node1']);
      assert.deepEqual([r.data.destinationPodName, r.data.destinationPodNamespace, r.data.destinationNodeName], ['pod-b', 'backend', 'node2']);
      assert.equal(r.data.sourcePodLabels, LABELS['pod-a']);
      assert.equal(r.data.destinationPodLabels, LABELS['pod-b']);
      // Each Node's statistics, exactly its conntrack entry's counters.
      assert.equal(big(r, 'packetTotalCountFromSourceNode'), src.packets);
      assert.equal(big(r, 'packetTotalCountFromDestinationNode'), dst.packets);
      assert.equal(big(r, 'reversePacketTotalCountFromSourceNode'), src.replyPackets);
      assert.equal(big(r, 'reversePacketTotalCountFromDestinationNode'), dst.replyPackets);
      assert.ok(src.bytes > 3000n && dst.bytes > 3000n, '3000 bytes of payload crossed both Nodes');
      assert.equal(big(r, 'octetTotalCount'), src.bytes > dst.bytes ? src.bytes : dst.bytes, 'the common total is the larger side\'s');
      assert.ok(num(r, 'flowEndSecondsFromSourceNode') > 0 && num(r, 'flowEndSecondsFromDestinationNode') > 0, 'both Nodes reported');
      // Policies: the destination Node knows pod-b's ingress rule, the source Node pod-a's egress rule.
      assert.equal(policy(r, 'ingress'), 'backend|allow-frontend|1|ingress-0|1');
      assert.equal(policy(r, 'egress'), 'frontend|client-egress|1|egress-0|1');
      assert.match(str(r, 'tcpState'), /^(TIME_WAIT|CLOSE)$/);
      // Correlated: no export of this flow ever lacked one side.
      for (const x of recordsOf(t)) {
        assert.ok(x.data.sourcePodName === 'pod-a' && x.data.destinationPodName === 'pod-b' && x.data.sourceNodeName === 'node1' &&
          x.data.destinationNodeName === 'node2', `every export is correlated: ${summarize(x)}`);
      }
    }
  });

  it('to-external flows (pod-a → the agg namespace\'s underlay address): flowType 3, source Pod set, destination Pod empty', async () => {
    for (const f of FAMILIES) {
      const t = conv.external[f].tuple;
      const { r, src } = await waitForFinal(t, `to-external IPv${f}`, 'node1', 'node1');
      assert.equal(r.data.flowType, FLOW_TYPE.toExternal);
      assert.deepEqual([r.data.sourcePodName, r.data.sourcePodNamespace, r.data.sourceNodeName], ['pod-a', 'frontend', 'node1']);
      assert.deepEqual([r.data.destinationPodName, r.data.destinationPodNamespace, r.data.destinationNodeName], ['', '', '']);
      assert.equal(r.data.destinationPodLabels, '', 'no labels for an end that is not a Pod');
      assert.equal(canonicalIP(str(r, ipField(f, 'destination'))), canonicalIP(f === 4 ? c().aggregator!.ipv4 : c().aggregator!.ipv6));
      assert.equal(policy(r, 'egress'), 'frontend|client-egress|1|egress-2|1');
      assert.equal(big(r, 'octetTotalCount'), src.bytes);
    }
  });

  it('pod-to-Service flows: destinationServicePortName and destinationClusterIP of the Service, both Pods after DNAT', async () => {
    for (const f of FAMILIES) {
      const t = conv.service[f].tuple;
      const { r } = await waitForFinal(t, `pod-to-Service IPv${f}`, 'node1', 'node2');
      assert.equal(r.data.destinationServicePortName, 'backend/web:http');
      assert.equal(r.data.destinationServicePort, 80);
      assert.equal(canonicalIP(str(r, `destinationClusterIPv${f}`)), canonicalIP(SVC[f]));
      assert.equal(r.data.destinationTransportPort, 8080, 'the destination after DNAT');
      assert.equal(r.data.flowType, FLOW_TYPE.interNode);
      assert.equal(r.data.sourcePodName, 'pod-a');
      assert.equal(r.data.destinationPodName, 'pod-b');
      assert.equal(r.data.destinationNodeName, 'node2');
      assert.equal(policy(r, 'ingress'), 'backend|allow-frontend|1|ingress-0|1');
    }
  });

  it('ingress drop at the destination Node: node1\'s SYN_SENT entry and node2\'s deny record correlated into one Drop record', async () => {
    for (const f of FAMILIES) {
      const t = conv.ingressDrop[f].tuple;
      const r = await waitForRecord(t, `ingress drop IPv${f}, correlated`, (x) => x.data.destinationPodName !== '' && x.data.sourcePodName !== '');
      assert.equal(r.data.ingressNetworkPolicyRuleAction, ACTION.drop);
      assert.equal(policy(r, 'ingress'), 'backend|deny-9997|1|drop-9997|2');
      assert.equal(policy(r, 'egress'), 'frontend|client-egress|1|egress-0|1', 'node1 allowed it out');
      assert.deepEqual([r.data.sourcePodName, r.data.sourceNodeName, r.data.destinationPodName, r.data.destinationNodeName], ['pod-a', 'node1', 'pod-b', 'node2']);
      assert.equal(r.data.flowType, FLOW_TYPE.interNode);
      // node1 tracked the SYNs it forwarded; node2 dropped each of them (no conntrack entry there).
      const ct1 = await conntrackEntryFor(c().ns('node1'), t);
      assert.ok(ct1, 'node1 has the SYN_SENT entry');
      assert.equal(ct1.state, 'SYN_SENT');
      assert.equal(await conntrackEntryFor(c().ns('node2'), t), undefined, 'node2 tracked nothing');
      // Per-Node statistics: node1's are its conntrack entry's (the kernel does not count the
      // retransmitted SYN of an entry in SYN_SENT); node2's are what its NFLOG rule saw dropped:
      // every SYN that left node1 (the first one and its retransmissions).
      const synBytes = f === 4 ? 60n : 80n;
      const both = await waitForRecord(t, 'both sides\' SYN counts', (x) =>
        big(x, 'packetTotalCountFromSourceNode') === ct1.packets && big(x, 'packetTotalCountFromDestinationNode') >= ct1.packets);
      assert.equal(big(both, 'octetTotalCountFromSourceNode'), ct1.bytes);
      const denied = big(both, 'packetTotalCountFromDestinationNode');
      assert.ok(denied >= 1n && denied <= 3n, `node2 dropped the SYN and its retransmissions: ${denied}`);
      assert.equal(big(both, 'octetTotalCountFromDestinationNode'), synBytes * denied, 'SYNs of 60 (IPv4) or 80 (IPv6) bytes');
      assert.equal(big(both, 'reversePacketTotalCountFromSourceNode'), 0n);
      assert.equal(big(both, 'reversePacketTotalCountFromDestinationNode'), 0n);
      for (const x of recordsOf(t)) {
        assert.equal(x.data.ingressNetworkPolicyRuleAction, ACTION.drop, `every export carries the drop: ${summarize(x)}`);
        assert.equal(x.data.sourcePodName, 'pod-a');
      }
    }
  });

  it('egress drop at the source Node: not correlated, the aggregator fills the destination Pod from its metadata', async () => {
    for (const f of FAMILIES) {
      const t = conv.egressDrop[f].tuple;
      const r = await waitForRecord(t, `egress drop IPv${f}`);
      assert.equal(r.data.egressNetworkPolicyRuleAction, ACTION.drop);
      assert.equal(policy(r, 'egress'), 'frontend|deny-9998|1|drop-9998|2');
      assert.equal(policy(r, 'ingress'), '||0||0');
      assert.deepEqual([r.data.sourcePodName, r.data.sourcePodNamespace, r.data.sourceNodeName], ['pod-a', 'frontend', 'node1']);
      assert.deepEqual([r.data.destinationPodName, r.data.destinationPodNamespace, r.data.destinationNodeName], ['pod-b', 'backend', 'node2'],
        'filled by the aggregator: node1 does not know the remote Pod');
      assert.equal(r.data.destinationPodLabels, LABELS['pod-b']);
      assert.equal(r.data.flowType, FLOW_TYPE.interNode);
      assert.equal(r.data.tcpState, '', 'a deny record, no conntrack state');
      const synBytes = f === 4 ? 60n : 80n;
      const packets = big(r, 'packetTotalCount');
      assert.ok(packets >= 1n && packets <= 3n, `the SYN and its retransmissions: ${packets}`);
      assert.equal(big(r, 'octetTotalCount'), synBytes * packets);
      for (const node of ['node1', 'node2']) assert.equal(await conntrackEntryFor(c().ns(node), t), undefined, `${node} tracked nothing`);
    }
    // Nothing had to wait for a Node that never reports: no one-sided export at all.
    const m = await p.aggregator.metrics();
    assert.equal(m.get('flowvis_aggregator_one_sided_exports_total'), 0, 'no flow was exported one-sided');
    assert.ok((m.get('flowvis_aggregator_flows_correlated_total') ?? 0) >= 8, 'inter-node, Service, throughput and ingress-drop flows were correlated');
  });

  it('throughput: within ±15% of the real rate of a rate-limited transfer', async () => {
    for (const f of FAMILIES) {
      const t = conv.throughput[f].tuple;
      const [startS, endS] = results.get(`throughput${f}`)!.stderr.trim().split('\n').filter((l) => /^\d+\.\d+$/.test(l)).map(Number);
      const elapsed = endS - startS;
      assert.ok(elapsed > 6.5 && elapsed < 12, `the transfer took ${elapsed.toFixed(2)} s`);
      // The real rate, as iperf reports it: the bytes the sender wrote over the time it took.
      const realBps = CHUNK * CHUNKS * 8 / elapsed;
      const within = (value: number, what: string): void => {
        assert.ok(Math.abs(value - realBps) <= 0.15 * realBps, `${what}: ${Math.round(value)} bit/s, real ${Math.round(realBps)} bit/s`);
      };
      const { r: last } = await waitForFinal(t, `rate-limited IPv${f}`, 'node1', 'node2');
      const records = recordsOf(t);
      process.stderr.write(`# throughput IPv${f}: real ${Math.round(realBps)} bit/s over ${elapsed.toFixed(2)} s (from +${(startS - num(last, 'flowStartSeconds')).toFixed(2)} s); ` +
        `records (window s: throughput/fromSource/fromDestination): ${records.map((x) => `${num(x, 'flowEndSeconds') - num(x, 'flowStartSeconds')}: ` +
        `${String(x.data.throughput)}/${String(x.data.throughputFromSourceNode)}/${String(x.data.throughputFromDestinationNode)}`).join(', ')}\n`);
      // End of flow (as Antrea's e2e): the whole flow's octets over the transfer's duration...
      within(Number(big(last, 'octetTotalCount')) * 8 / elapsed, `IPv${f} octetTotalCount*8/${elapsed.toFixed(2)} s of the end-of-flow record`);
      // ...and the record's own duration is the transfer's, to the second (start and end are
      // whole seconds; the end is seen at the next poll, at most 1 s late).
      const duration = num(last, 'flowEndSeconds') - num(last, 'flowStartSeconds');
      assert.ok(duration >= Math.floor(elapsed) - 1 && duration <= Math.ceil(elapsed) + 2, `IPv${f} flow duration ${duration} s, transfer ${elapsed.toFixed(2)} s`);
      // During the transfer (as Antrea's e2e): the throughput of the records exported while data was
      // flowing, except the first export, whose window starts at the whole second before the
      // connection started (up to 1 s too long for a ~2 s window). Later ones are per-Node deltas
      // between two of that Node's records, over whole seconds: when a Node's poll time drifts
      // across a second boundary, one window reads 1 s longer or shorter than it was (±50% of a
      // 2 s window), which no rate computed from IPFIX seconds can avoid. So each record must have
      // a Node whose throughput is within ±15%; the common throughput is the latest Node's.
      const during = records.slice(1).filter((x) => x.data.flowEndReason === END.active && num(x, 'flowEndSeconds') < Math.floor(endS));
      assert.ok(during.length >= 1, `records exported during the transfer:\n${describeRecords(t)}`);
      for (const x of during) {
        const fromSource = Number(big(x, 'throughputFromSourceNode'));
        const fromDestination = Number(big(x, 'throughputFromDestinationNode'));
        const best = Math.abs(fromSource - realBps) < Math.abs(fromDestination - realBps) ? fromSource : fromDestination;
        within(best, `IPv${f} per-Node throughput (source ${fromSource}, destination ${fromDestination}) of ${summarize(x)}`);
        const common = Number(big(x, 'throughput'));
        assert.ok(common === fromSource || common === fromDestination, `throughput ${common} is the latest Node's: ${summarize(x)}`);
      }
    }
  });

  it('flowvis get flowrecords --srcip --srcport returns exactly the one record of a live connection', async () => {
    const b = c().pod('pod-b');
    const a = c().pod('pod-a');
    const held = FAMILIES.map((f) => ({
      f, sourcePort: 42101 + f, srcip: f === 4 ? a.ipv4 : a.ipv6,
      run: runClient(c(), 'pod-a', { proto: 'tcp', family: f, host: f === 4 ? b.ipv4 : b.ipv6, port: 8080, sourcePort: 42101 + f, producer: 'printf held; sleep 8' }),
    }));
    try {
      for (const h of held) {
        // Any spelling of the address works (IPv6 written out in full here).
        const srcip = h.f === 6 ? expandIPv6(h.srcip) : h.srcip;
        const records = await pollUntil(async () => {
          const rs = await p.aggregator.flowRecords({ srcip, srcport: h.sourcePort });
          return rs.length > 0 && rs[0].correlationState === 'correlated' ? rs : undefined;
        }, { timeoutMs: 10_000, intervalMs: 500, what: `a correlated record of the held IPv${h.f} connection in the API` });
        assert.equal(records.length, 1, JSON.stringify(records, bigReplacer));
        const r = records[0];
        assert.equal(canonicalIP(String(r[`sourceIPv${h.f}Address`])), canonicalIP(h.srcip));
        assert.equal(r.sourceTransportPort, h.sourcePort);
        assert.equal(r.destinationTransportPort, 8080);
        assert.deepEqual([r.sourcePodName, r.sourcePodNamespace, r.sourceNodeName], ['pod-a', 'frontend', 'node1']);
        assert.deepEqual([r.destinationPodName, r.destinationPodNamespace, r.destinationNodeName], ['pod-b', 'backend', 'node2']);
        assert.equal(r.clusterId, CLUSTER_UUID);
        assert.deepEqual(Object.keys(r), [...aggregatorTemplateElements(h.f), 'correlationState'], 'the 69 elements in template order, then correlationState');
      }
      // The table form, as antctl prints it.
      const table = await p.aggregator.get(['flowrecords', '--srcip', a.ipv4, '--srcport', '42105']);
      const lines = table.stdout.trim().split('\n');
      assert.match(lines[0], /^SRC_IP +DST_IP +SPORT +DPORT +PROTO +SRC_POD +DST_POD +SRC_NS +DST_NS +SERVICE$/);
      assert.equal(lines.length, 2, table.stdout);
      assert.deepEqual(lines[1].split(/ +/), [a.ipv4, b.ipv4, '42105', '8080', '6', 'pod-a', 'pod-b', 'frontend', 'backend', '<NONE>']);
    } finally {
      await Promise.all(held.map((h) => h.run));
    }
  });

  it('flowvis get recordmetrics: one connected exporter per node, records received and exported', async () => {
    const m = await p.aggregator.recordMetrics();
    assert.equal(m.numConnToCollector, 2, JSON.stringify(m));
    assert.ok(m.numRecordsExported > 0, 'records exported');
    assert.ok(m.numRecordsReceived >= m.numRecordsExported / 2, 'records received');
    assert.equal(m.numRecordsDropped, 0);
    assert.equal(m.withIPFIXExporter, true);
    assert.equal(m.withClickHouseExporter, false);
    const exporters = p.aggregator.logLines(/^exporter connected$/).map((l) => String(l.exporter).split(':')[0]).sort();
    assert.deepEqual(exporters, [c().node('node1').ipv4, c().node('node2').ipv4], 'the two agents, over TLS');
  });

  it('downstream IPFIX: templates 256/257 with the 69 elements in order, the aggregator\'s observation domain', async () => {
    const all = p.collector!.records();
    assert.ok(all.length >= 20, `${all.length} records`);
    for (const r of all) {
      const f: Family = 'sourceIPv4Address' in r.data ? 4 : 6;
      assert.equal(r.templateID, AGGREGATOR_TEMPLATE_ID[f], summarize(r));
      assert.deepEqual(Object.keys(r.data), aggregatorTemplateElements(f), `elements of ${summarize(r)}`);
      assert.equal(r.obsDomainID, aggOD, 'FNV-1 of the cluster UUID\'s octets');
      assert.equal(r.exporterAddress, c().aggregator!.ipv4);
      assert.equal(r.data.clusterId, CLUSTER_UUID);
    }
    assert.ok(all.some((r) => r.templateID === 256) && all.some((r) => r.templateID === 257));
  });

  it('short inter-node connections (within one second) keep both Nodes\' statistics', async () => {
    // Ten short connections started 100 ms apart (so some start just before a whole second and
    // some just after); each Node reports each of them once (end of flow), often within the second
    // it started. Whichever Node's record arrives second must still be counted.
    const b = c().pod('pod-b');
    const short = [...Array(10).keys()].map((i) => {
      const f: Family = i % 2 === 0 ? 4 : 6;
      const from = i < 5 ? 'pod-a' : 'pod-c';
      const src = c().pod(from);
      const sourcePort = 42301 + i;
      const tuple: FiveTuple = {
        sourceIP: f === 4 ? src.ipv4 : src.ipv6, destinationIP: f === 4 ? b.ipv4 : b.ipv6, sourceTransportPort: sourcePort,
        destinationTransportPort: 8080, protocolIdentifier: TCP,
      };
      return { from, f, tuple, client: { proto: 'tcp', family: f, host: tuple.destinationIP, port: 8080, sourcePort, producer: 'printf short' } satisfies ClientOptions };
    });
    await Promise.all(short.map(async (x, i) => {
      await delay(100 * i);
      await runClient(c(), x.from, x.client);
    }));
    const problems = (await Promise.all(short.map(async (x) => {
      const src = await conntrackEntryFor(c().ns('node1'), x.tuple);
      const dst = await conntrackEntryFor(c().ns('node2'), x.tuple);
      if (!src || !dst) return `${x.tuple.sourceIP}:${x.tuple.sourceTransportPort}: no conntrack entry`;
      try {
        await waitForRecord(x.tuple, 'both Nodes\' counters', (r) =>
          big(r, 'octetTotalCountFromSourceNode') === src.bytes && big(r, 'octetTotalCountFromDestinationNode') === dst.bytes, 10_000);
        return undefined;
      } catch {
        const last = recordsOf(x.tuple).at(-1);
        return `${x.tuple.sourceIP}:${x.tuple.sourceTransportPort}: last export ` + (last === undefined ? 'none' :
          `octetTotalCountFromSourceNode=${String(last.data.octetTotalCountFromSourceNode)} (conntrack ${src.bytes}), ` +
          `FromDestinationNode=${String(last.data.octetTotalCountFromDestinationNode)} (conntrack ${dst.bytes}), ` +
          `flowStartSeconds=${String(last.data.flowStartSeconds)} flowEndSecondsFromSourceNode=${String(last.data.flowEndSecondsFromSourceNode)} ` +
          `flowEndSecondsFromDestinationNode=${String(last.data.flowEndSecondsFromDestinationNode)}`);
      }
    }))).filter((x) => x !== undefined);
    assert.deepEqual(problems, [], `flows that lost one Node's statistics:\n${problems.join('\n')}`);
  });

  describe('restarted with recordFormat JSON', () => {
    let json: Record<ConversationName, Record<Family, Conversation>>;
    const jsonOf = (t: FiveTuple, f: Family): JsonLineRecord[] => p.jsonLines!.records().filter((r) =>
      canonicalIP(String(r.data[ipField(f, 'source')])) === canonicalIP(t.sourceIP) && r.data.sourceTransportPort === t.sourceTransportPort);

    before(async () => {
      const firstCa = p.aggregator.startedLog;
      await p.aggregator.stop();
      await p.startAggregator('json');
      assert.notEqual(p.aggregator.startedLog, firstCa);
      // The agents reconnect by themselves (backoff 1 s, 2 s, 4 s...): the CA was kept in the Secret.
      await pollUntil(async () => (await p.aggregator.recordMetrics()).numConnToCollector === 2, {
        timeoutMs: 30_000, intervalMs: 500, what: 'both agents reconnected to the restarted aggregator',
        describe: () => [...p.agents.values()].map((e) => e.process.stderr.slice(-1000)).join('\n'),
      });
      json = conversations(c(), 43001);
      await runAll(c(), { inter: json.inter, intra: json.intra, service: json.service });
    });

    it('the same aggregated records arrive as JSON lines: {"@timestamp", "ipfix"}, exact integers, both Nodes\' counters', async () => {
      for (const f of FAMILIES) {
        const t = json.inter[f].tuple;
        const src = await conntrackEntryFor(c().ns('node1'), t);
        const dst = await conntrackEntryFor(c().ns('node2'), t);
        assert.ok(src && dst);
        const lines = await p.jsonLines!.waitForRecords((r) => jsonOf(t, f).includes(r) &&
          r.data.octetTotalCountFromSourceNode === Number(src.bytes) && r.data.octetTotalCountFromDestinationNode === Number(dst.bytes) &&
          r.data.flowEndReason === END.end, `the final JSON line of the inter-node IPv${f} flow`);
        const r = lines[0];
        assert.match(r.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'RFC 3339, as Go writes it');
        assert.ok(Math.abs(Date.parse(r.timestamp) - Date.now()) < 60_000);
        assert.deepEqual(r.keys, [...aggregatorTemplateElements(f)].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))), 'the 69 elements, keys sorted as Go sorts map keys');
        assert.deepEqual([r.data.sourcePodName, r.data.sourceNodeName, r.data.destinationPodName, r.data.destinationNodeName], ['pod-a', 'node1', 'pod-b', 'node2']);
        assert.equal(r.data.packetTotalCountFromSourceNode, Number(src.packets));
        assert.equal(r.data.reverseOctetTotalCountFromDestinationNode, Number(dst.replyBytes));
        assert.equal(r.data.clusterId, CLUSTER_UUID);
        assert.equal(policy(r, 'ingress'), 'backend|allow-frontend|1|ingress-0|1');
        assert.equal(policy(r, 'egress'), 'frontend|client-egress|1|egress-0|1');
        // The same flow as the IPFIX round's: every element that does not depend on time, ports or counts is equal.
        const ipfix = recordsOf(conv.inter[f].tuple).at(-1)!;
        const volatile = /Count|Seconds|throughput|Throughput|TransportPort$/;
        for (const k of aggregatorTemplateElements(f).filter((x) => !volatile.test(x) || x === 'destinationTransportPort')) {
          assert.deepEqual(r.data[k], ipfix.data[k], `element ${k}: JSON ${String(r.data[k])}, IPFIX ${String(ipfix.data[k])}`);
        }
      }
      for (const f of FAMILIES) {
        const intra = await p.jsonLines!.waitForRecords((r) => jsonOf(json.intra[f].tuple, f).includes(r), `intra-node IPv${f} as JSON`);
        assert.equal(intra[0].data.flowType, FLOW_TYPE.intraNode);
        assert.equal(intra[0].data.destinationPodName, 'pod-c');
        const svc = await p.jsonLines!.waitForRecords((r) => jsonOf(json.service[f].tuple, f).includes(r), `pod-to-Service IPv${f} as JSON`);
        assert.equal(svc[0].data.destinationServicePortName, 'backend/web:http');
        assert.equal(canonicalIP(String(svc[0].data[`destinationClusterIPv${f}`])), canonicalIP(SVC[f]));
      }
      const m = await p.aggregator.recordMetrics();
      assert.equal(m.withIPFIXExporter, true, 'the flowCollector sink (JSON format) counts as the IPFIX exporter, as upstream');
      assert.ok(m.numRecordsExported > 0);
    });
  });

  describe('transport mismatch: an agent configured for tcp against the aggregator\'s TLS port', () => {
    let rogue: ExporterProcess;
    let aggLine: Record<string, unknown>;
    let agentLines: Record<string, unknown>[];
    const text = (l: Record<string, unknown>): string => JSON.stringify(l);

    before(async () => {
      const agg = c().aggregator!;
      const config = await work!.write('antrea-agent-tcp.conf', p.agentConfig({ flowCollectorAddr: `${agg.ipv4}:4739:tcp`, nflogGroup: undefined }));
      rogue = await ExporterProcess.start(c(), { node: 'node1', configPath: config, kubeconfigPath: p.api.kubeconfigPath, metricsPort: 10351 });
      aggLine = await pollUntil(() => p.aggregator.logLines(/./).find((l) => l.level === 40 && l.exporter === c().node('node1').ipv4), {
        timeoutMs: 15_000, intervalMs: 250, what: 'the aggregator\'s warning about the plain-TCP exporter',
        describe: () => p.aggregator.process.stderr.slice(-2000),
      });
      agentLines = await pollUntil(() => {
        const lines = rogue.logLines(/./).filter((l) => l.level === 40);
        return lines.length >= 2 ? lines : undefined;
      }, { timeoutMs: 15_000, intervalMs: 250, what: 'the agent\'s warnings about its failed sessions', describe: () => rogue.process.stderr.slice(-2000) });
    });

    after(async () => {
      if (process.env.FV_E2E_DUMP) process.stderr.write(`--- plain-TCP exporter stderr:\n${rogue?.process.stderr ?? ''}\n`);
      await rogue?.stop();
    });

    it('the aggregator refuses the session and logs a TLS handshake failure naming the exporter; the agent retries', async () => {
      assert.match(String(aggLine.msg), /^IPFIX collector: exporter \S+ sent plain TCP \(no TLS\) to this TLS collector; connection rejected/, text(aggLine));
      assert.equal((aggLine.err as { code?: string }).code, 'ERR_SSL_WRONG_VERSION_NUMBER', 'what OpenSSL says of a non-TLS client');
      assert.ok(agentLines.some((l) => String(l.msg).startsWith('IPFIX exporter lost its connection')), agentLines.map(text).join('\n'));
      await pollUntil(() => rogue.logLines(/IPFIX exporter reconnecting after backoff/).length >= 2, { timeoutMs: 10_000, what: 'reconnection attempts' });
      const m = await p.aggregator.recordMetrics();
      assert.equal(m.numConnToCollector, 2, 'the mismatched agent never became a session');
      assert.ok(rogue.process.running, 'the agent keeps running');
    });

    it('both sides name the cause: the exporter sent plain IPFIX to a TLS collector', () => {
      // The aggregator could tell: the first two octets of the connection are 0x000a, an IPFIX message header.
      assert.match(String(aggLine.msg), /not TLS|plain|without TLS|IPFIX over TCP/i, `aggregator: ${text(aggLine)}`);
      assert.match(String(aggLine.msg), /aggregatorTransportProtocol|flowCollectorAddr|:tls/, `aggregator suggests the fix: ${text(aggLine)}`);
      // The agent: the collector closed the connection as soon as the first message arrived.
      assert.ok(agentLines.some((l) => /TLS|tls/.test(String(l.msg))), `agent names TLS: ${agentLines.map(text).join('\n')}`);
    });
  });
});
