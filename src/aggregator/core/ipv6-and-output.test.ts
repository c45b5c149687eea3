/**
 * IPv6 flows, the output views of an AggregatedFlow (positional values for the IPFIX sink, plain
 * object and JSON text with exact 64-bit integers) and the query API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../errors.ts';
import { aggregatorElementNames, aggregatorTemplate, MessageWriter, SessionDecoder } from '../../ipfix/index.ts';
import {
  AggregationProcess, stringifyWithBigInts, toAggregatorValues, toElementObject, toPlainObject, type AggregatedFlow,
} from './index.ts';
import { agentRecord, type AgentFields } from './testing/agent-records.ts';

const V6: AgentFields = {
  sourceAddress: 'fd00:10:244:1::5', destinationAddress: 'fd00:10:244:2::7', protocolIdentifier: 6,
  sourceTransportPort: 43000, destinationTransportPort: 8443, flowStartSeconds: 100, flowType: 2, flowEndReason: 2, tcpState: 'ESTABLISHED',
};
const SRC6: AgentFields = { ...V6, sourcePodName: 'client', sourcePodNamespace: 'ns-a', sourceNodeName: 'n1',
  destinationClusterIP: 'fd00:10:96::a', destinationServicePort: 443, destinationServicePortName: 'ns-b/api:https' };
const DST6: AgentFields = { ...V6, destinationPodName: 'server', destinationPodNamespace: 'ns-b', destinationNodeName: 'n2', destinationClusterIP: '::' };

function counters(c: number[]): AgentFields {
  const n = ['packetTotalCount', 'octetTotalCount', 'packetDeltaCount', 'octetDeltaCount',
    'reversePacketTotalCount', 'reverseOctetTotalCount', 'reversePacketDeltaCount', 'reverseOctetDeltaCount'];
  return Object.fromEntries(n.map((k, i) => [k, BigInt(c[i])]));
}

function correlatedV6(): { p: AggregationProcess; exported: AggregatedFlow[] } {
  let now = 1_000_000;
  const exported: AggregatedFlow[] = [];
  const p = new AggregationProcess({ sink: (f) => exported.push(f), now: () => now, clusterId: 'c-1' });
  p.ingest(agentRecord(6, { ...SRC6, flowEndSeconds: 110, ...counters([10, 1000, 10, 1000, 10, 2000, 10, 2000]) }));
  now += 1000;
  p.ingest(agentRecord(6, { ...DST6, flowEndSeconds: 112, ...counters([12, 1200, 12, 1200, 11, 2200, 11, 2200]) }));
  return { p, exported };
}

test('IPv6 inter-Node flow: correlated, "::" Service address not copied over the real one', () => {
  const { p, exported } = correlatedV6();
  assert.equal(p.expire(), 1);
  const f = exported[0];
  assert.equal(f.family, 6);
  if (f.family !== 6) return;
  assert.deepEqual([f.sourceIPv6Address, f.destinationIPv6Address, f.destinationClusterIPv6], ['fd00:10:244:1::5', 'fd00:10:244:2::7', 'fd00:10:96::a']);
  assert.deepEqual([f.sourcePodName, f.destinationPodName, f.destinationServicePort, f.correlationState], ['client', 'server', 443, 'correlated']);
  // Destination side: first record from it, prev = flowStartSeconds 100: 1200*8/12 = 800, 2200*8/12 = 1466.
  assert.deepEqual([f.throughput, f.throughputFromSourceNode, f.throughputFromDestinationNode], [800n, 800n, 800n]);
  assert.deepEqual([f.reverseThroughput, f.reverseThroughputFromSourceNode, f.reverseThroughputFromDestinationNode], [1466n, 1600n, 1466n]);
  assert.deepEqual([f.flowEndSeconds, f.flowEndSecondsFromSourceNode, f.flowEndSecondsFromDestinationNode], [112, 110, 112]);
  assert.deepEqual([f.octetTotalCount, f.octetDeltaCount, f.octetDeltaCountFromSourceNode], [1200n, 1200n, 1000n]);
  assert.deepEqual(Object.keys(f).slice(0, 69), aggregatorElementNames(6));
  assert.equal(f.clusterId, 'c-1');
});

test('toAggregatorValues: the 69 values encode with the aggregator template and decode back equal', () => {
  const { p, exported } = correlatedV6();
  p.ingest(agentRecord(4, { ...SRC6, sourceAddress: '10.0.0.1', destinationAddress: '10.0.0.2', destinationClusterIP: '10.96.0.1', flowType: 1, destinationPodName: 'x', flowEndSeconds: 105 }));
  p.expire();
  assert.equal(exported.length, 2);
  const writer = new MessageWriter({ observationDomainId: 7, clock: () => 1 });
  const templates = { 4: aggregatorTemplate(4), 6: aggregatorTemplate(6) };
  writer.addTemplate(templates[4]);
  writer.addTemplate(templates[6]);
  const rows = exported.map((f) => toAggregatorValues(f, f.family));
  exported.forEach((f, i) => writer.addRecord(templates[f.family], rows[i]));
  writer.flush();
  const decoded = new SessionDecoder({ transport: 'tcp' }).decodeMessage(writer.drain()[0]);
  assert.deepEqual(decoded.errors, []);
  assert.deepEqual(decoded.records.map((r) => r.values), rows);
  assert.throws(() => toAggregatorValues(exported[0], 4), (e: unknown) => e instanceof ApiError && e.code === 'FAMILY_MISMATCH');
});

test('plain object and JSON views keep 64-bit counters exact', () => {
  const { p } = correlatedV6();
  const big = 2n ** 63n + 12345n;
  p.ingest(agentRecord(6, { ...DST6, flowEndSeconds: 120, ...counters([13, 1300, 1, 100, 12, 2300, 1, 100]), octetTotalCount: big }));
  const f = p.query({ srcip: 'fd00:10:244:1::5' })[0];
  assert.equal(f.octetTotalCount, big);
  const plain = toPlainObject(f);
  assert.equal(plain.octetTotalCount, big);
  assert.deepEqual(plain.flowKey, f.flowKey);
  assert.equal(plain.correlationState, 'correlated');
  const text = stringifyWithBigInts({ '@timestamp': '2024-01-01T00:00:00Z', ipfix: toElementObject(f) });
  assert.match(text, /"octetTotalCount":9223372036854788153[,}]/);
  const parsed = JSON.parse(text) as { ipfix: Record<string, unknown> };
  assert.deepEqual(Object.keys(parsed.ipfix), aggregatorElementNames(6));
  assert.equal(parsed.ipfix.sourceIPv6Address, 'fd00:10:244:1::5');
});

test('queries: direct 5-tuple lookup (canonicalising addresses), partial filters, list, bad filters', () => {
  const { p } = correlatedV6();
  p.ingest(agentRecord(4, { ...SRC6, sourceAddress: '10.0.0.1', destinationAddress: '10.0.0.2', destinationClusterIP: '0.0.0.0', flowType: 1, destinationPodName: 'x', flowEndSeconds: 105 }));
  p.ingest(agentRecord(4, { ...SRC6, sourceAddress: '10.0.0.1', destinationAddress: '10.0.0.3', destinationClusterIP: '0.0.0.0', protocolIdentifier: 17, flowType: 1, destinationPodName: 'y', flowEndSeconds: 105 }));
  assert.equal(p.list().length, 3);
  const one = p.get('FD00:10:244:1:0:0:0:5', 'fd00:10:244:2::7', 6, 43000, 8443);
  assert.equal(one?.sourcePodName, 'client');
  assert.equal(p.get('fd00:10:244:1::5', 'fd00:10:244:2::7', 6, 43000, 1), undefined);
  assert.deepEqual(p.query({ srcip: 'fd00:10:244:1::5', dstip: 'fd00:10:244:2::7', proto: 6, srcport: 43000, dstport: 8443 }).map((f) => f.destinationPodName), ['server']);
  assert.deepEqual(p.query({ srcip: '10.0.0.1' }).map((f) => f.destinationPodName).sort(), ['x', 'y']);
  assert.deepEqual(p.query({ proto: 17 }).map((f) => f.destinationPodName), ['y']);
  assert.deepEqual(p.query({ dstport: 8443, srcport: 43000 }).length, 3);
  assert.equal(p.query({ srcip: '10.0.0.1' }, 1).length, 1);
  assert.throws(() => p.query({ srcip: '10.0.0' }), (e: unknown) => e instanceof ApiError && e.code === 'BAD_FILTER');
  assert.throws(() => p.query({ srcport: 70000 }), ApiError);
  // A query is a snapshot: changing it does not touch the store.
  one!.sourcePodName = 'changed';
  assert.equal(p.get('fd00:10:244:1::5', 'fd00:10:244:2::7', 6, 43000, 8443)?.sourcePodName, 'client');
});
