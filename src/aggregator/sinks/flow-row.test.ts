import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyFlowRow, FLOW_COLUMNS, FLOW_ROW_COLUMNS, RowQueue, type FlowRow } from './flow-row.ts';

/** Antrea v2.3.2's ClickHouse INSERT column list, in its order. */
const ANTREA_INSERT_COLUMNS = `flowStartSeconds, flowEndSeconds, flowEndSecondsFromSourceNode, flowEndSecondsFromDestinationNode,
  flowEndReason, sourceIP, destinationIP, sourceTransportPort, destinationTransportPort, protocolIdentifier, packetTotalCount,
  octetTotalCount, packetDeltaCount, octetDeltaCount, reversePacketTotalCount, reverseOctetTotalCount, reversePacketDeltaCount,
  reverseOctetDeltaCount, sourcePodName, sourcePodNamespace, sourceNodeName, destinationPodName, destinationPodNamespace,
  destinationNodeName, destinationClusterIP, destinationServicePort, destinationServicePortName, ingressNetworkPolicyName,
  ingressNetworkPolicyNamespace, ingressNetworkPolicyRuleName, ingressNetworkPolicyRuleAction, ingressNetworkPolicyType,
  egressNetworkPolicyName, egressNetworkPolicyNamespace, egressNetworkPolicyRuleName, egressNetworkPolicyRuleAction,
  egressNetworkPolicyType, tcpState, flowType, sourcePodLabels, destinationPodLabels, throughput, reverseThroughput,
  throughputFromSourceNode, throughputFromDestinationNode, reverseThroughputFromSourceNode, reverseThroughputFromDestinationNode,
  clusterUUID, egressName, egressIP, appProtocolName, httpVals, egressNodeName`
  .split(',')
  .map((s) => s.trim());

function rows(from: number, count: number): FlowRow[] {
  return Array.from({ length: count }, (_, i) => ({ ...emptyFlowRow(), sourceTransportPort: from + i }));
}
const ports = (list: readonly FlowRow[]): number[] => list.map((r) => r.sourceTransportPort);

describe('flow schema', () => {
  test('is timeInserted, the 53 columns Antrea inserts in its order, then trusted', () => {
    assert.equal(ANTREA_INSERT_COLUMNS.length, 53);
    assert.deepEqual(
      FLOW_COLUMNS.map((c) => c.name),
      ['timeInserted', ...ANTREA_INSERT_COLUMNS, 'trusted'],
    );
    assert.deepEqual(
      FLOW_ROW_COLUMNS.map((c) => c.name),
      [...ANTREA_INSERT_COLUMNS, 'trusted'],
    );
  });

  test('types follow the Theia table', () => {
    const type = new Map(FLOW_COLUMNS.map((c) => [c.name as string, c.type]));
    assert.equal(type.get('flowStartSeconds'), 'DateTime');
    assert.equal(type.get('sourceTransportPort'), 'UInt16');
    assert.equal(type.get('protocolIdentifier'), 'UInt8');
    assert.equal(type.get('octetDeltaCount'), 'UInt64');
    assert.equal(type.get('reverseThroughputFromDestinationNode'), 'UInt64');
    assert.equal(type.get('destinationClusterIP'), 'String');
    assert.equal(type.get('trusted'), 'UInt8');
    const empty = emptyFlowRow();
    assert.equal(empty.destinationClusterIP, '0.0.0.0');
    assert.equal(empty.octetTotalCount, 0n);
    assert.equal(Object.keys(empty).length, 54);
  });
});

describe('RowQueue', () => {
  test('drops the oldest records when full and counts them', () => {
    const q = new RowQueue(5);
    assert.equal(q.push(rows(0, 3)), 0);
    assert.equal(q.push(rows(3, 4)), 2);
    assert.equal(q.dropped, 2);
    assert.deepEqual(ports(q.take(10)), [2, 3, 4, 5, 6]);
  });

  test('a failed batch returns to the front, in order', () => {
    const q = new RowQueue(10);
    q.push(rows(0, 6));
    const batch = q.take(4);
    q.push(rows(6, 2));
    assert.equal(q.pending, 8);
    assert.equal(q.giveBack(batch), 0);
    assert.deepEqual(ports(q.take(100)), [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test('records arriving while a batch is in flight displace its oldest only if it fails', () => {
    const ok = new RowQueue(4);
    ok.push(rows(0, 4));
    ok.take(3);
    ok.push(rows(4, 2)); // full: the two oldest (in flight) are marked, nothing waiting is dropped
    assert.equal(ok.dropped, 0);
    ok.done(); // the batch was written after all
    assert.equal(ok.dropped, 0);
    assert.deepEqual(ports(ok.take(10)), [3, 4, 5]);

    const failed = new RowQueue(4);
    failed.push(rows(0, 4));
    const batch = failed.take(3);
    failed.push(rows(4, 2));
    assert.equal(failed.giveBack(batch), 2);
    assert.equal(failed.dropped, 2);
    assert.deepEqual(ports(failed.take(10)), [2, 3, 4, 5]);
  });

  test('giveBack after a partial write returns only the unwritten rest', () => {
    const q = new RowQueue(10);
    q.push(rows(0, 5));
    const batch = q.take(5);
    assert.equal(q.giveBack(batch, 3), 0);
    assert.deepEqual(ports(q.take(10)), [3, 4]);
  });

  test('grows its ring as needed and clear() counts what it discards', () => {
    const q = new RowQueue(5000);
    q.push(rows(0, 3000));
    assert.deepEqual(ports(q.take(2)), [0, 1]);
    q.done();
    q.push(rows(3000, 1500));
    assert.equal(q.length, 4498);
    assert.equal(q.clear(), 4498);
    assert.equal(q.dropped, 4498);
    assert.equal(q.length, 0);
  });

  test('refuses a second batch in flight and a bad capacity', () => {
    const q = new RowQueue(3);
    q.push(rows(0, 2));
    q.take(1);
    assert.throws(() => q.take(1));
    assert.throws(() => new RowQueue(0), RangeError);
  });
});
