/**
 * Table-driven test of an inter-Node flow reported by both Nodes (several updates, an out-of-order
 * record and two stale ones), written from the rules of upstream's aggregation (go-ipfix v0.14
 * aggregateRecords / correlateRecords, Antrea HEAD ForAllExpiredFlowRecordsDo). Every expected value
 * below was worked out by hand from those rules; the comment beside each step shows the arithmetic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregatorElementNames, type FieldValue } from '../../ipfix/index.ts';
import { AggregationProcess, type AggregatedFlow } from './index.ts';
import { agentRecord, type AgentFields } from './testing/agent-records.ts';

const T0 = 5_000_000; // ms, injected clock origin
const s = (seconds: number): number => T0 + seconds * 1000;

const KEY: AgentFields = {
  sourceAddress: '10.0.1.5', destinationAddress: '10.0.2.7', protocolIdentifier: 6,
  sourceTransportPort: 41000, destinationTransportPort: 80, flowStartSeconds: 1000, flowType: 2,
};
/** What the source Node knows: its Pod, the Service it DNATed, its egress policy. */
const FROM_SRC: AgentFields = {
  ...KEY, sourcePodName: 'client', sourcePodNamespace: 'ns-a', sourceNodeName: 'node-a',
  destinationClusterIP: '10.96.0.10', destinationServicePort: 80, destinationServicePortName: 'ns-b/web:http',
  egressNetworkPolicyName: 'allow-egress', egressNetworkPolicyNamespace: 'ns-a', egressNetworkPolicyType: 2,
  egressNetworkPolicyRuleName: 'rule-e', egressNetworkPolicyRuleAction: 1,
};
/** What the destination Node knows: its Pod and its ingress policy (no Service: 0.0.0.0 / 0 / ""). */
const FROM_DST: AgentFields = {
  ...KEY, destinationPodName: 'server', destinationPodNamespace: 'ns-b', destinationNodeName: 'node-b',
  ingressNetworkPolicyName: 'allow-ingress', ingressNetworkPolicyNamespace: 'ns-b', ingressNetworkPolicyType: 2,
  ingressNetworkPolicyRuleName: 'rule-i', ingressNetworkPolicyRuleAction: 1,
};

/** packetTotal, octetTotal, packetDelta, octetDelta, then the same four reverse counters. */
function counters(c: [number, number, number, number, number, number, number, number]): AgentFields {
  return {
    packetTotalCount: BigInt(c[0]), octetTotalCount: BigInt(c[1]), packetDeltaCount: BigInt(c[2]), octetDeltaCount: BigInt(c[3]),
    reversePacketTotalCount: BigInt(c[4]), reverseOctetTotalCount: BigInt(c[5]),
    reversePacketDeltaCount: BigInt(c[6]), reverseOctetDeltaCount: BigInt(c[7]),
  };
}

type Step =
  | { at: number; from: 'src' | 'dst'; end: number; reason: number; tcp: string; c: Parameters<typeof counters>[0]; note: string;
      check?: Partial<Record<string, FieldValue>>; stale?: boolean }
  | { at: number; expire: true; exports: number; note: string };

const STEPS: Step[] = [
  { at: 0, from: 'src', end: 1010, reason: 2, tcp: 'ESTABLISHED', c: [10, 1000, 10, 1000, 8, 800, 8, 800],
    note: 'new flow, correlation required (InterNode, allow): waiting. FromSource stats = record, FromDestination = 0; '
      + 'flowEndSecondsFromSourceNode 1010; throughput 1000*8/(1010-1000) = 800, reverse 800*8/10 = 640',
    check: { throughput: 800n, reverseThroughput: 640n, throughputFromSourceNode: 800n, throughputFromDestinationNode: 0n,
      flowEndSecondsFromSourceNode: 1010, flowEndSecondsFromDestinationNode: 0, octetTotalCountFromDestinationNode: 0n,
      destinationPodName: '', correlationState: 'waiting' } },
  { at: 1, from: 'dst', end: 1011, reason: 2, tcp: 'ESTABLISHED', c: [11, 1100, 11, 1100, 9, 900, 9, 900],
    note: 'other Node: correlate (copy non-empty Pod/policy fields; 0.0.0.0, 0 and "" are not copied), ready. '
      + 'isLatest (1011 >= 1010). prev = flowStartSeconds 1000 (FromDestination was 0). common totals = max, '
      + 'common deltas = destination side. throughput 1100*8/11 = 800, reverse 900*8/11 = 654',
    check: { correlationState: 'correlated', destinationClusterIPv4: '10.96.0.10', destinationServicePort: 80 } },
  { at: 1, expire: true, exports: 1, note: 'ready → exported at the next expiry (Antrea HEAD #7997); deltas reset' },
  { at: 5, from: 'src', end: 1015, reason: 2, tcp: 'ESTABLISHED', c: [30, 3000, 20, 2000, 25, 2500, 17, 1700],
    note: 'isLatest; prev = 1010, 5 s; throughput (3000-1000)*8/5 = 3200, reverse (2500-800)*8/5 = 2720; '
      + 'common totals max(11,30)=30 ...; common deltas = source deltas 20/2000/17/1700' },
  { at: 6, from: 'dst', end: 1014, reason: 2, tcp: 'TIME_WAIT', c: [28, 2800, 17, 1700, 23, 2300, 14, 1400],
    note: 'out of order: newer for its Node (1014 > 1011) but not the latest (1014 < 1015): destination side '
      + 'aggregated (throughput (2800-1100)*8/3 = 4533, reverse (2300-900)*8/3 = 3733); common stats, common '
      + 'throughput and tcpState untouched',
    check: { flowEndSeconds: 1015, tcpState: 'ESTABLISHED', throughput: 3200n, reverseThroughput: 2720n,
      throughputFromSourceNode: 3200n, throughputFromDestinationNode: 4533n, reverseThroughputFromDestinationNode: 3733n,
      flowEndSecondsFromDestinationNode: 1014, packetTotalCount: 30n, octetDeltaCount: 2000n,
      octetDeltaCountFromDestinationNode: 1700n, octetTotalCountFromDestinationNode: 2800n } },
  { at: 7, from: 'src', end: 1012, reason: 3, tcp: 'SYN_SENT', c: [15, 1500, 5, 500, 12, 1200, 4, 400], stale: true,
    note: 'stale: 1012 <= flowEndSecondsFromSourceNode 1015 → ignored entirely, even its flowEndReason 3',
    check: { flowEndSecondsFromSourceNode: 1015, flowEndReason: 2, tcpState: 'ESTABLISHED', octetTotalCountFromSourceNode: 3000n } },
  { at: 8, from: 'src', end: 1015, reason: 3, tcp: 'CLOSE', c: [31, 3100, 1, 100, 26, 2600, 1, 100], stale: true,
    note: 'stale: equal end time (1015 <= 1015) is not newer → ignored',
    check: { flowEndReason: 2, tcpState: 'ESTABLISHED', packetTotalCountFromSourceNode: 30n } },
  { at: 10, from: 'dst', end: 1020, reason: 3, tcp: 'TIME_WAIT', c: [40, 4000, 12, 1200, 35, 3500, 12, 1200],
    note: 'isLatest; prev 1014, 6 s; flowEndReason 3 (end of flow); tcpState TIME_WAIT; destination deltas '
      + '1700+1200 = 2900 ...; common deltas = destination; throughput (4000-2800)*8/6 = 1600, reverse (3500-2300)*8/6 = 1600',
    check: { flowEndReason: 3, tcpState: 'TIME_WAIT', octetDeltaCount: 2900n, throughput: 1600n } },
  { at: 11, from: 'src', end: 1021, reason: 2, tcp: 'CLOSE_WAIT', c: [42, 4200, 12, 1200, 36, 3600, 11, 1100],
    note: 'isLatest; flowEndReason stays 3 (sticky); tcpState from the newest record: CLOSE_WAIT; prev 1015, 6 s; '
      + 'throughput (4200-3000)*8/6 = 1600, reverse (3600-2500)*8/6 = 1466; common deltas = source 3200/32/2800/28',
    check: { flowEndReason: 3, tcpState: 'CLOSE_WAIT', octetDeltaCount: 3200n, packetDeltaCount: 32n, reverseThroughput: 1466n } },
  { at: 12, from: 'dst', end: 1021, reason: 2, tcp: 'LAST_ACK', c: [44, 4400, 4, 400, 38, 3800, 3, 300],
    note: 'same end time as the flow (1021 >= 1021) from the other Node: isLatest, newer for its Node (1021 > 1020). '
      + 'tcpState LAST_ACK; common totals max → 44/4400/38/3800; common deltas = destination 3300/33/2900/29; '
      + 'throughput (4400-4000)*8/1 = 3200, reverse (3800-3500)*8/1 = 2400 (common and destination)' },
  { at: 60, expire: true, exports: 0, note: 'active deadline is 1 + 60 = 61 s: nothing due yet' },
  { at: 61, expire: true, exports: 1, note: 'active timeout: second export; deltas reset; active re-armed to 121 s' },
  { at: 101, expire: true, exports: 0, note: 'inactive deadline 12 + 90 = 102 s: nothing due yet' },
  { at: 102, expire: true, exports: 0, note: 'inactive timeout: no record since the last export → not re-exported (#8278), deleted' },
];

const IDENTITY = {
  family: 4, correlationState: 'correlated',
  flowKey: { sourceAddress: '10.0.1.5', destinationAddress: '10.0.2.7', protocol: 6, sourcePort: 41000, destinationPort: 80 },
  flowStartSeconds: 1000, sourceTransportPort: 41000, destinationTransportPort: 80, protocolIdentifier: 6,
  sourceIPv4Address: '10.0.1.5', destinationIPv4Address: '10.0.2.7',
  sourcePodName: 'client', sourcePodNamespace: 'ns-a', sourceNodeName: 'node-a',
  destinationPodName: 'server', destinationPodNamespace: 'ns-b', destinationNodeName: 'node-b',
  destinationServicePort: 80, destinationServicePortName: 'ns-b/web:http',
  ingressNetworkPolicyName: 'allow-ingress', ingressNetworkPolicyNamespace: 'ns-b', ingressNetworkPolicyType: 2,
  ingressNetworkPolicyRuleName: 'rule-i', ingressNetworkPolicyRuleAction: 1,
  egressNetworkPolicyName: 'allow-egress', egressNetworkPolicyNamespace: 'ns-a', egressNetworkPolicyType: 2,
  egressNetworkPolicyRuleName: 'rule-e', egressNetworkPolicyRuleAction: 1,
  flowType: 2, egressName: '', egressIP: '', appProtocolName: '', httpVals: '', egressNodeName: '',
  destinationClusterIPv4: '10.96.0.10', sourcePodLabels: '', destinationPodLabels: '', clusterId: 'test-cluster',
};

const EXPECTED_EXPORTS = [
  {
    ...IDENTITY,
    flowEndSeconds: 1011, flowEndReason: 2, tcpState: 'ESTABLISHED',
    packetTotalCount: 11n, octetTotalCount: 1100n, packetDeltaCount: 11n, octetDeltaCount: 1100n,
    reversePacketTotalCount: 9n, reverseOctetTotalCount: 900n, reversePacketDeltaCount: 9n, reverseOctetDeltaCount: 900n,
    octetDeltaCountFromSourceNode: 1000n, octetDeltaCountFromDestinationNode: 1100n,
    octetTotalCountFromSourceNode: 1000n, octetTotalCountFromDestinationNode: 1100n,
    packetDeltaCountFromSourceNode: 10n, packetDeltaCountFromDestinationNode: 11n,
    packetTotalCountFromSourceNode: 10n, packetTotalCountFromDestinationNode: 11n,
    reverseOctetDeltaCountFromSourceNode: 800n, reverseOctetDeltaCountFromDestinationNode: 900n,
    reverseOctetTotalCountFromSourceNode: 800n, reverseOctetTotalCountFromDestinationNode: 900n,
    reversePacketDeltaCountFromSourceNode: 8n, reversePacketDeltaCountFromDestinationNode: 9n,
    reversePacketTotalCountFromSourceNode: 8n, reversePacketTotalCountFromDestinationNode: 9n,
    flowEndSecondsFromSourceNode: 1010, flowEndSecondsFromDestinationNode: 1011,
    throughput: 800n, throughputFromSourceNode: 800n, throughputFromDestinationNode: 800n,
    reverseThroughput: 654n, reverseThroughputFromSourceNode: 640n, reverseThroughputFromDestinationNode: 654n,
  },
  {
    ...IDENTITY,
    flowEndSeconds: 1021, flowEndReason: 3, tcpState: 'LAST_ACK',
    packetTotalCount: 44n, octetTotalCount: 4400n, packetDeltaCount: 33n, octetDeltaCount: 3300n,
    reversePacketTotalCount: 38n, reverseOctetTotalCount: 3800n, reversePacketDeltaCount: 29n, reverseOctetDeltaCount: 2900n,
    octetDeltaCountFromSourceNode: 3200n, octetDeltaCountFromDestinationNode: 3300n,
    octetTotalCountFromSourceNode: 4200n, octetTotalCountFromDestinationNode: 4400n,
    packetDeltaCountFromSourceNode: 32n, packetDeltaCountFromDestinationNode: 33n,
    packetTotalCountFromSourceNode: 42n, packetTotalCountFromDestinationNode: 44n,
    reverseOctetDeltaCountFromSourceNode: 2800n, reverseOctetDeltaCountFromDestinationNode: 2900n,
    reverseOctetTotalCountFromSourceNode: 3600n, reverseOctetTotalCountFromDestinationNode: 3800n,
    reversePacketDeltaCountFromSourceNode: 28n, reversePacketDeltaCountFromDestinationNode: 29n,
    reversePacketTotalCountFromSourceNode: 36n, reversePacketTotalCountFromDestinationNode: 38n,
    flowEndSecondsFromSourceNode: 1021, flowEndSecondsFromDestinationNode: 1021,
    throughput: 3200n, throughputFromSourceNode: 1600n, throughputFromDestinationNode: 3200n,
    reverseThroughput: 2400n, reverseThroughputFromSourceNode: 1466n, reverseThroughputFromDestinationNode: 2400n,
  },
];

test('inter-Node flow from both Nodes: correlation, aggregation, out-of-order and stale records, expiry', () => {
  let now = T0;
  const exported: AggregatedFlow[] = [];
  const p = new AggregationProcess({ sink: (f) => exported.push(f), now: () => now, clusterId: 'test-cluster' });
  for (const step of STEPS) {
    now = s(step.at);
    if ('expire' in step) {
      assert.equal(p.expire(), step.exports, `t=${step.at}s: ${step.note}`);
      continue;
    }
    const staleBefore = p.stats().recordsStale;
    const fields = { ...(step.from === 'src' ? FROM_SRC : FROM_DST), ...counters(step.c), flowEndSeconds: step.end, flowEndReason: step.reason, tcpState: step.tcp };
    assert.equal(p.ingest(agentRecord(4, fields)), null);
    assert.equal(p.stats().recordsStale - staleBefore, step.stale ? 1 : 0, `t=${step.at}s stale: ${step.note}`);
    if (step.check) {
      const flow = p.get('10.0.1.5', '10.0.2.7', 6, 41000, 80) as unknown as Record<string, FieldValue>;
      for (const [k, v] of Object.entries(step.check)) assert.equal(flow[k], v, `t=${step.at}s ${k}: ${step.note}`);
    }
  }
  assert.equal(exported.length, EXPECTED_EXPORTS.length);
  exported.forEach((flow, i) => {
    assert.deepEqual({ ...flow }, EXPECTED_EXPORTS[i], `export ${i + 1}`);
    // Every one of the 69 elements is present, in the aggregator template's order.
    assert.deepEqual(Object.keys(flow).slice(0, 69), aggregatorElementNames(4));
  });
  assert.equal(p.numFlows, 0);
  const st = p.stats();
  assert.equal(st.recordsReceived, 9);
  assert.equal(st.recordsStale, 2);
  assert.equal(st.recordsExported, 2);
  assert.equal(st.flowsCorrelated, 1);
  assert.equal(st.skippedExports, 1);
  assert.equal(st.flowsExpired, 1);
  assert.equal(st.correlationWaits, 0);
  assert.equal(st.oneSidedExports, 0);
});

test('the same flow with exports on the timers only (Antrea v2.3: exportOnReady false)', () => {
  let now = T0;
  const exported: AggregatedFlow[] = [];
  const p = new AggregationProcess({ sink: (f) => exported.push(f), now: () => now, clusterId: 'test-cluster', exportOnReady: false });
  p.ingest(agentRecord(4, { ...FROM_SRC, ...counters([10, 1000, 10, 1000, 8, 800, 8, 800]), flowEndSeconds: 1010, flowEndReason: 2, tcpState: 'ESTABLISHED' }));
  now = s(1);
  p.ingest(agentRecord(4, { ...FROM_DST, ...counters([11, 1100, 11, 1100, 9, 900, 9, 900]), flowEndSeconds: 1011, flowEndReason: 2, tcpState: 'ESTABLISHED' }));
  assert.equal(p.expire(), 0, 'correlated, but the first export waits for the active timeout');
  assert.equal(p.nextExpiry(), s(60));
  now = s(60);
  assert.equal(p.expire(), 1);
  assert.deepEqual({ ...exported[0] }, EXPECTED_EXPORTS[0]);
});
