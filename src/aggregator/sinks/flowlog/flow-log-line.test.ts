import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleFlow } from '../testing/aggregated-flows.ts';
import { toFlowRow } from '../to-flow-row.ts';
import { compileFlowLogFilters } from './filters.ts';
import { csvField, FLOW_LOG_COLUMNS, flowLogLine } from './flow-log-line.ts';
import { policyTypeName, protocolName, ruleActionName } from './pretty-print.ts';

/** The record of Antrea's flowlogger test (flowrecord testing PrepareTestFlowRecord), as a flow. */
const upstreamRecord = sampleFlow(4, 0, {
  flowStartSeconds: 1637706961, flowEndSeconds: 1637706973,
  sourceIPv4Address: '10.10.0.79', destinationIPv4Address: '10.10.0.80', sourceTransportPort: 44752, destinationTransportPort: 5201,
  protocolIdentifier: 6, sourcePodName: 'perftest-a', sourcePodNamespace: 'antrea-test', sourceNodeName: 'k8s-node-control-plane',
  destinationPodName: 'perftest-b', destinationPodNamespace: 'antrea-test-b', destinationNodeName: 'k8s-node-control-plane-b',
  destinationClusterIPv4: '10.10.1.10', destinationServicePort: 5202, destinationServicePortName: 'perftest',
  ingressNetworkPolicyName: 'test-flow-aggregator-networkpolicy-ingress-allow', ingressNetworkPolicyNamespace: 'antrea-test-ns',
  ingressNetworkPolicyRuleName: 'test-flow-aggregator-networkpolicy-rule', ingressNetworkPolicyRuleAction: 2, ingressNetworkPolicyType: 1,
  egressNetworkPolicyName: 'test-flow-aggregator-networkpolicy-egress-allow', egressNetworkPolicyNamespace: 'antrea-test-ns-e',
  egressNetworkPolicyRuleName: 'test-flow-aggregator-networkpolicy-rule-e', egressNetworkPolicyRuleAction: 5, egressNetworkPolicyType: 4,
  egressName: 'test-egress', egressIP: '172.18.0.1', appProtocolName: 'http', httpVals: 'mockHttpString', egressNodeName: 'test-egress-node',
});

describe('flow log lines', () => {
  it('match upstream flowlogger output, with and without prettyPrint', () => {
    const row = toFlowRow(upstreamRecord, '');
    // Expected strings as in Antrea's pkg/flowaggregator/flowlogger/logger_test.go.
    assert.equal(flowLogLine(row, true),
      '1637706961,1637706973,10.10.0.79,10.10.0.80,44752,5201,TCP,perftest-a,antrea-test,k8s-node-control-plane,perftest-b,antrea-test-b,k8s-node-control-plane-b,10.10.1.10,5202,perftest,test-flow-aggregator-networkpolicy-ingress-allow,antrea-test-ns,test-flow-aggregator-networkpolicy-rule,Drop,K8sNetworkPolicy,test-flow-aggregator-networkpolicy-egress-allow,antrea-test-ns-e,test-flow-aggregator-networkpolicy-rule-e,Invalid,Invalid,test-egress,172.18.0.1,http,mockHttpString,test-egress-node\n');
    assert.equal(flowLogLine(row, false),
      '1637706961,1637706973,10.10.0.79,10.10.0.80,44752,5201,6,perftest-a,antrea-test,k8s-node-control-plane,perftest-b,antrea-test-b,k8s-node-control-plane-b,10.10.1.10,5202,perftest,test-flow-aggregator-networkpolicy-ingress-allow,antrea-test-ns,test-flow-aggregator-networkpolicy-rule,2,1,test-flow-aggregator-networkpolicy-egress-allow,antrea-test-ns-e,test-flow-aggregator-networkpolicy-rule-e,5,4,test-egress,172.18.0.1,http,mockHttpString,test-egress-node\n');
    assert.equal(FLOW_LOG_COLUMNS.length, 31);
  });

  it('write IPv6 addresses and the zero ClusterIP for flows not to a Service', () => {
    const line = flowLogLine(toFlowRow(sampleFlow(6, 1, { destinationServicePortName: '', destinationServicePort: 0 }), ''), true);
    const fields = line.trimEnd().split(',');
    assert.equal(fields.length, 31);
    assert.deepEqual(fields.slice(2, 4), ['fd00:10:244::2', 'fd00:10:244:1::50']);
    assert.deepEqual(fields.slice(13, 16), ['::', '0', '']);
  });

  it('quote a field only when it holds a comma, a quote or a line break', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('{"0":"GET /a","1":"GET /b"}'), '"{""0"":""GET /a"",""1"":""GET /b""}"');
    assert.equal(csvField('a\nb'), '"a\nb"');
    const line = flowLogLine(toFlowRow(sampleFlow(4, 0, { httpVals: '{"0":"x","1":"y"}' }), ''), true);
    assert.ok(line.includes(',"{""0"":""x"",""1"":""y""}",'));
  });

  it('pretty-print names as upstream', () => {
    assert.deepEqual([1, 6, 17, 58, 132, 2, 47].map(protocolName), ['ICMP', 'TCP', 'UDP', 'IPv6-ICMP', 'SCTP', 'Unknown Protocol', 'Unknown Protocol']);
    assert.deepEqual([0, 1, 2, 3, 4].map(ruleActionName), ['', 'Allow', 'Drop', 'Reject', 'Invalid']);
    assert.deepEqual([0, 1, 2, 3, 4].map(policyTypeName), ['', 'K8sNetworkPolicy', 'AntreaNetworkPolicy', 'AntreaClusterNetworkPolicy', 'Invalid']);
  });
});

describe('flow log filters', () => {
  const flow = (ingress: number, egress: number) => ({ ingressNetworkPolicyRuleAction: ingress, egressNetworkPolicyRuleAction: egress });

  it('log everything without filters', () => {
    const f = compileFlowLogFilters([]);
    assert.ok(f(flow(0, 0)) && f(flow(2, 3)));
  });

  it('log a flow matching any filter; each non-empty list must contain the action', () => {
    const f = compileFlowLogFilters([
      { ingressNetworkPolicyRuleActions: ['Drop', 'Reject'], egressNetworkPolicyRuleActions: [] },
      { ingressNetworkPolicyRuleActions: ['None'], egressNetworkPolicyRuleActions: ['Drop'] },
    ]);
    assert.equal(f(flow(2, 0)), true, 'ingress drop, first filter');
    assert.equal(f(flow(3, 1)), true, 'ingress reject, first filter');
    assert.equal(f(flow(0, 2)), true, 'egress drop with no ingress rule, second filter');
    assert.equal(f(flow(1, 2)), false, 'egress drop but ingress allow');
    assert.equal(f(flow(0, 0)), false);
    assert.equal(f(flow(1, 1)), false);
  });
});
