/**
 * Flow kinds and lifecycle rules: intra-Node, to-external, inter-Node deny cases, stickiness,
 * throughput edge cases, delta reset, one-sided flows, skipped re-exports, enrichment. Expected
 * values are worked out by hand from the rules (see rules.ts / aggregation-process.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregationProcess, type AggregatedFlow, type AggregationOptions, type EnrichNeeds } from './index.ts';
import { agentRecord, type AgentFields } from './testing/agent-records.ts';

const T0 = 10_000_000;
const at = (seconds: number): number => T0 + seconds * 1000;

function counters(c: [number, number, number, number, number, number, number, number]): AgentFields {
  return {
    packetTotalCount: BigInt(c[0]), octetTotalCount: BigInt(c[1]), packetDeltaCount: BigInt(c[2]), octetDeltaCount: BigInt(c[3]),
    reversePacketTotalCount: BigInt(c[4]), reverseOctetTotalCount: BigInt(c[5]),
    reversePacketDeltaCount: BigInt(c[6]), reverseOctetDeltaCount: BigInt(c[7]),
  };
}

interface Harness {
  p: AggregationProcess;
  exported: AggregatedFlow[];
  enrichCalls: EnrichNeeds[];
  setTime(seconds: number): void;
  add(fields: AgentFields): void;
}

function harness(options: Partial<AggregationOptions> = {}): Harness {
  let now = T0;
  const exported: AggregatedFlow[] = [];
  const enrichCalls: EnrichNeeds[] = [];
  const p = new AggregationProcess({
    sink: (f) => exported.push(f),
    enrich: (_f, needs) => { enrichCalls.push(needs); },
    now: () => now,
    ...options,
  });
  return {
    p, exported, enrichCalls,
    setTime(seconds) { now = at(seconds); },
    add(fields) { assert.equal(p.ingest(agentRecord(4, fields)), null); },
  };
}

const INTRA: AgentFields = {
  sourceAddress: '10.0.1.2', destinationAddress: '10.0.1.3', protocolIdentifier: 6, sourceTransportPort: 50000, destinationTransportPort: 8080,
  sourcePodName: 'a', sourcePodNamespace: 'ns', sourceNodeName: 'n1', destinationPodName: 'b', destinationPodNamespace: 'ns', destinationNodeName: 'n1',
  flowType: 1, flowStartSeconds: 2000,
};

describe('intra-Node flow (no correlation)', () => {
  test('ready at once, both sides filled from each record, sticky end reason, tcpState from the newest, deltas reset', () => {
    const h = harness();
    h.add({ ...INTRA, flowEndSeconds: 2004, flowEndReason: 2, tcpState: 'ESTABLISHED', ...counters([4, 400, 4, 400, 3, 300, 3, 300]) });
    assert.equal(h.p.expire(), 1, 'exported at the first expiry after it became ready');
    let f = h.exported[0];
    assert.equal(f.correlationState, 'not-required');
    assert.deepEqual(h.enrichCalls, [{ podFields: false, labels: true }], 'intra-Node Pod fields are complete');
    // Initial record: throughput 400*8/(2004-2000) = 800, reverse 300*8/4 = 600, on all six fields.
    assert.deepEqual([f.throughput, f.throughputFromSourceNode, f.throughputFromDestinationNode], [800n, 800n, 800n]);
    assert.deepEqual([f.reverseThroughput, f.reverseThroughputFromSourceNode, f.reverseThroughputFromDestinationNode], [600n, 600n, 600n]);
    assert.deepEqual([f.octetTotalCountFromSourceNode, f.octetTotalCountFromDestinationNode, f.flowEndSecondsFromSourceNode, f.flowEndSecondsFromDestinationNode],
      [400n, 400n, 2004, 2004]);

    h.setTime(5);
    h.add({ ...INTRA, flowEndSeconds: 2009, flowEndReason: 3, tcpState: 'TIME_WAIT', ...counters([9, 900, 5, 500, 7, 700, 4, 400]) });
    // Deltas were reset by the export: now 5/500/4/400 on both sides and common; throughput (900-400)*8/5 = 800.
    f = h.p.get('10.0.1.2', '10.0.1.3', 6, 50000, 8080) as AggregatedFlow;
    assert.deepEqual([f.octetDeltaCount, f.octetDeltaCountFromSourceNode, f.octetDeltaCountFromDestinationNode], [500n, 500n, 500n]);
    assert.deepEqual([f.throughput, f.reverseThroughput, f.reverseThroughputFromSourceNode], [800n, 640n, 640n]);
    h.setTime(6);
    h.add({ ...INTRA, flowEndSeconds: 2010, flowEndReason: 2, tcpState: 'CLOSE', ...counters([9, 900, 0, 0, 7, 700, 0, 0]) });

    h.setTime(59);
    assert.equal(h.p.expire(), 0);
    h.setTime(60);
    assert.equal(h.p.expire(), 1, 'active timeout');
    f = h.exported[1];
    assert.equal(f.flowEndReason, 3, 'end of flow (3) is sticky');
    assert.equal(f.tcpState, 'CLOSE', 'tcpState follows the newest record');
    assert.equal(f.flowEndSeconds, 2010);
    assert.deepEqual([f.octetDeltaCount, f.packetDeltaCount, f.reverseOctetDeltaCount, f.reversePacketDeltaCount], [500n, 5n, 400n, 4n]);
    assert.deepEqual([f.octetTotalCount, f.reverseOctetTotalCount], [900n, 700n]);
    assert.equal(f.throughput, 0n, 'last interval carried no bytes: (900-900)*8/1 = 0');
    assert.equal(h.enrichCalls.length, 1, 'labels are looked up once per flow');

    h.setTime(95);
    assert.equal(h.p.expire(), 0);
    assert.equal(h.p.numFlows, 1);
    h.setTime(96);
    assert.equal(h.p.expire(), 0, 'inactive timeout (6 + 90 s) with nothing new: deleted without a re-export');
    assert.equal(h.p.numFlows, 0);
    assert.equal(h.p.stats().skippedExports, 1);
  });

  test('no re-export without new data; new data is exported on the next active timeout', () => {
    const h = harness({ inactiveTimeoutMs: 300_000 });
    h.add({ ...INTRA, flowEndSeconds: 2001, flowEndReason: 2, ...counters([1, 100, 1, 100, 0, 0, 0, 0]) });
    assert.equal(h.p.expire(), 1);
    h.setTime(60);
    assert.equal(h.p.expire(), 0, 'nothing since the first export');
    assert.equal(h.p.stats().skippedExports, 1);
    h.setTime(70);
    h.add({ ...INTRA, flowEndSeconds: 2070, flowEndReason: 2, ...counters([2, 200, 1, 100, 0, 0, 0, 0]) });
    h.setTime(119);
    assert.equal(h.p.expire(), 0);
    h.setTime(120);
    assert.equal(h.p.expire(), 1);
    assert.equal(h.exported[1].octetDeltaCount, 100n);
    assert.equal(h.exported[1].throughput, 100n * 8n / 69n, 'throughput over (2070 - 2001) s');
  });
});

test('to-external flow: ready at once, egress fields kept, throughput 0 when end == start', () => {
  const h = harness();
  h.add({
    sourceAddress: '10.0.1.2', destinationAddress: '8.8.8.8', protocolIdentifier: 17, sourceTransportPort: 40000, destinationTransportPort: 53,
    sourcePodName: 'a', sourcePodNamespace: 'ns', sourceNodeName: 'n1', flowType: 3,
    egressName: 'egress-1', egressIP: '172.18.0.100', egressNodeName: 'n2',
    flowStartSeconds: 3000, flowEndSeconds: 3000, flowEndReason: 1, ...counters([1, 60, 1, 60, 1, 120, 1, 120]),
  });
  assert.equal(h.p.expire(), 1);
  const f = h.exported[0];
  assert.equal(f.correlationState, 'not-required');
  assert.deepEqual(h.enrichCalls, [{ podFields: false, labels: true }]);
  assert.deepEqual([f.egressName, f.egressIP, f.egressNodeName, f.destinationPodName], ['egress-1', '172.18.0.100', 'n2', '']);
  assert.deepEqual([f.throughput, f.reverseThroughput, f.throughputFromSourceNode], [0n, 0n, 0n]);
  assert.deepEqual([f.octetTotalCountFromSourceNode, f.octetTotalCountFromDestinationNode], [60n, 60n]);
});

describe('inter-Node deny cases', () => {
  const SRC_SIDE: AgentFields = {
    sourceAddress: '10.0.1.2', destinationAddress: '10.0.2.9', protocolIdentifier: 6, sourceTransportPort: 45000, destinationTransportPort: 443,
    sourcePodName: 'a', sourcePodNamespace: 'ns-a', sourceNodeName: 'n1', flowType: 2,
  };
  const DST_SIDE: AgentFields = {
    sourceAddress: '10.0.1.2', destinationAddress: '10.0.2.9', protocolIdentifier: 6, sourceTransportPort: 45000, destinationTransportPort: 443,
    destinationPodName: 'b', destinationPodNamespace: 'ns-b', destinationNodeName: 'n2', flowType: 2,
  };
  const denyRecord = { flowStartSeconds: 4000, flowEndSeconds: 4000, flowEndReason: 3, ...counters([1, 60, 1, 60, 0, 0, 0, 0]) };

  for (const [name, fields] of [
    ['egress Drop at the source Node', { ...SRC_SIDE, egressNetworkPolicyRuleAction: 2, egressNetworkPolicyName: 'deny-all', egressNetworkPolicyType: 3 }],
    ['egress Reject at the source Node', { ...SRC_SIDE, egressNetworkPolicyRuleAction: 3, egressNetworkPolicyName: 'reject-all', egressNetworkPolicyType: 3 }],
    ['ingress Reject at the destination Node', { ...DST_SIDE, ingressNetworkPolicyRuleAction: 3, ingressNetworkPolicyName: 'reject-in', ingressNetworkPolicyType: 2 }],
  ] as const) {
    test(`${name}: not correlated, exported at once, the other end's Pod fields asked of the enrich hook`, () => {
      const lookups: EnrichNeeds[] = [];
      const h = harness({
        enrich: (f, needs) => {
          lookups.push(needs);
          if (needs.podFields && f.destinationPodName === '') {
            f.destinationPodName = 'b'; f.destinationPodNamespace = 'ns-b'; f.destinationNodeName = 'n2';
          }
          if (needs.podFields && f.sourcePodName === '') {
            f.sourcePodName = 'a'; f.sourcePodNamespace = 'ns-a'; f.sourceNodeName = 'n1';
          }
          if (needs.labels) f.sourcePodLabels = '{"app":"a"}';
        },
      });
      h.add({ ...fields, ...denyRecord });
      assert.equal(h.p.expire(), 1);
      const f = h.exported[0];
      assert.equal(f.correlationState, 'not-required');
      assert.deepEqual(lookups, [{ podFields: true, labels: true }]);
      assert.deepEqual([f.sourcePodName, f.destinationPodName, f.destinationNodeName, f.sourcePodLabels], ['a', 'b', 'n2', '{"app":"a"}']);
      // What the hook filled is kept in the store (upstream fills the record once).
      const kept = h.p.get('10.0.1.2', '10.0.2.9', 6, 45000, 443) as AggregatedFlow;
      assert.deepEqual([kept.sourcePodName, kept.destinationPodName, kept.sourcePodLabels], ['a', 'b', '{"app":"a"}']);
      assert.equal(h.p.stats().correlationWaits, 0);
    });
  }

  test('ingress Drop: still correlated (source Node SYN_SENT record + destination Node deny record)', () => {
    const h = harness();
    h.add({ ...SRC_SIDE, flowStartSeconds: 5000, flowEndSeconds: 5003, flowEndReason: 2, tcpState: 'SYN_SENT', ...counters([3, 180, 3, 180, 0, 0, 0, 0]) });
    assert.equal(h.p.expire(), 0, 'waiting for the destination Node');
    h.setTime(2);
    h.add({
      ...DST_SIDE, ingressNetworkPolicyRuleAction: 2, ingressNetworkPolicyName: 'deny-in', ingressNetworkPolicyNamespace: 'ns-b',
      ingressNetworkPolicyType: 3, ingressNetworkPolicyRuleName: 'drop-rule',
      flowStartSeconds: 5001, flowEndSeconds: 5004, flowEndReason: 3, ...counters([3, 180, 3, 180, 0, 0, 0, 0]),
    });
    assert.equal(h.p.expire(), 1);
    const f = h.exported[0];
    assert.equal(f.correlationState, 'correlated');
    assert.deepEqual([f.sourcePodName, f.destinationPodName, f.ingressNetworkPolicyName, f.ingressNetworkPolicyRuleAction, f.ingressNetworkPolicyType],
      ['a', 'b', 'deny-in', 2, 3]);
    assert.equal(f.flowEndReason, 3);
    assert.equal(f.tcpState, '', 'the deny record is the newest: its (empty) tcpState wins');
    // Destination side: first record from it, prev = its flowStartSeconds 5001: 180*8/3 = 480.
    assert.deepEqual([f.octetTotalCountFromSourceNode, f.octetTotalCountFromDestinationNode, f.throughputFromDestinationNode], [180n, 180n, 480n]);
    assert.deepEqual(h.enrichCalls, [{ podFields: false, labels: true }]);
  });

  test('ingress Drop with an instantaneous deny record (start == end): correlated with both Nodes\' statistics (upstream ignores the deny record\'s)', () => {
    const h = harness();
    h.add({ ...SRC_SIDE, flowStartSeconds: 5000, flowEndSeconds: 5003, flowEndReason: 2, tcpState: 'SYN_SENT', ...counters([3, 180, 3, 180, 0, 0, 0, 0]) });
    h.add({ ...DST_SIDE, ingressNetworkPolicyRuleAction: 2, ingressNetworkPolicyName: 'deny-in', ...denyRecord });
    assert.equal(h.p.expire(), 1);
    const f = h.exported[0];
    assert.equal(f.correlationState, 'correlated');
    assert.equal(f.ingressNetworkPolicyName, 'deny-in');
    assert.equal(h.p.stats().recordsStale, 0, 'a Node\'s first record is never stale');
    // The destination Node's statistics are its own; the common fields stay the newer source record's.
    assert.deepEqual([f.octetTotalCountFromDestinationNode, f.flowEndSecondsFromDestinationNode, f.octetTotalCount, f.tcpState], [60n, 4000, 180n, 'SYN_SENT']);
    assert.equal(f.flowEndReason, 3, 'the deny record ends the flow');
  });
});

test('a connection shorter than a second keeps both Nodes\' statistics (upstream drops the second Node\'s)', () => {
  const h = harness();
  const tuple: AgentFields = {
    sourceAddress: '10.0.1.2', destinationAddress: '10.0.2.9', protocolIdentifier: 6, sourceTransportPort: 46000, destinationTransportPort: 80,
    flowType: 2, flowStartSeconds: 7000, flowEndSeconds: 7000, flowEndReason: 3, tcpState: 'TIME_WAIT',
  };
  h.add({ ...tuple, destinationPodName: 'b', destinationPodNamespace: 'ns-b', destinationNodeName: 'n2', ...counters([6, 400, 6, 400, 5, 325, 5, 325]) });
  h.add({ ...tuple, sourcePodName: 'a', sourcePodNamespace: 'ns-a', sourceNodeName: 'n1', ...counters([6, 400, 6, 400, 5, 325, 5, 325]) });
  h.p.expire();
  const f = h.exported[0];
  assert.equal(f.correlationState, 'correlated');
  assert.deepEqual([f.octetTotalCountFromSourceNode, f.octetTotalCountFromDestinationNode], [400n, 400n]);
  assert.deepEqual([f.flowEndSecondsFromSourceNode, f.flowEndSecondsFromDestinationNode], [7000, 7000]);
  assert.equal(f.throughput, 0n, 'no time window, no throughput');
  assert.equal(h.p.stats().recordsStale, 0);
});

test('throughput guards: counters going backwards give 0, not a wrapped 64-bit value', () => {
  const h = harness();
  h.add({ ...INTRA, flowEndSeconds: 2010, ...counters([10, 10000, 10, 10000, 10, 5000, 10, 5000]) });
  h.add({ ...INTRA, flowEndSeconds: 2020, ...counters([2, 100, 2, 100, 2, 50, 2, 50]) }); // conntrack entry reset
  const f = h.p.get('10.0.1.2', '10.0.1.3', 6, 50000, 8080) as AggregatedFlow;
  assert.deepEqual([f.throughput, f.reverseThroughput, f.throughputFromSourceNode], [0n, 0n, 0n]);
  assert.equal(f.octetTotalCount, 10000n, 'common total is the max');
  assert.equal(f.octetTotalCountFromSourceNode, 100n, 'per-side total is overwritten');
});

describe('flows for which only one Node reports (beyond upstream)', () => {
  const HALF: AgentFields = {
    sourceAddress: '10.0.1.2', destinationAddress: '10.0.2.9', protocolIdentifier: 17, sourceTransportPort: 1234, destinationTransportPort: 5353,
    sourcePodName: 'a', sourcePodNamespace: 'ns-a', sourceNodeName: 'n1', flowType: 2,
    flowStartSeconds: 6000, flowEndSeconds: 6005, flowEndReason: 2, ...counters([5, 500, 5, 500, 0, 0, 0, 0]),
  };

  test('exported as one-sided after the retries, then deleted on inactivity', () => {
    const h = harness();
    h.add(HALF);
    h.setTime(59);
    assert.equal(h.p.expire(), 0);
    assert.equal(h.p.stats().correlationWaits, 0);
    h.setTime(60);
    assert.equal(h.p.expire(), 0, 'first wait: deadlines re-armed to 120 s / 150 s');
    assert.equal(h.p.query()[0].correlationState, 'waiting');
    h.setTime(120);
    assert.equal(h.p.expire(), 0, 'second wait: 180 s / 210 s');
    h.setTime(179);
    assert.equal(h.p.expire(), 0);
    h.setTime(180);
    assert.equal(h.p.expire(), 1, 'third pop > MaxRetries 2: exported with what is known');
    const f = h.exported[0];
    assert.equal(f.correlationState, 'one-sided');
    assert.deepEqual([f.sourcePodName, f.destinationPodName, f.octetTotalCountFromSourceNode, f.octetTotalCountFromDestinationNode], ['a', '', 500n, 0n]);
    assert.deepEqual(h.enrichCalls, [{ podFields: true, labels: true }]);
    const st = h.p.stats();
    assert.deepEqual([st.correlationWaits, st.oneSidedFlows, st.oneSidedExports], [3, 1, 1]);
    h.setTime(210);
    assert.equal(h.p.expire(), 0, 'inactive: nothing new, not re-exported');
    assert.equal(h.p.numFlows, 0);
  });

  test('records from the same Node keep it waiting; the other Node arriving late still correlates', () => {
    const h = harness();
    h.add(HALF);
    h.setTime(60);
    h.p.expire();
    h.setTime(100);
    h.add({ ...HALF, flowEndSeconds: 6100, ...counters([9, 900, 4, 400, 0, 0, 0, 0]) });
    h.setTime(120);
    assert.equal(h.p.expire(), 0, 'same Node: no correlation, still waiting');
    h.setTime(180);
    assert.equal(h.p.expire(), 1);
    assert.equal(h.exported[0].correlationState, 'one-sided');
    assert.equal(h.exported[0].octetDeltaCount, 900n, 'both records of the source Node: 500 + 400');
    h.setTime(185);
    h.add({
      ...HALF, sourcePodName: '', sourcePodNamespace: '', sourceNodeName: '',
      destinationPodName: 'b', destinationPodNamespace: 'ns-b', destinationNodeName: 'n2', flowEndSeconds: 6180,
    });
    assert.equal(h.p.expire(), 1, 'correlated late: exported at once');
    const f = h.exported[1];
    assert.equal(f.correlationState, 'correlated');
    assert.deepEqual([f.sourcePodName, f.destinationPodName, f.destinationNodeName], ['a', 'b', 'n2']);
    assert.equal(h.p.stats().lateCorrelations, 1);
  });

  test('oneSidedExport false: deleted without export after the retries, as upstream, but counted', () => {
    const h = harness({ oneSidedExport: false });
    h.add(HALF);
    for (const t of [60, 120, 180]) {
      h.setTime(t);
      assert.equal(h.p.expire(), 0);
    }
    assert.equal(h.exported.length, 0);
    assert.equal(h.p.numFlows, 0);
    assert.equal(h.p.stats().oneSidedDropped, 1);
  });

  test('flush() exports waiting flows one-sided and ready ones with new data', () => {
    const h = harness();
    h.add(HALF);
    h.add({ ...INTRA, flowEndSeconds: 2001, ...counters([1, 100, 1, 100, 0, 0, 0, 0]) });
    assert.equal(h.p.flush(), 2);
    assert.deepEqual(h.exported.map((f) => f.correlationState).sort(), ['not-required', 'one-sided']);
    assert.equal(h.p.flush(), 0, 'nothing new');
  });

  test('flush(maxExports) goes in chunks that together export each flow once, in slot order', () => {
    const h = harness();
    for (let i = 0; i < 7; i++) h.add({ ...INTRA, sourceTransportPort: 40000 + i, flowEndSeconds: 2001, ...counters([1, 100, 1, 100, 0, 0, 0, 0]) });
    assert.deepEqual([h.p.flush(3), h.p.flush(3), h.p.flush(3)], [3, 3, 1]);
    assert.deepEqual(h.exported.map((f) => f.sourceTransportPort), [40000, 40001, 40002, 40003, 40004, 40005, 40006]);
    assert.equal(h.p.flush(3), 0, 'finished: nothing new');
    const update = { flowEndSeconds: 2002, ...counters([2, 200, 1, 100, 0, 0, 0, 0]) };
    h.add({ ...INTRA, sourceTransportPort: 40001, ...update });
    h.add({ ...INTRA, sourceTransportPort: 40005, ...update });
    assert.equal(h.p.flush(1), 1, 'stops after 40001');
    h.add({ ...INTRA, sourceTransportPort: 40000, ...update });
    assert.equal(h.p.flush(), 2, 'an unlimited flush starts from the first slot again');
    assert.deepEqual(h.exported.slice(7).map((f) => f.sourceTransportPort), [40001, 40000, 40005]);
  });
});

test('a throwing sink is counted and the flow carries on', () => {
  let calls = 0;
  const h = harness({ sink: () => { calls++; throw new Error('sink down'); } });
  h.add({ ...INTRA, flowEndSeconds: 2001, ...counters([1, 100, 1, 100, 0, 0, 0, 0]) });
  assert.equal(h.p.expire(), 1);
  assert.equal(calls, 1);
  assert.equal(h.p.stats().sinkErrors, 1);
  assert.equal(h.p.numFlows, 1);
  assert.equal(h.p.nextExpiry(), at(60), 're-armed as after a successful export');
});

test('options are validated', () => {
  assert.throws(() => new AggregationProcess({ sink: () => {}, activeTimeoutMs: 0 }), /activeTimeoutMs/);
  assert.throws(() => new AggregationProcess({ sink: () => {}, maxCorrelationRetries: 1.5 }), /maxCorrelationRetries/);
});

test('nextExpiry follows inactive deadlines that moved on; expire() before it does nothing', () => {
  const h = harness({ activeTimeoutMs: 120_000, inactiveTimeoutMs: 30_000, exportOnReady: false });
  h.add({ ...INTRA, flowEndSeconds: 2001, ...counters([1, 100, 1, 100, 0, 0, 0, 0]) });
  assert.equal(h.p.nextExpiry(), at(30));
  h.setTime(20);
  h.add({ ...INTRA, flowEndSeconds: 2020, ...counters([2, 200, 1, 100, 0, 0, 0, 0]) });
  assert.equal(h.p.nextExpiry(), at(50), 'inactive deadline pushed back by the record at 20 s');
  h.setTime(49);
  assert.equal(h.p.expire(), 0);
  h.setTime(50);
  assert.equal(h.p.expire(), 1, 'inactive: exported (first export) and deleted');
  assert.equal(h.p.numFlows, 0);
  assert.equal(h.p.nextExpiry(), null);
});
