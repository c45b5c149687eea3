/**
 * Version skew: records from agents with fewer, more, reordered or differently sized elements are
 * read by element name into the 42-element layout. Records go through the real codec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpfixError } from '../../errors.ts';
import { agentElementNames, PEN_ANTREA, Template, unknownElement, defaultModel, type TemplateField } from '../../ipfix/index.ts';
import { AggregationProcess, Preprocessor, type AggregatedFlow } from './index.ts';
import { A } from './layout.ts';
import { agentRecord, customTemplate, type AgentFields } from './testing/agent-records.ts';

const FLOW: AgentFields = {
  sourceAddress: '10.0.1.2', destinationAddress: '10.0.2.3', protocolIdentifier: 6, sourceTransportPort: 40000, destinationTransportPort: 80,
  flowStartSeconds: 100, flowEndSeconds: 110, flowEndReason: 2, flowType: 2, tcpState: 'ESTABLISHED',
  packetTotalCount: 10n, octetTotalCount: 1000n, packetDeltaCount: 10n, octetDeltaCount: 1000n,
  egressNodeName: 'egress-node', destinationClusterIP: '10.96.0.1', destinationServicePort: 80,
};

/** Antrea HEAD's agent list: the first 38 of v2.3, then egressNodeName, proxySnatPort, ClusterIP, proxySnatIP, serviceIP. */
const HEAD_V4 = [...agentElementNames(4).slice(0, 38), 'egressNodeName', 'proxySnatPort', 'destinationClusterIPv4', 'proxySnatIPv4', 'destinationServiceIPv4'];

test('exact layout passes through without a copy', () => {
  const p = new Preprocessor();
  const rec = agentRecord(4, FLOW);
  const n = p.normalize(rec);
  assert.ok(!(n instanceof IpfixError));
  assert.equal(n.values, rec.values);
  assert.equal(n.family, 4);
  assert.equal(p.stats.recordsFixed, 0);
});

test('newer agent (Antrea HEAD, 43 elements, two removed from the middle, five appended): read by name', () => {
  const p = new Preprocessor();
  const rec = agentRecord(4, { ...FLOW, proxySnatPort: 31000, proxySnatIPv4: '172.18.0.2', destinationServiceIPv4: '10.96.0.1' }, customTemplate(HEAD_V4));
  assert.deepEqual(p.describe(rec.template), { family: 4, exact: false, missing: 2, extra: 3 });
  const n = p.normalize(rec);
  assert.ok(!(n instanceof IpfixError));
  assert.equal(n.values.length, 42);
  assert.equal(n.values[A.egressNodeName], 'egress-node');
  assert.equal(n.values[A.destinationClusterIP], '10.96.0.1');
  assert.equal(n.values[A.appProtocolName], '', 'removed upstream in v2.6: zero value');
  assert.equal(n.values[A.httpVals], '');
  assert.equal(p.stats.recordsFixed, 1);
  // A positional truncation to 42 (upstream v2.3) would have read egressNodeName's value as
  // appProtocolName and proxySnatPort's as httpVals: show that the names really moved.
  assert.equal(HEAD_V4[38], 'egressNodeName');
  assert.equal(agentElementNames(4)[38], 'appProtocolName');
});

test('older agent (no egress, L7 or Service address elements): padded with zero values', () => {
  const names = agentElementNames(6).slice(0, 36); // up to flowType
  const p = new Preprocessor();
  const n = p.normalize(agentRecord(6, { ...FLOW, sourceAddress: 'fd00::1', destinationAddress: 'fd00::2', destinationClusterIP: '::' }, customTemplate(names)));
  assert.ok(!(n instanceof IpfixError));
  assert.equal(n.family, 6);
  assert.deepEqual(n.values.slice(36), ['', '', '', '', '', '::']);
  assert.equal(n.values[A.octetTotalCount], 1000n);
});

test('reordered elements, reduced-size counters and an unknown enterprise element', () => {
  const names = [...agentElementNames(4)].reverse();
  const specs = names.map((n) => (n === 'octetTotalCount' ? { name: n, length: 4 } : n));
  const t = customTemplate(specs);
  const withUnknown = new Template(301, [
    ...t.fields,
    { ie: unknownElement(PEN_ANTREA, 999, 4), length: 4, known: false } satisfies TemplateField,
  ]);
  const p = new Preprocessor();
  for (const template of [t, withUnknown]) {
    const n = p.normalize(agentRecord(4, { ...FLOW, unknown_56506_999: new Uint8Array([1, 2, 3, 4]) }, template));
    assert.ok(!(n instanceof IpfixError));
    const canonical = agentRecord(4, FLOW).values;
    assert.deepEqual(n.values, canonical);
  }
  assert.equal(defaultModel.get(PEN_ANTREA, 999), undefined, 'the extra element is really unknown to the model');
});

test('records without a flow key are rejected and counted, never aggregated', () => {
  const agg = new AggregationProcess({ sink: () => {} });
  const noPort = customTemplate(agentElementNames(4).filter((n) => n !== 'destinationTransportPort'));
  const err = agg.ingest(agentRecord(4, FLOW, noPort));
  assert.ok(err instanceof IpfixError);
  assert.equal(err.code, 'NOT_A_FLOW_RECORD');
  assert.match(err.message, /destinationTransportPort/);
  const noAddress = customTemplate(['octetDeltaCount', 'flowStartSeconds']);
  assert.ok(agg.ingest(agentRecord(4, { octetDeltaCount: 5n, flowStartSeconds: 1 }, noAddress)) instanceof IpfixError);
  const st = agg.stats();
  assert.deepEqual([st.recordsReceived, st.recordsDropped, st.numFlows], [2, 2, 0]);
});

test('an inter-Node flow whose Nodes run different agent versions is correlated', () => {
  const exported: AggregatedFlow[] = [];
  let now = 1_000_000;
  const agg = new AggregationProcess({ sink: (f) => exported.push(f), now: () => now });
  const oldAgent = customTemplate(agentElementNames(4).filter((n) => !['appProtocolName', 'httpVals', 'egressNodeName', 'destinationClusterIPv4'].includes(n)));
  assert.equal(agg.ingest(agentRecord(4, { ...FLOW, sourcePodName: 'client', sourceNodeName: 'n1' }, oldAgent)), null);
  now += 1000;
  assert.equal(agg.ingest(agentRecord(4, {
    ...FLOW, destinationPodName: 'server', destinationNodeName: 'n2', flowEndSeconds: 111, proxySnatPort: 0,
  }, customTemplate(HEAD_V4))), null);
  assert.equal(agg.expire(), 1);
  const f = exported[0];
  assert.equal(f.correlationState, 'correlated');
  assert.deepEqual([f.sourcePodName, f.destinationPodName, f.sourceNodeName, f.destinationNodeName], ['client', 'server', 'n1', 'n2']);
  assert.equal(f.family, 4);
  if (f.family === 4) assert.equal(f.destinationClusterIPv4, '10.96.0.1', 'correlated from the newer agent: the old one had none');
  assert.equal(agg.stats().recordsPreprocessed, 2);
});
